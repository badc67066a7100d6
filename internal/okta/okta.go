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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-ispm/vigil/internal/netguard"
)

// MaxPageSize is the largest limit Okta accepts on user lists, and the page
// size the client asks for everywhere.
const MaxPageSize = 200

// maxBody bounds how much of one answer the client reads, so a broken or
// hostile server cannot exhaust memory.
const maxBody = 32 << 20

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
	// MaxRetries bounds how often one request is retried after a 429, a 5xx
	// or, for requests that are safe to repeat, a network error. Default 3;
	// negative means never retry.
	MaxRetries int
	// MaxRetryWait is the longest single wait the client accepts. A 429 whose
	// reset lies further away fails the call instead of stalling a scan; a
	// slowdown for X-Rate-Limit-Remaining 0 is shortened to it. Default 90 s.
	MaxRetryWait time.Duration

	// Now tells the time, for rate-limit resets and token expiry. Default
	// time.Now.
	Now func() time.Time
	// Sleep waits and returns early with ctx's error when ctx ends. Default a
	// timer; tests pass a recorder so they run instantly.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (c Config) withDefaults() Config {
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.PageSize <= 0 || c.PageSize > MaxPageSize {
		c.PageSize = MaxPageSize
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = 3
	}
	if c.MaxRetries < 0 {
		c.MaxRetries = 0
	}
	if c.MaxRetryWait <= 0 {
		c.MaxRetryWait = 90 * time.Second
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
	u, err := url.Parse(c.BaseURL)
	if c.BaseURL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
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

// result is a successful answer.
type result struct {
	status int
	header http.Header
	body   []byte
}

// do sends cl, retrying as the package documentation describes, and returns
// the first 2xx answer or an error.
func (c *Client) do(ctx context.Context, cl call) (result, error) {
	var payload []byte
	if cl.body != nil {
		var err error
		if payload, err = json.Marshal(cl.body); err != nil {
			return result{}, fmt.Errorf("okta: %s: encode request: %w", cl.op, err)
		}
	}
	reauthorized := false
	for attempt := 0; ; attempt++ {
		if err := c.waitForRateLimit(ctx); err != nil {
			return result{}, fmt.Errorf("okta: %s: %w", cl.op, err)
		}
		res, err := c.send(ctx, cl, payload)
		var tokenErr *Error
		if errors.As(err, &tokenErr) {
			return result{}, err // the access token request failed: nothing to retry
		}
		if err != nil {
			if ctx.Err() != nil || attempt >= c.cfg.MaxRetries || !idempotent(cl.method) || !retryableNetError(err) {
				return result{}, fmt.Errorf("okta: %s: %w", cl.op, err)
			}
			if err := c.cfg.Sleep(ctx, c.backoff(attempt)); err != nil {
				return result{}, fmt.Errorf("okta: %s: %w", cl.op, err)
			}
			continue
		}
		c.noteRateLimit(res.header)
		switch {
		case res.status >= 200 && res.status < 300:
			return res, nil
		case res.status == http.StatusUnauthorized && !reauthorized && c.auth.reset():
			reauthorized = true
			attempt--
			continue
		case res.status == http.StatusTooManyRequests && attempt < c.cfg.MaxRetries:
			wait := c.resetWait(res.header)
			if wait > c.cfg.MaxRetryWait {
				return result{}, apiError(cl.op, res.status, res.body)
			}
			if err := c.cfg.Sleep(ctx, wait); err != nil {
				return result{}, fmt.Errorf("okta: %s: %w", cl.op, err)
			}
			continue
		case res.status >= 500 && attempt < c.cfg.MaxRetries:
			if err := c.cfg.Sleep(ctx, c.backoff(attempt)); err != nil {
				return result{}, fmt.Errorf("okta: %s: %w", cl.op, err)
			}
			continue
		}
		return result{}, apiError(cl.op, res.status, res.body)
	}
}

// send makes one HTTP exchange and reads the whole (bounded) body.
func (c *Client) send(ctx context.Context, cl call, payload []byte) (result, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, cl.url, body)
	if err != nil {
		return result{}, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "vigil")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if err := c.auth.authorize(ctx, req); err != nil {
		return result{}, err
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return result{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return result{}, fmt.Errorf("read answer: %w", err)
	}
	if len(b) > maxBody {
		return result{}, fmt.Errorf("answer larger than %d bytes", maxBody)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// idempotent reports whether a request may be repeated after a network
// error without risk of doing its work twice.
func idempotent(method string) bool {
	return method == http.MethodGet || method == http.MethodPut || method == http.MethodDelete
}

// retryableNetError reports whether a failed exchange is worth repeating: a
// refused address or a malformed request is not.
func retryableNetError(err error) bool {
	var ue *url.Error
	var blocked *netguard.BlockedError
	return errors.As(err, &ue) && !errors.As(err, &blocked)
}

// backoff is the wait before retry number attempt+1 after a 5xx or network
// error: 1 s, 2 s, 4 s, … up to MaxRetryWait.
func (c *Client) backoff(attempt int) time.Duration {
	d := time.Second << min(attempt, 16)
	return min(d, c.cfg.MaxRetryWait)
}

// resetWait is how long to wait after a 429: until X-Rate-Limit-Reset, at
// least one second.
func (c *Client) resetWait(h http.Header) time.Duration {
	wait := time.Second
	if reset, ok := headerUnix(h, "X-Rate-Limit-Reset"); ok {
		wait = max(reset.Sub(c.cfg.Now()), wait)
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
	reset, ok := headerUnix(h, "X-Rate-Limit-Reset")
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
	wait := c.pauseUntil.Sub(c.cfg.Now())
	c.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	return c.cfg.Sleep(ctx, min(wait, c.cfg.MaxRetryWait))
}

func headerUnix(h http.Header, name string) (time.Time, bool) {
	n, err := strconv.ParseInt(h.Get(name), 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
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
