package console_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/console/consoletest"
)

// offSite are sign-in targets a browser would follow to another site,
// each with its own way past a check made before cleaning or unescaping.
var offSite = []string{
	"/ispm/../\\evil.example",
	"/ispm/../%5Cevil.example",
	"/ispm/../%255Cevil.example",
	"/\\evil.example",
	"/\t/evil.example",
	"/\r/evil.example",
	"/\n/evil.example",
	"/%09/evil.example",
	"/%0D/evil.example",
	"/ispm/%2F%2E%2E/%5C%5Cevil.example",
	"//evil.example",
	"///evil.example",
	"/./\\evil.example",
	"https://evil.example/",
	"\t//evil.example",
}

// TestSignInNoOffSiteRedirect checks that neither the sign-in form nor a
// signed-in visit to /login sends the browser to a next page that is not a
// path on this site: /login?next=/ispm/../%5Cevil.example used to redirect
// to /\evil.example, which browsers follow off-site.
func TestSignInNoOffSiteRedirect(t *testing.T) {
	w := consoletest.New(t, consoletest.Options{Logger: testLogger(t)})
	signedIn := w.Client(t, auth.RoleSuperAdmin)
	onSite := func(loc string) bool {
		return loc == "/ispm" || strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//") &&
			!strings.ContainsAny(loc, "\\\t\r\n") && !strings.Contains(strings.ToLower(loc), "%5c")
	}
	for _, next := range offSite {
		pg := post(t, anonymous(), w.URL+"/login", url.Values{"username": {"admin"}, "password": {consoletest.Password}, "next": {next}})
		if pg.Status != 303 || pg.Location != "/ispm" {
			t.Errorf("sign in with next=%q: %d to %q; want 303 to the landing page", next, pg.Status, pg.Location)
		}
		pg = get(t, signedIn, w.URL+"/login?next="+url.QueryEscape(next))
		if pg.Status != 303 || !onSite(pg.Location) {
			t.Errorf("GET /login?next=%q signed in: %d to %q; want a path on this site", next, pg.Status, pg.Location)
		}
	}
	// The same query string as a browser sends it, unescaped once by the server.
	pg := get(t, signedIn, w.URL+"/login?next=/ispm/../%5Cevil.example")
	if pg.Status != 303 || pg.Location != "/ispm" {
		t.Errorf("GET /login?next=/ispm/../%%5Cevil.example: %d to %q; want /ispm", pg.Status, pg.Location)
	}
	// A page on this site is still where sign-in leads.
	pg = post(t, anonymous(), w.URL+"/login", url.Values{"username": {"admin"}, "password": {consoletest.Password},
		"next": {"/ispm/../workflows/history?status=faulted"}})
	if pg.Status != 303 || pg.Location != "/workflows/history?status=faulted" {
		t.Errorf("sign in with a local next: %d to %q", pg.Status, pg.Location)
	}
}
