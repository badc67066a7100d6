package console_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/console/browsertest"
	"github.com/vigil-ispm/vigil/internal/console/consoletest"
)

// signInBrowser opens the sign-in page in chromium and signs in.
func signInBrowser(b *browsertest.Browser, name, password string) {
	b.Open("/login")
	b.Type("#username", name)
	b.Type("#password", password)
	b.Follow(".login button[type=submit]")
}

// TestBrowserEditsAConnection edits a saved connection in chromium over
// the real connection service: from the Connections list to its Edit form,
// which keeps the secret unless typed again, a new name and host saved
// with the secret, and the list and the service showing the change.
func TestBrowserEditsAConnection(t *testing.T) {
	ctx := context.Background()
	w := consoletest.New(t, consoletest.Options{Logger: testLogger(t)})
	if _, err := w.Connections.Create(ctx, connection.Input{Name: "Okta", Kind: "okta", DryRun: true,
		Fields: map[string]string{"url": "https://127.0.0.1:8443", "token": "00first-secret-token-1234"}}); err != nil {
		t.Fatal(err)
	}
	b := browsertest.NewBrowser(t, w.URL)
	signInBrowser(b, consoletest.Users[auth.RoleWorkflowsAdmin], consoletest.Password)
	b.Open("/workflows/connections")
	b.Follow(`a[href="/workflows/connections/Okta/edit"]`)
	if v := b.Value("#f-url"); v != "https://127.0.0.1:8443" {
		t.Fatalf("the edit form shows the URL %q", v)
	}
	if v := b.Value("#f-token"); v != "" {
		t.Fatalf("the edit form shows the saved token %q", v)
	}
	b.Shot("connection-edit")
	b.Type("#c-name", "Okta prod")
	b.Type("#f-url", "https://127.0.0.2:8443")
	b.Follow(`form.card button[type=submit]`)
	// Another host without the token: refused in words, nothing changes.
	if msg := b.Text(`[role=alert]`); !strings.Contains(msg, "moved to another host") {
		t.Fatalf("a moved host without its token says %q", msg)
	}
	if c, err := w.Connections.Get(ctx, "Okta"); err != nil || c.Settings["url"] != "https://127.0.0.1:8443" {
		t.Fatalf("the refused edit changed the connection: %+v %v", c, err)
	}
	b.Type("#f-token", "00second-secret-token-9876")
	b.Follow(`form.card button[type=submit]`)
	b.Shot("connection-edited")
	if msg := b.Flash(); !strings.Contains(msg, "The connection Okta prod is saved") {
		t.Errorf("after Save the flash says %q", msg)
	}
	if p := evalString(b, `location.pathname`); p != "/workflows/connections" {
		t.Errorf("after Save the browser is at %s", p)
	}
	c, err := w.Connections.Get(ctx, "Okta prod")
	if err != nil {
		t.Fatal(err)
	}
	if c.Settings["url"] != "https://127.0.0.2:8443" || !strings.HasSuffix(c.Secrets["token"], "9876") {
		t.Errorf("after the edit: %+v", c.Settings)
	}
	if !strings.Contains(b.Text("main"), "Okta prod") {
		t.Error("the Connections list does not show the new name")
	}
}

// evalString reads a string from the page.
func evalString(b *browsertest.Browser, expr string) string { return browsertest.Eval[string](b, expr) }

// TestBrowserTurnsOnAFolder adds the ISPM template and its Slack
// connection, then in chromium turns on the folder's flows with one
// button: the summary says how many are on and names those that stayed
// off with the reason, and the flows list shows the Slack flow on.
func TestBrowserTurnsOnAFolder(t *testing.T) {
	ctx := context.Background()
	w := consoletest.New(t, consoletest.Options{Logger: testLogger(t)})
	admin := w.Client(t, auth.RoleWorkflowsAdmin)
	if pg := post(t, admin, w.URL+ispmPath, url.Values{"var_slackChannel": {"#security"}}); pg.Status != 303 {
		t.Fatalf("add template: status %d", pg.Status)
	}
	if _, err := w.Connections.Create(ctx, connection.Input{Name: "Slack", Kind: "slack", DryRun: true,
		Fields: map[string]string{"token": "xoxb-dry-run"}}); err != nil {
		t.Fatal(err)
	}
	folder, err := w.Flows.Folder(ctx, "Identity Security Posture Management")
	if err != nil {
		t.Fatal(err)
	}
	b := browsertest.NewBrowser(t, w.URL)
	signInBrowser(b, consoletest.Users[auth.RoleWorkflowsAdmin], consoletest.Password)
	b.Open("/workflows/flows?folder=" + folder.ID)
	b.Follow(`[data-testid="folder-on"]`)
	b.Shot("folder-on")
	msg := b.Flash()
	if !strings.HasPrefix(msg, "Turned on ") || !strings.Contains(msg, "of Identity Security Posture Management") ||
		!strings.Contains(msg, "2.2 Suspend Okta User") || !strings.Contains(msg, "the connection Okta (okta) is not set") {
		t.Fatalf("the summary says %q", msg)
	}
	if p := evalString(b, `location.pathname + location.search`); p != "/workflows/flows?folder="+folder.ID {
		t.Errorf("after Turn on the browser is at %s", p)
	}
	on := browsertest.Eval[bool](b, `[...document.querySelectorAll("tr")].some(r => r.innerText.includes("5.1 Notify Slack channel") && !!r.querySelector("input[role=switch]:checked"))`)
	if !on {
		t.Error("the flows list does not show 5.1 Notify Slack channel on")
	}
}

// TestBrowserChangesOwnPassword changes the signed-in user's password in
// chromium, signs out, is refused with the old password and signs in with
// the new one.
func TestBrowserChangesOwnPassword(t *testing.T) {
	w := consoletest.New(t, consoletest.Options{Logger: testLogger(t)})
	name := consoletest.Users[auth.RoleIssueViewer]
	const fresh = "a-brand-new-password-42"
	b := browsertest.NewBrowser(t, w.URL)
	signInBrowser(b, name, consoletest.Password)
	b.Open("/admin/password")
	b.Type("#current_password", consoletest.Password)
	b.Type("#new_password", fresh)
	b.Type("#confirm_password", fresh)
	b.Follow(`[data-testid="password-form"] button[type=submit]`)
	b.Shot("password-changed")
	if msg := b.Flash(); !strings.Contains(msg, "Your password is changed") {
		t.Fatalf("after the change the flash says %q", msg)
	}
	b.Follow(`form[action="/logout"] button[type=submit]`)
	signInBrowser(b, name, consoletest.Password)
	if p := evalString(b, `location.pathname`); p != "/login" {
		t.Errorf("the old password signed in (at %s)", p)
	}
	signInBrowser(b, name, fresh)
	b.Shot("signed-in-with-new-password")
	if p := evalString(b, `location.pathname`); p == "/login" {
		t.Fatalf("the new password does not sign in: %s", b.Text("main"))
	}
	if _, err := w.Auth.Login(context.Background(), name, fresh, "127.0.0.1"); err != nil {
		t.Errorf("the service refuses the new password: %v", err)
	}
}
