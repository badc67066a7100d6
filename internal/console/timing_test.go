package console_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
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
		pages := append([]string{
			"/ispm",
			"/ispm/issues",
			"/ispm/issues?severity=High",
			"/ispm/issues?category=MFA&product=Okta",
			"/ispm/issues?title=Unused+Admin+Account",
			"/ispm/issues?q=person-04242",
			"/ispm/issues?offset=9950",
			"/ispm/issues?status=all&offset=9950",
		}, lastPagesByKey(t, w)...)
		pages = append(pages, "/ispm/issues/"+firstID)
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
			t.Logf("GET %-45s median %7.1f ms, max %7.1f ms (%d runs, %d open issues)", cursorParam.ReplaceAllString(p, "after=KEY"),
				ms(times[runs/2]), ms(times[runs-1]), runs, openIssues)
		}
	})
}

// BenchmarkIssueListPage measures the server time of the dashboard and
// the issue list, first and deep pages, with 10,000 open issues on SQLite
// and PostgreSQL.
func BenchmarkIssueListPage(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			w, cookie := bigWorld(b, storetest.Open(b, db))
			pages := append([]string{
				"/ispm",
				"/ispm/issues",
				"/ispm/issues?q=person-04242",
				"/ispm/issues?offset=9950",
				"/ispm/issues?status=all&offset=9950",
			}, lastPagesByKey(b, w)...)
			for _, p := range pages {
				b.Run(cursorParam.ReplaceAllString(p, "after=KEY"), func(b *testing.B) {
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
		})
	}
}

// TestIssueListPagesByKey follows the issue list's pager through 120 open
// issues and back, and checks that it shows every issue once, in the
// service's order, with the page's place in the list.
func TestIssueListPagesByKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w, cookie := issueWorld(t, st, 120)
		whole, err := w.Issues.List(context.Background(), issue.Filter{Statuses: []issue.Status{issue.StatusOpen}, Limit: -1})
		if err != nil {
			t.Fatal(err)
		}
		want := make([]string, len(whole.Issues))
		for i, is := range whole.Issues {
			want[i] = is.ID
		}
		fetch := func(p string) (body string, ids []string) {
			t.Helper()
			req := httptest.NewRequest(http.MethodGet, w.URL+p, nil)
			req.AddCookie(cookie)
			rec := httptest.NewRecorder()
			w.Console.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("GET %s: status %d", p, rec.Code)
			}
			body = rec.Body.String()
			for _, m := range issueLink.FindAllStringSubmatch(body, -1) {
				ids = append(ids, m[1])
			}
			return body, ids
		}
		link := func(body, rel string) string {
			m := regexp.MustCompile(`href="([^"]*)" rel="` + rel + `"`).FindStringSubmatch(body)
			if m == nil {
				return ""
			}
			return html.UnescapeString(m[1])
		}

		var got []string
		p := "/ispm/issues"
		var bodies []string
		for n := 1; p != ""; n++ {
			body, ids := fetch(p)
			wantPlace := fmt.Sprintf("Page %d of 3 · %d–%d of 120", n, len(got)+1, len(got)+len(ids))
			if !strings.Contains(body, wantPlace) {
				t.Fatalf("GET %s: no %q", p, wantPlace)
			}
			if n > 1 && !strings.Contains(p, "after=") {
				t.Fatalf("page %d is %s, not paged by key", n, p)
			}
			got = append(got, ids...)
			bodies = append(bodies, body)
			p = link(body, "next")
		}
		if !slices.Equal(got, want) {
			t.Fatalf("pages by Next show %v, want %v", got, want)
		}

		// Back from the last page by Previous.
		back := got[100:]
		for p = link(bodies[2], "prev"); p != ""; {
			body, ids := fetch(p)
			back = append(ids, back...)
			p = link(body, "prev")
		}
		if !slices.Equal(back, want) {
			t.Fatalf("pages by Previous show %v, want %v", back, want)
		}

		// Last goes to the last page; a cursor the list did not give, and an
		// offset past the end, show the first page.
		for _, tc := range []struct{ path, place string }{
			{regexp.MustCompile(`href="([^"]*)">Last`).FindStringSubmatch(bodies[0])[1], "Page 3 of 3 · 101–120 of 120"},
			{"/ispm/issues?after=bogus", "Page 1 of 3 · 1–50 of 120"},
			{"/ispm/issues?before=bogus&after=bogus", "Page 1 of 3 · 1–50 of 120"},
			{"/ispm/issues?offset=5000", "Page 1 of 3 · 1–50 of 120"},
		} {
			if body, _ := fetch(html.UnescapeString(tc.path)); !strings.Contains(body, tc.place) {
				t.Errorf("GET %s: no %q", tc.path, tc.place)
			}
		}
	})
}

