package okta_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/vigil-ispm/vigil/internal/okta"
)

func TestOAuthServiceApp(t *testing.T) {
	b := setup(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	b.fake.AddOAuthClient("0oaVigil", &key.PublicKey, "okta.groups.read", "okta.users.read")
	c := b.client(t, func(c *okta.Config) {
		c.Token = ""
		c.OAuth = &okta.OAuthConfig{ClientID: "0oaVigil", Key: key, KeyID: "k1", Scopes: []string{"okta.groups.read"}}
	})
	for range 2 {
		if _, err := c.ListGroups(ctx(t)); err != nil {
			t.Fatalf("ListGroups: %v", err)
		}
	}
	var tokenRequests int
	for _, r := range b.fake.Requests() {
		if r.Path == "/oauth2/v1/token" {
			tokenRequests++
		}
	}
	if tokenRequests != 1 {
		t.Errorf("got %d token requests, want 1 (token cached)", tokenRequests)
	}
}

func TestOAuthErrors(t *testing.T) {
	good, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tests := []struct {
		name     string
		key      *ecdsa.PrivateKey
		scopes   []string
		wantCode string
	}{
		{"wrong key", other, []string{"okta.users.read"}, "invalid_client"},
		{"scope not granted", good, []string{"okta.users.manage"}, "invalid_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t)
			b.fake.AddOAuthClient("0oaVigil", &good.PublicKey, "okta.users.read")
			c := b.client(t, func(c *okta.Config) {
				c.Token = ""
				c.OAuth = &okta.OAuthConfig{ClientID: "0oaVigil", Key: tt.key, Scopes: tt.scopes}
			})
			_, err := c.ListUsers(ctx(t))
			var e *okta.Error
			if !errors.As(err, &e) || e.Code != tt.wantCode {
				t.Fatalf("err = %v, want code %s", err, tt.wantCode)
			}
			if tt.wantCode == "invalid_client" && !errors.Is(err, okta.ErrUnauthorized) {
				t.Errorf("err = %v, want ErrUnauthorized", err)
			}
			for _, r := range b.fake.Requests() {
				if strings.HasPrefix(r.Path, "/api/") {
					t.Errorf("API called without a token: %s", r.Path)
				}
			}
		})
	}
}

func TestParsePrivateKey(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	sec1, _ := x509.MarshalECPrivateKey(ecKey)
	jwk, _ := json.Marshal(jose.JSONWebKey{Key: rsaKey, KeyID: "kid-1", Algorithm: "RS256"})
	publicJWK, _ := json.Marshal(jose.JSONWebKey{Key: &rsaKey.PublicKey, KeyID: "kid-1"})
	tests := []struct {
		name    string
		data    []byte
		wantKID string
		wantErr bool
	}{
		{"PKCS8 PEM", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), "", false},
		{"PKCS1 PEM", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}), "", false},
		{"SEC1 PEM", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}), "", false},
		{"JWK", jwk, "kid-1", false},
		{"public JWK", publicJWK, "", true},
		{"garbage", []byte("not a key"), "", true},
	}
	for _, tt := range tests {
		key, kid, err := okta.ParsePrivateKey(tt.data)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err = %v, want error %v", tt.name, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && (key == nil || kid != tt.wantKID) {
			t.Errorf("%s: key %T kid %q", tt.name, key, kid)
		}
	}
}
