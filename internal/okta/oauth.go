package okta

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/vigil-ispm/vigil/internal/vendorhttp"
)

// OAuthConfig makes the client act as an Okta OAuth 2.0 service app: it
// signs a JWT with the app's private key and exchanges it at
// <org>/oauth2/v1/token for an access token (client credentials grant,
// private_key_jwt client authentication). Okta prefers this to API tokens:
// the app gets only the scopes it was granted, and no user owns it.
type OAuthConfig struct {
	// ClientID is the service app's client id. Required.
	ClientID string
	// Key is the app's private key, RSA or ECDSA (see ParsePrivateKey). Required.
	Key crypto.Signer
	// KeyID is the kid of the key registered with the app, if it has one.
	KeyID string
	// Scopes are the Okta scopes to ask for, such as okta.users.read. Required.
	Scopes []string
}

func (o OAuthConfig) validate() error {
	if o.ClientID == "" || o.Key == nil || len(o.Scopes) == 0 {
		return errors.New("okta: the OAuth service app needs a client id, a private key and at least one scope")
	}
	if _, err := signingAlgorithm(o.Key); err != nil {
		return err
	}
	return nil
}

// ParsePrivateKey reads a private key as Okta's Admin Console hands it out:
// a JWK (JSON) or a PEM block (PKCS #8, PKCS #1 or SEC 1). It returns the
// key and the JWK's kid, if any. The error never contains key material.
func ParsePrivateKey(data []byte) (crypto.Signer, string, error) {
	data = []byte(strings.TrimSpace(string(data)))
	if len(data) > 0 && data[0] == '{' {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(data); err != nil {
			return nil, "", errors.New("okta: the private key is not a valid JWK")
		}
		s, ok := jwk.Key.(crypto.Signer)
		if !ok || jwk.IsPublic() {
			return nil, "", errors.New("okta: the JWK is not a private key")
		}
		return s, jwk.KeyID, nil
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, "", errors.New("okta: the private key is neither a JWK nor a PEM block")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return s, "", nil
		}
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, "", nil
	}
	if k, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		return k, "", nil
	}
	return nil, "", errors.New("okta: the PEM block is not an RSA or ECDSA private key")
}

func signingAlgorithm(key crypto.Signer) (jose.SignatureAlgorithm, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return jose.RS256, nil
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			return jose.ES256, nil
		case elliptic.P384():
			return jose.ES384, nil
		case elliptic.P521():
			return jose.ES512, nil
		}
	}
	return "", errors.New("okta: the private key must be RSA or ECDSA (P-256, P-384, P-521)")
}

// oauthAuth fetches and caches access tokens.
type oauthAuth struct {
	cfg      Config
	oauth    OAuthConfig
	tokenURL string

	mu      sync.Mutex
	token   string
	expires time.Time
}

func newOAuth(cfg Config, o OAuthConfig) *oauthAuth {
	return &oauthAuth{cfg: cfg, oauth: o, tokenURL: cfg.BaseURL + "/oauth2/v1/token"}
}

func (a *oauthAuth) authorize(ctx context.Context, req *http.Request) error {
	return vendorhttp.Bearer(a.accessToken)(ctx, req)
}

func (a *oauthAuth) reset() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.token = ""
	return true
}

// accessToken returns the cached token, or a new one when none is cached
// or the cached one expires within a minute.
func (a *oauthAuth) accessToken(ctx context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.cfg.Retry.Now()
	if a.token != "" && now.Before(a.expires.Add(-time.Minute)) {
		return a.token, nil
	}
	assertion, err := a.assertion(now)
	if err != nil {
		return "", err
	}
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"scope":                 {strings.Join(a.oauth.Scopes, " ")},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("okta: get access token: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("okta: get access token: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("okta: get access token: read answer: %w", err)
	}
	var tok struct {
		TokenType   string `json:"token_type"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &tok)
	if resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		status := resp.StatusCode
		if status == http.StatusBadRequest && (tok.Error == "invalid_client" || tok.Error == "invalid_grant") {
			status = http.StatusUnauthorized // a credential problem, whatever the status
		}
		if tok.Error == "" && tok.Description == "" {
			return "", apiError("get access token", status, body)
		}
		return "", vendor.Error("get access token", status, tok.Error, tok.Description, 0)
	}
	if !strings.EqualFold(tok.TokenType, "Bearer") {
		return "", fmt.Errorf("okta: get access token: token type %q is not supported; turn off DPoP for the service app", tok.TokenType)
	}
	a.token = tok.AccessToken
	a.expires = now.Add(time.Duration(max(tok.ExpiresIn, 60)) * time.Second)
	return a.token, nil
}

// assertion signs the client-authentication JWT Okta asks for: issuer and
// subject the client id, audience the token endpoint, a unique jti and a
// short life.
func (a *oauthAuth) assertion(now time.Time) (string, error) {
	alg, err := signingAlgorithm(a.oauth.Key)
	if err != nil {
		return "", err
	}
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if a.oauth.KeyID != "" {
		opts = opts.WithHeader("kid", a.oauth.KeyID)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: a.oauth.Key}, opts)
	if err != nil {
		return "", fmt.Errorf("okta: sign client assertion: %w", err)
	}
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", fmt.Errorf("okta: sign client assertion: %w", err)
	}
	claims := jwt.Claims{
		Issuer:   a.oauth.ClientID,
		Subject:  a.oauth.ClientID,
		Audience: jwt.Audience{a.tokenURL},
		IssuedAt: jwt.NewNumericDate(now),
		Expiry:   jwt.NewNumericDate(now.Add(5 * time.Minute)),
		ID:       hex.EncodeToString(jti),
	}
	s, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("okta: sign client assertion: %w", err)
	}
	return s, nil
}
