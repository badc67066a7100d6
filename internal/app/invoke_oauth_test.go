package app_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/app/apptest"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// oauthFlow is an API Endpoint flow secured with OAuth 2.0.
const oauthFlow = `document:
  dsl: '1.0.0'
  namespace: oauth
  name: ping
  version: '1.0.0'
  title: OAuth ping
  metadata:
    vigil:
      trigger:
        apiEndpoint:
          security: oauth2
          response: sync
do:
  - answer:
      set:
        pong: true
`

// TestInvokeOAuthThroughServer starts a server whose invoke URLs accept
// the bearer tokens of an issuer (its key set served on loopback): a token
// it signed for the audience and scope starts the flow, one without the
// scope and none at all are refused.
func TestInvokeOAuthThroughServer(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	}))
	t.Cleanup(jwks.Close)
	issuer := "https://issuer.example.com/oauth2/default"
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	mint := func(scopes ...string) string {
		now := time.Now()
		s, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: issuer, Audience: jwt.Audience{"api://vigil"},
			Expiry: jwt.NewNumericDate(now.Add(time.Hour)), IssuedAt: jwt.NewNumericDate(now)}).
			Claims(map[string]any{"scp": scopes}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	eachDialect(t, func(t *testing.T, dialect string) {
		var invokeURL string
		startNode(t, storetest.DatabaseURL(t, dialect), "", func(ctx context.Context, srv *app.Server) {
			svc := srv.Services()
			folder, err := svc.Flows.CreateFolder(ctx, "OAuth", "")
			if err != nil {
				t.Fatal(err)
			}
			ef := apptest.SaveEndpointFlow(ctx, t, svc, folder.ID, oauthFlow)
			invokeURL = invoke.InvokeURL(srv.PublicURL(), ef.Alias)
		}, func(c *app.Config) {
			c.InvokeOAuth = invoke.OAuthConfig{Issuer: issuer, JWKSURL: jwks.URL, Audience: "api://vigil"}
		})
		for _, tc := range []struct {
			name, token string
			want        int
		}{
			{"signed, with the scope", mint(invoke.DefaultScope), http.StatusOK},
			{"signed, another scope", mint("okta.users.read"), http.StatusUnauthorized},
			{"no token", "", http.StatusUnauthorized},
		} {
			status, body := call(t, http.MethodPost, invokeURL, tc.token, `{}`)
			if status != tc.want || (tc.want == http.StatusOK && !strings.Contains(body, `"pong":true`)) {
				t.Errorf("%s: %d %s; want %d", tc.name, status, body, tc.want)
			}
		}
	})
}

// TestInvokeOAuthConfigRefused checks that a server is not opened with a
// half-given OAuth configuration for its invoke URLs.
func TestInvokeOAuthConfigRefused(t *testing.T) {
	for _, oc := range []invoke.OAuthConfig{
		{Issuer: "https://issuer.example.com"},
		{Issuer: "http://issuer.example.com", JWKSURL: "https://issuer.example.com/keys", Audience: "a"},
		{Scope: "okta.workflows.invoke.manage"},
	} {
		_, err := app.Open(context.Background(), app.Config{DataDir: t.TempDir(), InvokeOAuth: oc})
		if err == nil || !strings.Contains(err.Error(), "OAuth") {
			t.Errorf("Open with %+v = %v; want an error about the OAuth configuration", oc, err)
		}
	}
}
