package console_test

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/console/consoletest"
	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/posture/detect"
	"github.com/vigil-ispm/vigil/internal/posture/graph"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// openIssues is how many open issues BenchmarkPagesWith10000OpenIssues
// stores: the number the console promises to serve every page under 200 ms
// of server time for.
const openIssues = 10_000

// TestPagesAnswer fills each database as a small installation's (see
// fullWorld) and asks every page of the console once, calling its handler
// directly: each GET route of the route table in routes.go is asked, with
// the filters and deep pages that read the most, or is listed in
// unmeasuredRoutes with the reason, so that a new page cannot be left out
// of the benchmark; and each answers completely. Times are measured by
// BenchmarkPagesWith10000OpenIssues, since wall time on a shared machine is
// no test of correctness.
func TestPagesAnswer(t *testing.T) {
	routes := getRoutes(t)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		fw := newFullWorld(t, st, 300)
		probes := timedPages(t, fw)
		checkCoverage(t, routes, probes)
		for _, route := range routes {
			for _, p := range probes[route] {
				servePage(t, fw, p)
			}
		}
	})
}

// BenchmarkPagesWith10000OpenIssues measures the server time of every page
// of the console (those TestPagesAnswer asks), one sub-benchmark each, with
// the database filled as a busy installation's: 10,000 open issues, a
// delivery and a flow execution for each.
func BenchmarkPagesWith10000OpenIssues(b *testing.B) {
	routes := getRoutes(b)
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			fw := newFullWorld(b, storetest.Open(b, db), openIssues)
			probes := timedPages(b, fw)
			checkCoverage(b, routes, probes)
			for _, route := range routes {
				for _, p := range probes[route] {
					b.Run(cursorParam.ReplaceAllString(p.path, "after=KEY"), func(b *testing.B) {
						for b.Loop() {
							servePage(b, fw, p)
						}
					})
				}
			}
		})
	}
}

// checkCoverage fails t unless probes ask every GET route of routes that
// unmeasuredRoutes does not list, and only routes of the table.
func checkCoverage(t testing.TB, routes []string, probes map[string][]probe) {
	t.Helper()
	for route := range probes {
		if !slices.Contains(routes, route) {
			t.Errorf("the page list asks %q, which the route table does not have", route)
		}
	}
	for route := range unmeasuredRoutes {
		if !slices.Contains(routes, route) {
			t.Errorf("the page list leaves out %q, which the route table does not have", route)
		}
	}
	for _, route := range routes {
		if _, ok := unmeasuredRoutes[route]; !ok && len(probes[route]) == 0 {
			t.Errorf("the page list does not ask the page %q: add it to timedPages, or to unmeasuredRoutes with the reason", route)
		}
	}
}

// servePage asks fw's console for p and fails t unless the page is
// served completely.
func servePage(t testing.TB, fw *fullWorld, p probe) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, fw.w.URL+p.path, nil)
	if !p.anonymous {
		req.AddCookie(fw.cookie)
	}
	rec := httptest.NewRecorder()
	fw.w.Console.ServeHTTP(rec, req)
	if body := rec.Body.String(); rec.Code != http.StatusOK || !strings.Contains(body, p.marker) || (p.html && !strings.Contains(body, "</html>")) {
		t.Fatalf("GET %s: status %d, want 200 with %q: %.400s", p.path, rec.Code, p.marker, body)
	}
}

// unmeasuredRoutes are the GET routes the timing test leaves out, and why.
var unmeasuredRoutes = map[string]string{
	"GET /static/{file...}": "a file embedded in the binary, not a page: it reads no database",
	"GET /{$}":              "a redirect to the user's first page, which is measured",
	"GET /workflows":        "a redirect to /workflows/flows, which is measured",
}

// probe is one request of the timing test: a path of a route and what the
// answer must contain to count as the page, served completely.
type probe struct {
	path   string
	marker string
	// html pages must also end with the layout's </html>.
	html bool
	// anonymous requests are sent without the session cookie.
	anonymous bool
}

