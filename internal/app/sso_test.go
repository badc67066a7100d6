package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/logtest"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestSingleSignOnWiring checks that the server turns single sign-on on
// from its configuration: the sign-in page offers it and its login route
// sends the browser to the provider; a provider that cannot be discovered
// stops the server from starting, in one sentence.
func TestSingleSignOnWiring(t *testing.T) {
	var idp *httptest.Server
	idp = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": idp.URL, "authorization_endpoint": idp.URL + "/authorize", "token_endpoint": idp.URL + "/token",
			"jwks_uri": idp.URL + "/keys", "id_token_signing_alg_values_supported": []string{"RS256"},
		})
	}))
	t.Cleanup(idp.Close)
	oidc := auth.OIDCConfig{Issuer: idp.URL, ClientID: "vigil", ClientSecret: "sso-client-secret",
		GroupRoles: auth.GroupRoles{"Admins": auth.RoleSuperAdmin}}

	r := startNode(t, storetest.DatabaseURL(t, "sqlite"), "", nil, func(c *app.Config) { c.OIDC = oidc })
	_, page := call(t, http.MethodGet, r.url+"/login", "", "")
	if !strings.Contains(page, auth.OIDCLoginPath) {
		t.Errorf("the sign-in page offers no single sign-on link:\n%s", page)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(r.url + auth.OIDCLoginPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, idp.URL+"/authorize?") ||
		!strings.Contains(loc, "code_challenge_method=S256") {
		t.Errorf("%s: %d to %q; want a redirect to the provider with PKCE", auth.OIDCLoginPath, resp.StatusCode, loc)
	}
	if strings.Contains(r.logs.String(), "sso-client-secret") {
		t.Error("the client secret reached the log")
	}

	// A provider that cannot be discovered: the server does not start.
	bad := oidc
	bad.Issuer = idp.URL + "/nowhere"
	ctx := context.Background()
	b, err := app.Open(ctx, app.Config{DataDir: t.TempDir(), DatabaseURL: storetest.DatabaseURL(t, "sqlite"),
		Addr: "127.0.0.1:0", AllowOutbound: "127.0.0.0/8", LogOutput: &logtest.Buffer{}, OIDC: bad})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if s2, err := b.NewServer(ctx); err == nil {
		s2.Close()
		t.Fatal("a server whose provider cannot be discovered started")
	} else if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, bad.Issuer) || strings.Contains(msg, "sso-client-secret") {
		t.Errorf("refusal %q; want one sentence naming the issuer", msg)
	} else {
		t.Logf("refused: %s", msg)
	}
}
