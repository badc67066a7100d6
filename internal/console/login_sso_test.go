package console_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/console/consoletest"
	"github.com/vigil-ispm/vigil/internal/netguard"
)

// discoveryOnly is an identity provider that answers discovery and nothing
// else: enough to turn single sign-on on for the sign-in page.
func discoveryOnly(t *testing.T) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"issuer": srv.URL, "authorization_endpoint": srv.URL + "/authorize",
			"token_endpoint": srv.URL + "/token", "jwks_uri": srv.URL + "/keys",
		})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSignInPageOffersSingleSignOn(t *testing.T) {
	w := consoletest.New(t, consoletest.Options{Logger: testLogger(t)})
	if pg := get(t, anonymous(), w.URL+"/login"); pg.Status != 200 || strings.Contains(pg.Body, "sso-login") {
		t.Fatalf("without single sign-on the page shows a button: %d", pg.Status)
	}

	idp := discoveryOnly(t)
	err := w.Auth.EnableOIDC(t.Context(), auth.OIDCConfig{
		Issuer: idp.URL, ClientID: "vigil", ClientSecret: "client-secret-value",
		GroupRoles:  auth.GroupRoles{"SecOps": auth.RoleIssueResponder},
		ButtonLabel: "Sign in with Okta",
		HTTPClient:  netguard.NewClient(netguard.Config{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}),
	})
	if err != nil {
		t.Fatal(err)
	}
	button := `<a class="btn primary" id="sso-login" href="/auth/oidc/login">Sign in with Okta</a>`
	if pg := get(t, anonymous(), w.URL+"/login"); pg.Status != 200 || !strings.Contains(pg.Body, button) {
		t.Fatalf("the sign-in page has no single sign-on button: %d\n%s", pg.Status, pg.Body)
	}
	// The page shown again after a wrong password keeps the button.
	pg := post(t, anonymous(), w.URL+"/login", url.Values{"username": {"admin"}, "password": {"wrong"}})
	if pg.Status != 401 || !strings.Contains(pg.Body, button) {
		t.Fatalf("after a wrong password: %d, button shown: %v", pg.Status, strings.Contains(pg.Body, button))
	}
}