// timedPages returns the requests of the timing test by route: each page,
// its filters and its deep pages, with ids from fw.
func timedPages(t testing.TB, fw *fullWorld) map[string][]probe {
	t.Helper()
	ctx := context.Background()
	title := func(s string) string { return "<title>" + html.EscapeString(s) + " · Vigil</title>" }
	pages := func(marker string, paths ...string) []probe {
		out := make([]probe, len(paths))
		for i, p := range paths {
			out[i] = probe{path: p, marker: marker, html: true}
		}
		return out
	}
	is, err := fw.w.Issues.Get(ctx, fw.issueID)
	if err != nil {
		t.Fatal(err)
	}
	route, err := fw.w.Flows.Flow(ctx, fw.routeID)
	if err != nil {
		t.Fatal(err)
	}
	folder, err := fw.w.Flows.Folder(ctx, fw.folderID)
	if err != nil {
		t.Fatal(err)
	}
	table, err := fw.w.Flows.Table(ctx, "", fw.tableID)
	if err != nil {
		t.Fatal(err)
	}
	hook := "/ispm/settings/integrations/" + fw.hookID
	// The first page of a table shows its newest row.
	newestRow := title(table.Name)
	for _, c := range table.Columns {
		if c.Type == catalog.ColText {
			newestRow = fmt.Sprintf("%s %d: Okta answered 503", c.Name, tableRows-1)
			break
		}
	}
	return map[string][]probe{
		"GET /login": {{path: "/login", marker: title("Sign in"), html: true, anonymous: true}},
		"GET /ispm":  pages(title("Dashboard"), "/ispm"),
		"GET /ispm/issues": pages(title("Issues"), append([]string{
			"/ispm/issues",
			"/ispm/issues?severity=High",
			"/ispm/issues?category=MFA&product=Okta",
			"/ispm/issues?title=Unused+Admin+Account",
			"/ispm/issues?q=person-04242",
			fmt.Sprintf("/ispm/issues?offset=%d", fw.open-50),
			fmt.Sprintf("/ispm/issues?status=all&offset=%d", fw.open-50),
		}, lastPagesByKey(t, fw.w)...)...),
		"GET /ispm/issues/{id}":                   pages(title(is.Data.Title), "/ispm/issues/"+fw.issueID),
		"GET /ispm/sources":                       pages(title("Sources"), "/ispm/sources"),
		"GET /ispm/sources/new":                   pages(title("Add a source"), "/ispm/sources/new", "/ispm/sources/new?kind=okta"),
		"GET /ispm/sources/{name}/edit":           pages(title("Edit source "+fw.sourceName), "/ispm/sources/"+fw.sourceName+"/edit"),
		"GET /ispm/scans/{id}":                    pages(title("Scan"), "/ispm/scans/"+fw.scanID),
		"GET /ispm/scans/{id}/progress":           {{path: "/ispm/scans/" + fw.scanID + "/progress", marker: `"finished":true`}},
		"GET /ispm/settings/integrations":         pages(title("Outbound integrations"), "/ispm/settings/integrations"),
		"GET /ispm/settings/integrations/webhook": pages(title("Connect a webhook"), "/ispm/settings/integrations/webhook"),
		"GET /ispm/settings/integrations/{id}": pages(title("Routing flow"), hook, hook+"?status=dead", hook+"?status=delivered",
			hook+"?before="+fw.deepDelivery),
		"GET /ispm/settings/integrations/{id}/edit": pages(title("Edit Routing flow"), hook+"/edit"),
		"GET /ispm/settings/integrations/{id}/deliveries/{did}": pages(title("Delivery"),
			hook+"/deliveries/"+fw.deliveryID, hook+"/deliveries/"+fw.deadID),
		"GET /workflows/templates": pages(title("Templates"), "/workflows/templates",
			"/workflows/templates?q=ispm&t=identity-security-posture-management"),
		"GET /workflows/flows":               append(pages(title("Flows"), "/workflows/flows"), pages(title(folder.Name), "/workflows/flows?folder="+fw.folderID)...),
		"GET /workflows/flows/new":           pages(title("New flow"), "/workflows/flows/new"),
		"GET /workflows/flows/{id}":          pages(title(route.Title), "/workflows/flows/"+fw.routeID),
		"GET /workflows/flows/{id}/endpoint": pages("curl -X POST", "/workflows/flows/"+fw.routeID+"/endpoint"),
		"GET /workflows/flows/{id}/builder":  pages(title(route.Title+" · builder"), "/workflows/flows/"+fw.routeID+"/builder"),
		"GET /workflows/history": pages(title("Flow history"), "/workflows/history", "/workflows/history?status=faulted",
			"/workflows/history?duration=gt1m", "/workflows/history?flow="+fw.routeID+"&status=succeeded&duration=lt1s",
			"/workflows/history?before="+fw.deepExecution),
		"GET /workflows/executions/{id}": pages(title("Execution of "+route.Title), "/workflows/executions/"+fw.executionID),
		"GET /workflows/approvals":       pages(title("Approvals"), "/workflows/approvals", "/workflows/approvals?status=all"),
		"GET /workflows/connections":     pages(title("Connections"), "/workflows/connections"),
		"GET /ispm/identities": pages(title("Identities"), "/ispm/identities", "/ispm/identities?privileged=true&mfa=none",
			"/ispm/identities?view=accounts", "/ispm/identities?minIssues=1&activity=inactive"),
		"GET /ispm/identities/{id}":              {{path: "/ispm/identities/" + fw.personID, marker: `data-testid="person-issues"`}},
		"GET /workflows/alerts":                  pages(title("Failure notifications"), "/workflows/alerts"),
		"GET /workflows/connections/new":         pages(title("Add a connection"), "/workflows/connections/new", "/workflows/connections/new?type=okta"),
		"GET /workflows/connections/{name}/edit": pages(title("Edit the connection Okta"), "/workflows/connections/Okta/edit"),
		"GET /workflows/tables":                  pages(title("Tables"), "/workflows/tables"),
		"GET /workflows/tables/{id}": append(pages(newestRow, "/workflows/tables/"+fw.tableID, "/workflows/tables/"+fw.tableID+"?q=okta"),
			pages(title(table.Name), "/workflows/tables/"+fw.tableID+"?offset=1950")...),
		"GET /workflows/tables/{id}/export": {{path: "/workflows/tables/" + fw.tableID + "/export", marker: newestRow}},
		"GET /admin/users":                  pages(title("Users and roles"), "/admin/users"),
		"GET /admin/tokens":                 pages(title("API tokens"), "/admin/tokens"),
		"GET /admin/password":               pages(title("Change your password"), "/admin/password"),
		"GET /admin/settings":               pages(title("Settings"), "/admin/settings"),
		"GET /admin/audit":                  pages(title("Audit log"), "/admin/audit", "/admin/audit?action=issue"),
	}
}

// getRoutes returns the GET patterns of the console's route table, in its
// order, read from the source of routes.go.
func getRoutes(t testing.TB) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "routes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") {
			return true
		}
		lit, ok := call.Args[0].(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		pattern, err := strconv.Unquote(lit.Value)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(pattern, "GET ") {
			out = append(out, pattern)
		}
		return true
	})
	if len(out) < 30 {
		t.Fatalf("read %d GET routes from routes.go; is the route table elsewhere now?", len(out))
	}
	return out
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
	seedIssues(t, w, n)
	return w, adminCookie(t, w)
}

// seedIssues stores n open issues of every title, on accounts of every
// product, all detected at once by one scan of a "synthetic" source.
func seedIssues(t testing.TB, w *consoletest.World, n int) {
	t.Helper()
	ctx := context.Background()
	st := w.Store
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
}

// lastPagesByKey returns the paths of the last page of open issues and of
// issues of any status, reached by the Next cursor of the page before, as the
// console's pager links them.
func lastPagesByKey(t testing.TB, w *consoletest.World) []string {
	t.Helper()
	var out []string
	for _, status := range []string{"", "all"} {
		f := issue.Filter{Limit: 50, Offset: countOpen(t, w) - 100}
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
