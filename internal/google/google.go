// Package google is a client for the parts of the Google Workspace Admin SDK
// Directory API that Vigil needs: listing users with their admin, 2-Step
// Verification and login fields, and suspending a user.
//
// It signs in as a service account with domain-wide delegation: an RS256 JWT
// (iss = the key's client_email, sub = the admin to act as, scope, aud = the
// key's token_uri) exchanged at token_uri with the jwt-bearer grant, done by
// golang.org/x/oauth2/jwt through the caller's HTTP client. It pages with
// nextPageToken, retries 429, 5xx and Google's rate-limit 403s with a bounded
// backoff, and turns Google's error body into a typed *Error.
package google

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"

	"github.com/vigil-ispm/vigil/internal/vendorhttp"
)

// DefaultBaseURL is the Admin SDK's base URL.
const DefaultBaseURL = "https://admin.googleapis.com"

// Scopes a Vigil service account is given in domain-wide delegation.
const (
	// ScopeUser reads and changes users; SuspendUser needs it.
	ScopeUser = "https://www.googleapis.com/auth/admin.directory.user"
	// ScopeUserReadonly only reads users, which is all a posture scan needs.
	ScopeUserReadonly = "https://www.googleapis.com/auth/admin.directory.user.readonly"
)

// Config says which Workspace to talk to and as whom. Zero values mean the
// default named on each field.
type Config struct {
	// CredentialsJSON is the service account's key file. Required. Its
	// private key never appears in errors.
	CredentialsJSON []byte
	// Subject is the email of the admin the service account acts as.
	// Required: the Directory API answers only on behalf of an admin.
	Subject string
	// Scopes are the OAuth scopes asked for. Default [ScopeUser].
	Scopes []string
	// BaseURL is the Admin SDK's base URL. Default DefaultBaseURL.
	BaseURL string
	// Customer is the customer whose users are listed. Default "my_customer",
	// the subject's own account.
	Customer string
	// HTTPClient sends every request, token requests included. Required:
	// callers pass Vigil's SSRF-guarded client.
	HTTPClient *http.Client
	// Retry says how often and how long to wait before retrying a 429, a
	// 5xx or a rate-limit 403; its clock also times the token's expiry.
	// Zero values mean vendorhttp's defaults.
	Retry vendorhttp.Retry
}

// serviceAccount is the part of a key file the client reads.
type serviceAccount struct {
	Type         string `json:"type"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	ClientEmail  string `json:"client_email"`
	TokenURI     string `json:"token_uri"`
}

// Client talks to one Workspace. It is safe for concurrent use.
type Client struct {
	cfg   Config
	jwt   *jwt.Config
	api   *vendorhttp.Client
	token *vendorhttp.TokenCache
}

// New checks cfg and the key file and returns a client. It makes no request.
func New(cfg Config) (*Client, error) {
	if err := vendorhttp.Missing("google", "connection", vendorhttp.Need("service account key", len(cfg.CredentialsJSON) > 0), vendorhttp.Need("admin subject", cfg.Subject != ""),
		vendorhttp.Need("HTTP client", cfg.HTTPClient != nil)); err != nil {
		return nil, err
	}
	var key serviceAccount
	if err := json.Unmarshal(cfg.CredentialsJSON, &key); err != nil {
		return nil, errors.New("google: the service account key is not valid JSON")
	}
	switch {
	case key.Type != "service_account":
		return nil, fmt.Errorf("google: the key file is of type %q; a service account key is needed", key.Type)
	case key.ClientEmail == "" || key.PrivateKey == "":
		return nil, errors.New("google: the service account key has no client_email or private_key")
	}
	if key.TokenURI == "" {
		key.TokenURI = "https://oauth2.googleapis.com/token"
	}
	if _, ok := vendorhttp.HTTPURL(key.TokenURI); !ok {
		return nil, fmt.Errorf("google: the key's token_uri %q is not an http(s) URL", key.TokenURI)
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if _, ok := vendorhttp.HTTPURL(cfg.BaseURL); !ok {
		return nil, fmt.Errorf("google: the base URL %q is not an http(s) URL", cfg.BaseURL)
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{ScopeUser}
	}
	if cfg.Customer == "" {
		cfg.Customer = "my_customer"
	}
	cfg.Retry = cfg.Retry.WithDefaults()
	c := &Client{cfg: cfg, jwt: &jwt.Config{
		Email:        key.ClientEmail,
		PrivateKey:   []byte(key.PrivateKey),
		PrivateKeyID: key.PrivateKeyID,
		Subject:      cfg.Subject,
		Scopes:       cfg.Scopes,
		TokenURL:     key.TokenURI,
	}}
	c.token = &vendorhttp.TokenCache{
		Source: func(ctx context.Context) (*oauth2.Token, error) {
			return c.jwt.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, cfg.HTTPClient)).Token()
		},
		Now:     cfg.Retry.Now,
		Refused: vendor.TokenError,
	}
	c.api = c.newTransport()
	return c, nil
}