// cursorParam finds a page cursor in a path, to name a benchmark.
var cursorParam = regexp.MustCompile(`after=[A-Za-z0-9_-]+`)

// issueLink finds the issues a list page shows.
var issueLink = regexp.MustCompile(`<a href="/ispm/issues/(iss_[0-9A-Z]+)">`)

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// bigWorld is a world whose database holds openIssues open issues, and a
// session cookie of its super admin.
func bigWorld(t testing.TB, st *store.Store) (*consoletest.World, *http.Cookie) {
	t.Helper()
	return issueWorld(t, st, openIssues)
}

// issueWorld is a world whose database holds n open issues of every title,
// all detected at once, and a session cookie of its super admin.
func issueWorld(t testing.TB, st *store.Store, n int) (*consoletest.World, *http.Cookie) {
	t.Helper()
	w := consoletest.New(t, consoletest.Options{Store: st, NoQueue: true})
	ctx := context.Background()
	cat := detect.Catalog()
	products := []struct {
		p      graph.Product
		tenant string
	}{{graph.ProductOkta, "acme.okta.com"}, {graph.ProductAAD, "acme.onmicrosoft.com"}, {graph.ProductGoogle, "acme.com"},
		{graph.ProductSalesforce, "acme.my.salesforce.com"}, {graph.ProductAWS, "123456789012"}}
	findings := make([]detect.Finding, 0, n)
	for i := range n {
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
	t.Logf("stored %d open issues in %s", n, time.Since(start).Round(time.Millisecond))
	if st.Dialect() == store.Postgres {
		// PostgreSQL's autovacuum gathers the planner's statistics and marks
		// pages all-visible soon after a bulk insert; do it now rather than
		// measure plans made without them.
		if _, err := st.DB().ExecContext(ctx, `VACUUM ANALYZE vigil_posture_issue`); err != nil {
			t.Fatal(err)
		}
	}
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

// lastPagesByKey returns the paths of the last page of open issues and of
// issues of any status, reached by the Next cursor of the page before, as the
// console's pager links them.
func lastPagesByKey(t testing.TB, w *consoletest.World) []string {
	t.Helper()
	var out []string
	for _, status := range []string{"", "all"} {
		f := issue.Filter{Limit: 50, Offset: openIssues - 100}
		path := "/ispm/issues?"
		if status == "" {
			f.Statuses = []issue.Status{issue.StatusOpen}
		} else {
			path += "status=" + status + "&"
		}
		page, err := w.Issues.List(context.Background(), f)
		if err != nil || page.Next == "" {
			t.Fatalf("page before the last: next %q, %v", page.Next, err)
		}
		out = append(out, path+"after="+page.Next)
	}
	return out
}

func firstIssue(t *testing.T, w *consoletest.World) string {
	t.Helper()
	page, err := w.Issues.List(context.Background(), issue.Filter{Limit: 1})
	if err != nil || len(page.Issues) == 0 {
		t.Fatalf("no issue: %v", err)
	}
	return page.Issues[0].ID
}
