package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/console/consoletest"
)

// TestChangeOwnPasswordAndReset changes the signed-in user's password in
// the console (refusing a wrong current password and a confirmation that
// differs), checks that the browser that changed it stays signed in while
// another session of the same user ends, and has a super admin reset
// another user's password, shown once, which ends that user's session.
func TestChangeOwnPasswordAndReset(t *testing.T) {
	w := consoletest.New(t, consoletest.Options{Logger: testLogger(t)})
	builder := w.Client(t, auth.RoleWorkflowsAdmin)
	other := w.Client(t, auth.RoleWorkflowsAdmin)
	const next = "a much longer passphrase 42"

	for _, tc := range []struct {
		form url.Values
		says string
	}{
		{url.Values{"current_password": {"wrong password!"}, "new_password": {next}, "confirm_password": {next}}, "The password was not changed"},
		{url.Values{"current_password": {consoletest.Password}, "new_password": {next}, "confirm_password": {next + "x"}}, "differ"},
		{url.Values{"current_password": {consoletest.Password}, "new_password": {"short"}, "confirm_password": {"short"}}, "at least 12 characters"},
	} {
		if pg := post(t, builder, w.URL+"/admin/password", tc.form); pg.Status != http.StatusSeeOther || pg.Location != "/admin/password" {
			t.Fatalf("refused change: %d to %q", pg.Status, pg.Location)
		}
		if msg := flashOf(get(t, builder, w.URL+"/admin/password").Body); !strings.Contains(msg, tc.says) {
			t.Errorf("refused change says %q; want %q", msg, tc.says)
		}
	}
	if _, err := w.Auth.Login(t.Context(), consoletest.Users[auth.RoleWorkflowsAdmin], consoletest.Password, "127.0.0.1"); err != nil {
		t.Fatalf("a refused change changed the password: %v", err)
	}

	pg := post(t, builder, w.URL+"/admin/password", url.Values{"current_password": {consoletest.Password},
		"new_password": {next}, "confirm_password": {next}})
	if pg.Status != http.StatusSeeOther {
		t.Fatalf("change: status %d", pg.Status)
	}
	if pg := get(t, builder, w.URL+"/workflows/flows"); pg.Status != http.StatusOK || !strings.Contains(flashOf(pg.Body), "Your password is changed") {
		t.Errorf("after the change the browser that made it gets %d, flash %q", pg.Status, flashOf(pg.Body))
	}
	if pg := get(t, other, w.URL+"/workflows/flows"); pg.Status != http.StatusSeeOther || !strings.HasPrefix(pg.Location, "/login") {
		t.Errorf("another session of the user still works after the change: %d to %q", pg.Status, pg.Location)
	}
	if _, err := w.Auth.Login(t.Context(), consoletest.Users[auth.RoleWorkflowsAdmin], next, "127.0.0.1"); err != nil {
		t.Errorf("the new password does not sign in: %v", err)
	}

	// A super admin resets the viewer's password.
	admin := w.Client(t, auth.RoleSuperAdmin)
	viewer := w.Client(t, auth.RoleIssueViewer)
	users, err := w.Auth.Users(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var viewerID string
	for _, u := range users {
		if u.Role == auth.RoleIssueViewer {
			viewerID = u.ID
		}
	}
	pg = post(t, admin, w.URL+"/admin/users/"+viewerID+"/password", nil)
	if pg.Status != http.StatusSeeOther || pg.Location != "/admin/users" {
		t.Fatalf("reset: %d to %q, want 303 to the users page", pg.Status, pg.Location)
	}
	pg = get(t, admin, w.URL+pg.Location)
	m := regexp.MustCompile(`id="new-password" type="password" value="([^"]+)"`).FindStringSubmatch(pg.Body)
	if pg.Status != http.StatusOK || m == nil || !strings.Contains(pg.Body, "is reset") {
		t.Fatalf("reset: status %d, new password shown %v", pg.Status, m != nil)
	}
	if _, err := w.Auth.Login(t.Context(), consoletest.Users[auth.RoleIssueViewer], m[1], "127.0.0.1"); err != nil {
		t.Errorf("the reset password does not sign in: %v", err)
	}
	if pg := get(t, viewer, w.URL+"/ispm"); pg.Status != http.StatusSeeOther {
		t.Errorf("the viewer's session survived the reset: %d", pg.Status)
	}
	if pg := get(t, admin, w.URL+"/admin/users"); strings.Contains(pg.Body, m[1]) {
		t.Error("the reset password is shown again")
	}
}
