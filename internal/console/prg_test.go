package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/auth"
)

var flashKind = regexp.MustCompile(`class="flash ([a-z]+)" role="[a-z]+">`)

// TestEveryFormAnswersSeeOther submits each console form that changes
// something with input it accepts: every answer is a 303 to a page that
// says, in an ok flash, what was done, so a browser reload of that page
// posts nothing again. The secrets shown once (a generated password, a
// reset password, a new token, a signing secret) are on the page the form
// redirects to, once: a reload no longer shows them, they never travel in
// the flash cookie, and another user following the same redirect does not
// see them.
func TestEveryFormAnswersSeeOther(t *testing.T) {
	f := setup(t)
	integ := "/ispm/settings/integrations/" + f.hookID
	cases := []struct {
		path string
		form url.Values
		// says is part of the flash; secret matches the secret shown once.
		says   string
		secret string
	}{
		{"/ispm/issues/bulk", url.Values{"id": {f.issueID}, "action": {"acknowledge"}, "back": {"/ispm/issues?status=all"}}, "1 issue acknowledged", ""},
		{"/ispm/settings/integrations/webhook", url.Values{"name": {"Another"}, "url": {f.w.URL + "/elsewhere"}, "action": {"save"}}, "The integration Another is saved", `id="signing-secret" type="password" value="(whsec_[^"]+)"`},
		{integ, url.Values{"name": {"Routing flow"}, "url": {f.w.URL + "/nowhere"}, "action": {"save"}}, "The integration Routing flow is saved", ""},
		{integ + "/pause", nil, "paused", ""},
		{integ + "/resume", nil, "active again", ""},
		{"/workflows/folders", url.Values{"name": {"Ops"}}, "The folder Ops is created", ""},
		{"/workflows/templates/identity-security-posture-management", url.Values{"folder": {"From the template"}}, "", ""},
		{"/workflows/flows/" + f.routeID + "/state", url.Values{"on": {"on"}}, "is on", ""},
		{"/admin/settings", url.Values{"public_url": {"https://vigil.example.com"}, "history_days": {"30"}, "delivery_days": {"30"}}, "The settings are saved", ""},
		{"/admin/users", url.Values{"name": {"typed"}, "role": {"issue_viewer"}, "password": {"a-long-typed-password-1"}}, "The user typed is created", ""},
		{"/admin/users", url.Values{"name": {"generated"}, "role": {"issue_viewer"}}, "The user generated is created", `id="new-password" type="password" value="([^"]+)"`},
		{"/admin/users/" + f.viewerID + "/password", nil, "is reset", `id="new-password" type="password" value="([^"]+)"`},
		{"/admin/tokens", url.Values{"name": {"laptop"}, "days": {"30"}}, "The token laptop is created", `id="new-token" type="password" value="([^"]+)"`},
		{"/admin/tokens/" + f.tokenID + "/revoke", nil, "is revoked", ""},
	}
	const pw = "second-admin-password-1"
	if _, err := f.w.Auth.CreateUser(context.Background(), "second-admin", auth.RoleSuperAdmin, pw); err != nil {
		t.Fatal(err)
	}
	other := f.w.SignIn(t, "second-admin", pw)
	for _, tc := range cases {
		pg := post(t, f.admin, f.w.URL+tc.path, tc.form)
		if pg.Status != http.StatusSeeOther || pg.Location == "" {
			t.Errorf("POST %s: %d, want 303: %.500s", tc.path, pg.Status, pg.Body)
			continue
		}
		for _, ck := range f.admin.Jar.Cookies(mustURL(t, f.w.URL+"/")) {
			if ck.Name == "vigil_flash" && tc.secret != "" && strings.Contains(ck.Value, "whsec_") {
				t.Errorf("POST %s: the flash cookie carries the secret", tc.path)
			}
		}
		if tc.secret != "" {
			// The reveal cookie, stolen into another user's browser, shows
			// that user nothing: it is sealed for the user who posted.
			target := mustURL(t, f.w.URL+pg.Location)
			for _, ck := range f.admin.Jar.Cookies(target) {
				if ck.Name == "vigil_reveal" {
					other.Jar.SetCookies(target, []*http.Cookie{{Name: ck.Name, Value: ck.Value, Path: pg.Location}})
				}
			}
			if seen := get(t, other, f.w.URL+pg.Location); regexp.MustCompile(tc.secret).MatchString(seen.Body) {
				t.Errorf("POST %s: another user with the cookie sees a secret", tc.path)
			}
		}
		next := get(t, f.admin, f.w.URL+pg.Location)
		if k := flashKind.FindStringSubmatch(next.Body); k == nil || k[1] != "ok" || !strings.Contains(flashOf(next.Body), tc.says) {
			t.Errorf("POST %s: the next page's flash is %v %q, want ok saying %q", tc.path, k, flashOf(next.Body), tc.says)
		}
		if tc.secret == "" {
			continue
		}
		m := regexp.MustCompile(tc.secret).FindStringSubmatch(next.Body)
		if m == nil {
			t.Errorf("POST %s: %s does not show the secret", tc.path, pg.Location)
			continue
		}
		if again := get(t, f.admin, f.w.URL+pg.Location); strings.Contains(again.Body, m[1]) {
			t.Errorf("POST %s: a reload of %s shows the secret again", tc.path, pg.Location)
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
