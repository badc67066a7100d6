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
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
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
	// MaxRetries bounds how often one request is retried after a 429 or 5xx
	// answer. Default 3; negative means never retry.
	MaxRetries int
	// MaxRetryWait is the longest single wait the client accepts, whether
	// asked for by Retry-After or computed by backoff. A longer Retry-After
	// fails the call instead of stalling a scan. Default 60 seconds.
	MaxRetryWait time.Duration

	// Now tells the time, for token expiry. Default time.Now.
	Now func() time.Time
	// Sleep waits between retries and returns early with ctx's error when ctx
	// ends. Default a timer; tests pass a recorder so they run instantly.
	Sleep func(ctx context.Context, d time.Duration) error
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
	if c.MaxRetries == 0 {
		c.MaxRetries = 3
	}
	if c.MaxRetries < 0 {
		c.MaxRetries = 0
	}
	if c.MaxRetryWait <= 0 {
		c.MaxRetryWait = 60 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = sleep
	}
	return c
}

func (c Config) validate() error {
	var missing []string
	if c.TenantID == "" {
		missing = append(missing, "tenant id")
	}
	if c.ClientID == "" {
		missing = append(missing, "client id")
	}
	if c.ClientSecret == "" {
		missing = append(missing, "client secret")
	}
	if c.HTTPClient == nil {
		missing = append(missing, "HTTP client")
	}
	if len(missing) > 0 {
		return fmt.Errorf("entra: the connection is missing the %s", strings.Join(missing, ", the "))
	}
	for name, raw := range map[string]string{"login URL": c.LoginURL, "Graph URL": c.GraphURL} {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("entra: the %s %q is not an http(s) URL", name, raw)
		}
	}
	return nil
}

// Client talks to one tenant. It is safe for concurrent use.
type Client struct {
	cfg   Config
	creds *clientcredentials.Config
	graph *url.URL

	mu      sync.Mutex
	token   string
	expires time.Time // zero when the token endpoint gave no lifetime
}

// New checks cfg and returns a client. It makes no request.
func New(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	graph, _ := url.Parse(cfg.GraphURL)
	return &Client{
		cfg:   cfg,
		graph: graph,
		creds: &clientcredentials.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			TokenURL:     cfg.LoginURL + "/" + url.PathEscape(cfg.TenantID) + "/oauth2/v2.0/token",
			Scopes:       []string{cfg.Scope},
			AuthStyle:    oauth2.AuthStyleInParams,
		},
	}, nil
}

// accessToken returns a cached token, or fetches a new one when none is
// cached or the cached one expires within a minute.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.cfg.Now()
	if c.token != "" && (c.expires.IsZero() || now.Before(c.expires.Add(-time.Minute))) {
		return c.token, nil
	}
	tok, err := c.creds.Token(context.WithValue(ctx, oauth2.HTTPClient, c.cfg.HTTPClient))
	if err != nil {
		return "", tokenError(err, now)
	}
	c.token = tok.AccessToken
	c.expires = time.Time{}
	if life := lifetime(tok); life > 0 {
		c.expires = now.Add(life)
	}
	return c.token, nil
}

// lifetime reads expires_in from the token answer. The oauth2 package turns
// it into an Expiry on the real clock; reading it here keeps expiry on the
// client's own clock.
func lifetime(tok *oauth2.Token) time.Duration {
	switch v := tok.Extra("expires_in").(type) {
	case float64:
		return time.Duration(v) * time.Second
	case string:
		if n, err := strconv.Atoi(v); err == nil {
			return time.Duration(n) * time.Second
		}
	}
	return 0
}

// forgetToken drops the cached token, so the next call fetches a fresh one.
func (c *Client) forgetToken() {
	c.mu.Lock()
	c.token = ""
	c.mu.Unlock()
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
