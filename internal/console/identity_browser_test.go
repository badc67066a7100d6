package console_test

import (
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/console/browsertest"
	"github.com/vigil-ispm/vigil/internal/console/consoletest"
)

// TestBrowserFindsAnAdminWithoutMFA scans a synthetic organization with
// the real source service, then, in chromium, goes from the header to
// Identities, filters on admin accounts without MFA, opens the first
// person and finds there the admin account without MFA and its "No MFA"
// issue.
func TestBrowserFindsAnAdminWithoutMFA(t *testing.T) {
	w := consoletest.New(t, consoletest.Options{Logger: testLogger(t)})
	w.ScanSynthetic(t, "org", 60, 3)

	b := browsertest.NewBrowser(t, w.URL)
	b.Open("/login")
	b.Type("#username", consoletest.Users["super_admin"])
	b.Type("#password", consoletest.Password)
	b.Follow(".login button[type=submit]")
	b.Follow(`a[href="/ispm/identities"]`)
	all := b.Text(`[data-testid="identity-total"]`)
	browsertest.Eval[bool](b, `(() => { document.querySelector("#privileged").value = "true"; document.querySelector("#mfa").value = "none"; return true })()`)
	b.Follow(`form[role=search] button[type=submit]`)
	b.Shot("identities-admins-without-mfa")
	filtered := b.Text(`[data-testid="identity-total"]`)
	if filtered == all || strings.HasPrefix(filtered, "0 ") {
		t.Fatalf("admins without MFA: %q of %q; want some, not everyone", filtered, all)
	}
	name := b.Text(`[data-testid="people-list"] tbody tr:first-child td:first-child a`)
	b.Follow(`[data-testid="people-list"] tbody tr:first-child td:first-child a`)
	b.Shot("identity-person")
	if h := b.Text("h1"); !strings.HasPrefix(h, name) {
		t.Errorf("opened %q, want the person %q", h, name)
	}
	rows := browsertest.Eval[[]string](b, `Array.from(document.querySelectorAll('[data-testid="person-accounts"] tbody tr')).map(r => r.innerText)`)
	found := false
	for _, r := range rows {
		if cols := strings.Split(r, "\t"); len(cols) > 5 && strings.Contains(cols[3], "dmin") && strings.HasPrefix(cols[4], "None") && cols[5] == "Active" {
			found = true
		}
	}
	if !found {
		t.Errorf("the person page lists no active admin account without MFA: %q", rows)
	}
	if issues := b.Text(`[data-testid="person-issues"]`); !strings.Contains(issues, "No MFA - ") {
		t.Errorf("the person page does not list the No MFA issue: %q", issues)
	}
}
