// Package okta is a client for the parts of the Okta Management API that
// Vigil needs: the posture reads (users of every status, factors, admin
// roles, groups, API tokens, sign-on policies) and the remediation writes
// (suspend, unsuspend, expire password, clear sessions, add to group).
//
// It authenticates with an API token (Authorization: SSWS) or as an OAuth 2.0
// service app with a private-key JWT. It pages only by following the
// rel="next" links Okta returns, never building cursors itself, and only to
// the org it was configured for, so a token is never sent elsewhere. It slows
// down when X-Rate-Limit-Remaining reaches 0, waits for X-Rate-Limit-Reset
// after a 429, and retries 5xx answers with a bounded backoff.
//
// Every request goes through the *http.Client in Config: callers pass the
// SSRF-guarded client of internal/netguard, and a dry run passes a client
// whose transport records the request and answers a canned response.
package okta

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-ispm/vigil/internal/vendorhttp"
)

// MaxPageSize is the largest limit Okta accepts on user lists, and the page
// size the client asks for everywhere.
const MaxPageSize = 200

// Config says which org to talk to and how. Zero values mean the default
// named on each field.
type Config struct {
	// BaseURL is the org URL, such as https://example.okta.com. Required.
	BaseURL string
	// Token is an API token, sent as "Authorization: SSWS <token>". Either
	// Token or OAuth is required. It never appears in errors.
	Token string
	// OAuth, when set instead of Token, makes the client act as an OAuth 2.0
	// service app (client credentials with a private-key JWT).
	OAuth *OAuthConfig

	// HTTPClient sends every request, token requests included. Required:
	// callers pass Vigil's SSRF-guarded client.
	HTTPClient *http.Client

	// PageSize is the limit asked for on lists. Default and maximum
	// MaxPageSize.
	PageSize int
	// Retry says how often and how long to wait before retrying a 429, a
	// 5xx or, for requests that are safe to repeat, a network error. A 429
	// whose reset lies further away than its MaxWait (default 90 s here)
	// fails the call instead of stalling a scan; a slowdown for
	// X-Rate-Limit-Remaining 0 is shortened to it. Its clock also times
	// rate-limit resets and token expiry. Zero values mean vendorhttp's
	// defaults.
	Retry vendorhttp.Retry
}

func (c Config) withDefaults() Config {
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.PageSize <= 0 || c.PageSize > MaxPageSize {
		c.PageSize = MaxPageSize
	}
	if c.Retry.MaxWait <= 0 {
		c.Retry.MaxWait = 90 * time.Second
	}
	c.Retry = c.Retry.WithDefaults()
	return c
}

func (c Config) validate() error {
	u, ok := vendorhttp.HTTPURL(c.BaseURL)
	if !ok {
		return fmt.Errorf("okta: the org URL %q is not an http(s) URL such as https://example.okta.com", c.BaseURL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("okta: the org URL must not carry credentials, a query or a fragment")
	}
	switch {
	case c.Token == "" && c.OAuth == nil:
		return errors.New("okta: the connection needs an API token or an OAuth service app")
	case c.Token != "" && c.OAuth != nil:
		return errors.New("okta: give either an API token or an OAuth service app, not both")
	case c.HTTPClient == nil:
		return errors.New("okta: the connection needs an HTTP client")
	}
	if c.OAuth != nil {
		return c.OAuth.validate()
	}
	return nil
}

// Client talks to one Okta org. It is safe for concurrent use.
type Client struct {
	cfg  Config
	base *url.URL
	auth authorizer
	api  *vendorhttp.Client

	mu         sync.Mutex
	pauseUntil time.Time // set when X-Rate-Limit-Remaining reached 0
}

// authorizer sets the Authorization header of a request. It is the seam
// between API-token and OAuth authentication.
type authorizer interface {
	authorize(ctx context.Context, req *http.Request) error
	// reset drops cached credentials after a 401, so one retry can fetch
	// fresh ones. It reports whether a retry makes sense.
	reset() bool
}

type sswsAuth string

func (t sswsAuth) authorize(_ context.Context, req *http.Request) error {
	req.Header.Set("Authorization", "SSWS "+string(t))
	return nil
}

func (sswsAuth) reset() bool { return false }

// New checks cfg and returns a client. It makes no request.
func New(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	base, _ := url.Parse(cfg.BaseURL)
	c := &Client{cfg: cfg, base: base}
	if cfg.OAuth != nil {
		c.auth = newOAuth(cfg, *cfg.OAuth)
	} else {
		c.auth = sswsAuth(cfg.Token)
	}
	c.api = &vendorhttp.Client{
		Vendor:      &vendor,
		HTTP:        cfg.HTTPClient,
		Retry:       cfg.Retry,
		Header:      http.Header{"Accept": {"application/json"}, "User-Agent": {"vigil"}},
		Authorize:   c.auth.authorize,
		Reauthorize: c.auth.reset,
		Before:      c.waitForRateLimit,
		Seen:        func(r *vendorhttp.Response) { c.noteRateLimit(r.Header) },
		RetryWait: func(r *vendorhttp.Response) (time.Duration, bool) {
			if r.Status == http.StatusTooManyRequests {
				return c.resetWait(r.Header), true
			}
			return 0, r.Status >= 500
		},
		Refusal: func(op string, r *vendorhttp.Response) error { return apiError(op, r.Status, r.Body) },
	}
	return c, nil
}

// endpoint returns the absolute URL of an API path with query q. Spaces are
// encoded as %20, which Okta's filter expressions need.
func (c *Client) endpoint(path string, q url.Values) string {
	s := c.cfg.BaseURL + path
	if len(q) > 0 {
		s += "?" + strings.ReplaceAll(q.Encode(), "+", "%20")
	}
	return s
}

// call is one API request.
type call struct {
	op     string // for errors, e.g. "list users"
	method string
	url    string
	body   any // marshalled as JSON when not nil
}

// do sends cl, retrying as the package documentation describes, and returns
// the first 2xx answer or an error.
func (c *Client) do(ctx context.Context, cl call) (*vendorhttp.Response, error) {
	return c.api.Do(ctx, vendorhttp.Request{Op: cl.op, Method: cl.method, URL: cl.url, Body: cl.body})
}

// resetWait is how long to wait after a 429: until X-Rate-Limit-Reset, at
// least one second.
func (c *Client) resetWait(h http.Header) time.Duration {
	wait := time.Second
	if reset, ok := vendorhttp.UnixHeader(h, "X-Rate-Limit-Reset"); ok {
		wait = max(reset.Sub(c.cfg.Retry.Now()), wait)
	}
	return wait
}

// noteRateLimit remembers to pause until the reset when Okta says no
// request is left in the current window.
func (c *Client) noteRateLimit(h http.Header) {
	remaining, err := strconv.Atoi(h.Get("X-Rate-Limit-Remaining"))
	if err != nil || remaining > 0 {
		return
	}
	reset, ok := vendorhttp.UnixHeader(h, "X-Rate-Limit-Reset")
	if !ok {
		return
	}
	c.mu.Lock()
	if reset.After(c.pauseUntil) {
		c.pauseUntil = reset
	}
	c.mu.Unlock()
}

// waitForRateLimit sleeps until a pause noted by noteRateLimit is over.
func (c *Client) waitForRateLimit(ctx context.Context) error {
	c.mu.Lock()
	wait := c.pauseUntil.Sub(c.cfg.Retry.Now())
	c.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	return c.cfg.Retry.Sleep(ctx, min(wait, c.cfg.Retry.MaxWait))
}
