package hooks

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/httpjson/httpjsontest"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestAPISendOpen saves an automation over the API with sendOpen on both
// databases: the open issues it matches are queued once each, as
// issue.created, to this integration only; saving again queues none.
func TestAPISendOpen(t *testing.T) {
	open := []event.Issue{
		{ID: "iss_a", Title: "Unused Admin Account", Severity: "High", Category: "Least Privilege", AffectedEntity: event.AffectedEntity{SourceProductName: "Okta"}},
		{ID: "iss_b", Title: "Unused Admin Account", Severity: "High", Category: "Least Privilege", AffectedEntity: event.AffectedEntity{SourceProductName: "AAD"}},
		{ID: "iss_c", Title: "No MFA - Account", Severity: "Medium", Category: "MFA", AffectedEntity: event.AffectedEntity{SourceProductName: "Okta"}},
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		b := setup(t, st, func(c *Config) {
			c.OpenIssues = func(context.Context) ([]event.Issue, error) { return open, nil }
		})
		h, _ := b.addHook(t, "WF", "https://example.com/hook")
		other, _ := b.addHook(t, "Other", "https://example.com/other")
		if _, err := b.svc.SetAutomation(ctx, other.ID, AutomationInput{AllTitles: true}); err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		b.svc.RegisterAPI(mux, func(next http.Handler) http.Handler { return next })
		srv := httptest.NewServer(mux)
		defer srv.Close()
		put := func(body string) (int, map[string]any) {
			t.Helper()
			req, _ := http.NewRequest("PUT", srv.URL+"/api/v1/hooks/WF/automation", strings.NewReader(body))
			a := httpjsontest.Do(t, req)
			return a.StatusCode, a.JSON
		}
		sent := func(hookID string) []string {
			t.Helper()
			ds, err := b.svc.Deliveries(ctx, DeliveryFilter{Hook: hookID, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, d := range ds {
				if d.EventType != event.TypeCreated {
					t.Errorf("delivery of type %s", d.EventType)
				}
				ids = append(ids, d.IssueID)
			}
			slices.Sort(ids)
			return ids
		}
		body := `{"titles":["Unused Admin Account"],"products":["Okta"],"sendOpen":true}`
		if status, out := put(body); status != 200 || out["sentNow"] != float64(1) {
			t.Fatalf("first save: %d %v, want 200 with sentNow 1", status, out)
		}
		if got := sent(h.ID); !slices.Equal(got, []string{"iss_a"}) {
			t.Errorf("sent %v, want only the open Okta issue of the title", got)
		}
		if status, out := put(body); status != 200 || out["sentNow"] != float64(0) {
			t.Errorf("second save: %d %v, want 200 with sentNow 0", status, out)
		}
		if got := sent(h.ID); !slices.Equal(got, []string{"iss_a"}) {
			t.Errorf("after the second save: sent %v, want iss_a once", got)
		}
		if got := sent(other.ID); len(got) != 0 {
			t.Errorf("another integration was sent %v", got)
		}
		if status, out := put(`{"titles":["Unused Admin Account"]}`); status != 200 || out["sentNow"] != nil {
			t.Errorf("without sendOpen: %d %v, want no sentNow", status, out)
		}
		if got := sent(h.ID); !slices.Equal(got, []string{"iss_a"}) {
			t.Errorf("without sendOpen: sent %v, want still iss_a only", got)
		}
	})
}
