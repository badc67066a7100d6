// Package entra is a client for the parts of Microsoft Graph v1.0 that Vigil
// needs from a Microsoft Entra ID tenant: the posture reads (users with their
// sign-in activity, MFA registration details, directory roles, application
// and service principal credentials) and the two remediation writes (disable a
// user, add a user to a group).
//
// The client gets an app-only token with the OAuth 2.0 client-credentials
// grant at <login>/<tenant>/oauth2/v2.0/token and caches it until shortly
// before it expires. It follows @odata.nextLink exactly as Graph returns it,
// honours 429 and Retry-After, and retries 5xx answers with a bounded
// backoff, so a scan of a large tenant survives throttling.
package entra

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/vigil-ispm/vigil/internal/vendorhttp"
)

// Default endpoints of the Microsoft global cloud. Sovereign clouds and test
// servers set Config.LoginURL and Config.GraphURL instead.
const (
	DefaultLoginURL = "https://login.microsoftonline.com"
	DefaultGraphURL = "https://graph.microsoft.com"
)

// GlobalAdministratorTemplateID is the roleTemplateId of the built-in Global
// Administrator role. It is the same in every tenant, unlike the role's
// object id, so it is what tells a global admin from other admins.
const GlobalAdministratorTemplateID = "62e90394-69f5-4237-9190-012177145e10"

// Config says which tenant to talk to and how. Zero values mean the default
// named on each field.
type Config struct {
	// TenantID is the directory (tenant) id or a verified domain. Required.
	TenantID string
	// ClientID is the application (client) id of the app registration. Required.
	ClientID string
	// ClientSecret is a client secret of that app registration. Required. It
	// is sent only to the token endpoint and never appears in errors.
	ClientSecret string

	// LoginURL is the identity platform's base URL. Default DefaultLoginURL.
	LoginURL string
	// GraphURL is Microsoft Graph's base URL, without the version segment.
	// Default DefaultGraphURL.
	GraphURL string
	// Scope is the scope asked for in the token request. Default GraphURL
	// followed by "/.default", which is what app-only access needs.
	Scope string

	// HTTPClient sends every request, token requests included. Required:
	// callers pass Vigil's SSRF-guarded client, so no request can leave
	// through a client that skips the guard.
	HTTPClient *http.Client

	// PageSize is the $top asked for on user and service principal lists.
	// Default and maximum 999, the largest page Graph allows.
	PageSize int
	// Retry says how often and how long to wait before retrying a 429 or
	// a 5xx; a longer Retry-After than its MaxWait fails the call instead
	// of stalling a scan. Its clock also times the token's expiry. Zero
	// values mean vendorhttp's defaults.
	Retry vendorhttp.Retry
}

func (c Config) withDefaults() Config {
	if c.LoginURL == "" {
		c.LoginURL = DefaultLoginURL
	}
	if c.GraphURL == "" {
		c.GraphURL = DefaultGraphURL
	}
	c.LoginURL = strings.TrimRight(c.LoginURL, "/")
	c.GraphURL = strings.TrimRight(c.GraphURL, "/")
	if c.Scope == "" {
		c.Scope = c.GraphURL + "/.default"
	}
	if c.PageSize <= 0 || c.PageSize > 999 {
		c.PageSize = 999
	}
	c.Retry = c.Retry.WithDefaults()
	return c
}

func (c Config) validate() error {
	if err := vendorhttp.Missing("entra", "connection", vendorhttp.Need("tenant id", c.TenantID != ""),
		vendorhttp.Need("client id", c.ClientID != ""), vendorhttp.Need("client secret", c.ClientSecret != ""),
		vendorhttp.Need("HTTP client", c.HTTPClient != nil)); err != nil {
		return err
	}
	for name, raw := range map[string]string{"login URL": c.LoginURL, "Graph URL": c.GraphURL} {
		if _, ok := vendorhttp.HTTPURL(raw); !ok {
			return fmt.Errorf("entra: the %s %q is not an http(s) URL", name, raw)
		}
	}
	return nil
}

// Client talks to one tenant. It is safe for concurrent use.
type Client struct {
	cfg   Config
	graph *url.URL
	api   *vendorhttp.Client
	token *vendorhttp.TokenCache
}

// New checks cfg and returns a client. It makes no request.
func New(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	graph, _ := url.Parse(cfg.GraphURL)
	creds := &clientcredentials.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		TokenURL:     cfg.LoginURL + "/" + url.PathEscape(cfg.TenantID) + "/oauth2/v2.0/token",
		Scopes:       []string{cfg.Scope},
		AuthStyle:    oauth2.AuthStyleInParams,
	}
	c := &Client{cfg: cfg, graph: graph, token: &vendorhttp.TokenCache{
		Source: func(ctx context.Context) (*oauth2.Token, error) {
			return creds.Token(context.WithValue(ctx, oauth2.HTTPClient, cfg.HTTPClient))
		},
		Now:     cfg.Retry.Now,
		Refused: vendor.TokenError,
	}}
	c.api = c.newTransport()
	return c, nil
}
