package googletest_test

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/vigil-ispm/vigil/internal/google"
	"github.com/vigil-ispm/vigil/internal/google/googletest"
)

func TestTokenEndpointChecksTheAssertion(t *testing.T) {
	s := googletest.New(t)
	var key struct {
		PrivateKey string `json:"private_key"`
	}
	_ = json.Unmarshal(s.ServiceAccountJSON(), &key)
	block, _ := pem.Decode([]byte(key.PrivateKey))
	pk, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	good := func() (josejwt.Claims, map[string]any, string) {
		return josejwt.Claims{Issuer: googletest.ClientEmail, Subject: googletest.Admin,
				Audience: josejwt.Audience{s.URL + "/token"}, IssuedAt: josejwt.NewNumericDate(now),
				Expiry: josejwt.NewNumericDate(now.Add(time.Hour))},
			map[string]any{"scope": google.ScopeUserReadonly}, googletest.PrivateKeyID
	}
	tests := []struct {
		name  string
		edit  func(c *josejwt.Claims, extra map[string]any, kid *string)
		grant string
		want  int
	}{
		{"valid", nil, "", http.StatusOK},
		{"wrong grant type", nil, "client_credentials", http.StatusBadRequest},
		{"wrong audience", func(c *josejwt.Claims, _ map[string]any, _ *string) {
			c.Audience = josejwt.Audience{"https://oauth2.googleapis.com/token"}
		}, "", http.StatusBadRequest},
		{"wrong issuer", func(c *josejwt.Claims, _ map[string]any, _ *string) { c.Issuer = "other@x.iam.gserviceaccount.com" }, "", http.StatusBadRequest},
		{"expired", func(c *josejwt.Claims, _ map[string]any, _ *string) {
			c.IssuedAt = josejwt.NewNumericDate(now.Add(-3 * time.Hour))
			c.Expiry = josejwt.NewNumericDate(now.Add(-2 * time.Hour))
		}, "", http.StatusBadRequest},
		{"too long-lived", func(c *josejwt.Claims, _ map[string]any, _ *string) {
			c.Expiry = josejwt.NewNumericDate(now.Add(3 * time.Hour))
		}, "", http.StatusBadRequest},
		{"scope not delegated", func(_ *josejwt.Claims, e map[string]any, _ *string) {
			e["scope"] = "https://www.googleapis.com/auth/gmail.readonly"
		}, "", http.StatusUnauthorized},
		{"no subject", func(c *josejwt.Claims, _ map[string]any, _ *string) { c.Subject = "" }, "", http.StatusBadRequest},
		{"unknown key id", func(_ *josejwt.Claims, _ map[string]any, kid *string) { *kid = "ffff" }, "", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims, extra, kid := good()
			if tt.edit != nil {
				tt.edit(&claims, extra, &kid)
			}
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: pk.(*rsa.PrivateKey)},
				(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
			if err != nil {
				t.Fatal(err)
			}
			assertion, err := josejwt.Signed(signer).Claims(claims).Claims(extra).Serialize()
			if err != nil {
				t.Fatal(err)
			}
			grant := tt.grant
			if grant == "" {
				grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
			}
			resp, err := s.Client().PostForm(s.URL+"/token", url.Values{"grant_type": {grant}, "assertion": {assertion}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}
