package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/console/consoletest"
	"github.com/vigil-ispm/vigil/internal/posture/detect"
	"github.com/vigil-ispm/vigil/internal/posture/graph"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// openIssues is how many open issues the timing test stores: the number the
// console promises to serve every page under 200 ms of server time for.
const openIssues = 10_000

// TestPageTimesWith10000OpenIssues fills each database with 10,000 open
// issues and measures the server time of the ISPM pages, calling the
// console's handler directly (no network, no browser). It reports the
// numbers; it asserts only that every page answers completely, since wall
// time on a shared machine is no test of correctness. See
// BenchmarkIssueListPage for the repeatable measure.
func TestPageTimesWith10000OpenIssues(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w, cookie := bigWorld(t, st)
		firstID := firstIssue(t, w)
		pages := []string{
			"/ispm",
			"/ispm/issues",
			"/ispm/issues?severity=High",
			"/ispm/issues?category=MFA&product=Okta",
			"/ispm/issues?title=Unused+Admin+Account",
			"/ispm/issues?q=person-04242",
			"/ispm/issues?offset=9950",
			"/ispm/issues?status=all&offset=9950",
			"/ispm/issues/" + firstID,
		}
		const runs = 5
		for _, p := range pages {
			var times []time.Duration
			for range runs {
				req := httptest.NewRequest(http.MethodGet, w.URL+p, nil)
				req.AddCookie(cookie)
				rec := httptest.NewRecorder()
				start := time.Now()
				w.Console.ServeHTTP(rec, req)
				times = append(times, time.Since(start))
				if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "</html>") {
					t.Fatalf("GET %s: status %d", p, rec.Code)
				}
			}
			slices.Sort(times)
			t.Logf("GET %-45s median %7.1f ms, max %7.1f ms (%d runs, %d open issues)", p,
				ms(times[runs/2]), ms(times[runs-1]), runs, openIssues)
		}
	})
}

// BenchmarkIssueListPage measures the issue list's server time with 10,000
// open issues on SQLite.
func BenchmarkIssueListPage(b *testing.B) {
	w, cookie := bigWorld(b, storetest.SQLite(b))
	for _, p := range []string{"/ispm", "/ispm/issues", "/ispm/issues?q=person-04242"} {
		b.Run(p, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, w.URL+p, nil)
				req.AddCookie(cookie)
				rec := httptest.NewRecorder()
				w.Console.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// bigWorld is a world whose database holds openIssues open issues, and a
// session cookie of its super admin.
func bigWorld(t testing.TB, st *store.Store) (*consoletest.World, *http.Cookie) {
	t.Helper()
	w := consoletest.New(t, consoletest.Options{Store: st, NoQueue: true})
	ctx := context.Background()
	cat := detect.Catalog()
	products := []struct {
		p      graph.Product
		tenant string
	}{{graph.ProductOkta, "acme.okta.com"}, {graph.ProductAAD, "acme.onmicrosoft.com"}, {graph.ProductGoogle, "acme.com"},
		{graph.ProductSalesforce, "acme.my.salesforce.com"}, {graph.ProductAWS, "123456789012"}}
	findings := make([]detect.Finding, 0, openIssues)
	for i := range openIssues {
		d := cat[i%len(cat)]
		pr := products[i%len(products)]
		login := fmt.Sprintf("person-%05d", i)
		key := detect.AccountKey(pr.p, pr.tenant, "id-"+login)
		findings = append(findings, detect.Finding{
			Title: d.Title, Category: d.Category, Severity: d.Severity,
			ShortDescription: d.Title + " on " + login, FullDescription: d.FullDescription,
			SuggestedRemediation: d.SuggestedRemediation, RiskAndImpact: d.RiskAndImpact,
			Entity: detect.Entity{Type: detect.EntityAccount, Key: key, DisplayName: "Person " + login,
				IDInService: "id-" + login, IdentifierInService: login + "@example.com",
				SourceProductName: pr.p, SourceProductTenant: pr.tenant,
				AdditionalData: detect.AdditionalData{Username: login + "@example.com", Types: []detect.TypeReasons{},
					UnrotatedTokens: []detect.Token{}, ActiveAccounts: []detect.AccountRef{}}},
			Fingerprint: detect.Fingerprint(d.Title, key), Source: "synthetic", Sources: []string{"synthetic"},
		})
	}
	start := time.Now()
	err := st.InTx(ctx, func(tx *store.Tx) error {
		_, err := w.Issues.Reconcile(ctx, tx, issue.Scan{ID: "scn_big", Scopes: map[string]string{"synthetic": "src_synthetic"}, Findings: findings})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stored %d open issues in %s", openIssues, time.Since(start).Round(time.Millisecond))
	u, err := w.Auth.UserByName(ctx, consoletest.Users[auth.RoleSuperAdmin])
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := w.Auth.StartSession(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	return w, &http.Cookie{Name: auth.SessionCookie, Value: token}
}

func firstIssue(t *testing.T, w *consoletest.World) string {
	t.Helper()
	page, err := w.Issues.List(context.Background(), issue.Filter{Limit: 1})
	if err != nil || len(page.Issues) == 0 {
		t.Fatalf("no issue: %v", err)
	}
	return page.Issues[0].ID
}
