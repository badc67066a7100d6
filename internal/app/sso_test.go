package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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
	defer idp.Close()
	oidc := auth.OIDCConfig{Issuer: idp.URL, ClientID: "vigil", ClientSecret: "sso-client-secret",
		GroupRoles: auth.GroupRoles{"Admins": auth.RoleSuperAdmin}}

	ctx := context.Background()
	logs := &logtest.Buffer{}
	a, err := app.Open(ctx, app.Config{DataDir: t.TempDir(), DatabaseURL: storetest.DatabaseURL(t, "sqlite"),
		Addr: "127.0.0.1:0", AllowOutbound: "127.0.0.0/8", LogOutput: logs, OIDC: oidc})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv, err := a.NewServer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(rctx) }()
	defer func() { cancel(); <-done }()

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var page string
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); {
		resp, err := client.Get(srv.PublicURL() + "/login")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			page = string(b)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(page, auth.OIDCLoginPath) {
		t.Errorf("the sign-in page offers no single sign-on link:\n%s", page)
	}
	resp, err := client.Get(srv.PublicURL() + auth.OIDCLoginPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, idp.URL+"/authorize?") ||
		!strings.Contains(loc, "code_challenge_method=S256") {
		t.Errorf("%s: %d to %q; want a redirect to the provider with PKCE", auth.OIDCLoginPath, resp.StatusCode, loc)
	}
	if strings.Contains(logs.String(), "sso-client-secret") {
		t.Error("the client secret reached the log")
	}

	// A provider that cannot be discovered: the server does not start.
	bad := oidc
	bad.Issuer = idp.URL + "/nowhere"
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
