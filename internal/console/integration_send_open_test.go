package console_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/console/consoletest"
	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/hooks"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestAutomationSendsTheOpenIssuesOnce turns automation on with "Also send
// the issues open now" on both databases: exactly the open issues of the
// chosen titles are queued, once each, as issue.created; an acknowledged
// issue of a chosen title and the issues of other titles are not; saving
// again with the box checked queues nothing more; an automation saved
// without it queues nothing.
func TestAutomationSendsTheOpenIssuesOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := consoletest.New(t, consoletest.Options{Store: st, Logger: testLogger(t)})
		admin := w.Client(t, auth.RoleSuperAdmin)
		seedIssues(t, w, 12)
		list, err := w.Issues.List(ctx, issue.Filter{Limit: -1})
		if err != nil || len(list.Issues) != 12 {
			t.Fatalf("issues: %d, %v", len(list.Issues), err)
		}
		all := list.Issues
		chosen := []string{all[0].Data.Title, all[1].Data.Title, all[2].Data.Title}
		if err := w.Issues.Acknowledge(ctx, all[2].ID, issue.Note{By: "test"}); err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, is := range all {
			if is.ID != all[2].ID && slices.Contains(chosen, is.Data.Title) {
				want = append(want, is.ID)
			}
		}
		slices.Sort(want)

		sent := func(hookID string) []string {
			t.Helper()
			ds, err := w.Hooks.Deliveries(ctx, hooks.DeliveryFilter{Hook: hookID, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, d := range ds {
				if d.EventType != event.TypeCreated {
					t.Errorf("a delivery of type %s, want %s", d.EventType, event.TypeCreated)
				}
				ids = append(ids, d.IssueID)
			}
			slices.Sort(ids)
			return ids
		}
		automate := func(hookID string, sendOpen bool) page {
			t.Helper()
			form := url.Values{"auto_send": {"on"}, "title": chosen}
			if sendOpen {
				form.Set("send_open", "on")
			}
			pg := post(t, admin, w.URL+"/ispm/settings/integrations/"+hookID+"/automation", form)
			if pg.Status != http.StatusSeeOther {
				t.Fatalf("save automation: status %d: %.300s", pg.Status, pg.Body)
			}
			return get(t, admin, w.URL+pg.Location)
		}

		h, _, err := w.Hooks.Create(ctx, hooks.Input{Name: "Backfill", URL: "http://127.0.0.1:9/hook"})
		if err != nil {
			t.Fatal(err)
		}
		if msg := automate(h.ID, true).Body; !strings.Contains(msg, strconv.Itoa(len(want))+" open issues are queued to be sent now.") {
			t.Errorf("the flash does not say %d issues were queued: %s", len(want), section(msg, "flash"))
		}
		if got := sent(h.ID); !slices.Equal(got, want) {
			t.Errorf("sent the issues %v, want exactly the open ones of the chosen titles %v", got, want)
		}
		if msg := automate(h.ID, true).Body; !strings.Contains(msg, "0 open issues are queued") {
			t.Errorf("the second save does not say nothing more was queued: %s", section(msg, "flash"))
		}
		if got := sent(h.ID); !slices.Equal(got, want) {
			t.Errorf("after saving again: sent %v, want still %v, once each", got, want)
		}

		quiet, _, err := w.Hooks.Create(ctx, hooks.Input{Name: "Quiet", URL: "http://127.0.0.1:9/other"})
		if err != nil {
			t.Fatal(err)
		}
		automate(quiet.ID, false)
		if got := sent(quiet.ID); len(got) != 0 {
			t.Errorf("an automation saved without the box sent %v", got)
		}
	})
}
