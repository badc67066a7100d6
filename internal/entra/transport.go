package entra

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
	"time"

	"github.com/vigil-ispm/vigil/internal/netguard"
)

// maxBody bounds how much of one answer is read. A page of 999 users with
// every selected field is well under a megabyte.
const maxBody = 32 << 20

// call is one Graph request.
type call struct {
	op     string // for errors: "list users"
	method string
	url    string // absolute
	body   any    // sent as JSON when non-nil
	out    any    // 2xx body decoded into it when non-nil
}

// do sends k, fetching a token first, and retries as Graph's throttling
// guidance asks: after a 429 it waits for Retry-After (or backs off when the
// header is missing), after a 5xx it backs off, each time up to MaxRetries.
// A 401 drops the cached token and is tried once more with a fresh one.
func (c *Client) do(ctx context.Context, k call) error {
	var payload []byte
	if k.body != nil {
		var err error
		if payload, err = json.Marshal(k.body); err != nil {
			return fmt.Errorf("entra: %s: encode request: %w", k.op, err)
		}
	}
	refreshed := false
	for attempt := 0; ; attempt++ {
		status, body, retryAfter, err := c.send(ctx, k, payload)
		if err != nil {
			var ne *netError
			if errors.As(err, &ne) && ctx.Err() == nil && idempotent(k.method) && !blocked(err) && attempt < c.cfg.MaxRetries {
				if err := c.cfg.Sleep(ctx, c.backoff(attempt)); err != nil {
					return err
				}
				continue
			}
			var te *Error
			if errors.As(err, &te) && te.Op == "get token" {
				if wait, ok := c.retryWait(te.StatusCode, te.RetryAfter, attempt); ok {
					if err := c.cfg.Sleep(ctx, wait); err != nil {
						return err
					}
					continue
				}
			}
			return err
		}
		if status >= 200 && status < 300 {
			if k.out != nil && len(bytes.TrimSpace(body)) > 0 {
				if err := json.Unmarshal(body, k.out); err != nil {
					return fmt.Errorf("entra: %s: Microsoft Graph sent a body that is not the expected JSON: %w", k.op, err)
				}
			}
			return nil
		}
		if status == http.StatusUnauthorized && !refreshed {
			refreshed = true
			c.forgetToken()
			continue
		}
		if wait, ok := c.retryWait(status, retryAfter, attempt); ok {
			if err := c.cfg.Sleep(ctx, wait); err != nil {
				return err
			}
			continue
		}
		return apiError(k.op, status, body, retryAfter)
	}
}

// send makes one attempt and returns the status, body and Retry-After.
func (c *Client) send(ctx context.Context, k call, payload []byte) (int, []byte, time.Duration, error) {
	tok, err := c.accessToken(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, 0, ctx.Err()
		}
		return 0, nil, 0, err
	}
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, k.method, k.url, rd)
	if err != nil {
		return 0, nil, 0, fmt.Errorf("entra: %s: build request: %w", k.op, unwrapURLError(err))
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, nil, 0, &netError{op: k.op, err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return 0, nil, 0, fmt.Errorf("entra: %s: read answer: %w", k.op, unwrapURLError(err))
	}
	if len(body) > maxBody {
		return 0, nil, 0, fmt.Errorf("entra: %s: Microsoft Graph sent more than %d bytes in one answer", k.op, maxBody)
	}
	return resp.StatusCode, body, retryAfterOf(resp.Header, c.cfg.Now()), nil
}

// retryWait says whether an answer with this status may be retried on this
// attempt, and how long to wait first: Retry-After when given (a wait longer
// than MaxRetryWait is not accepted), else backoff.
func (c *Client) retryWait(status int, retryAfter time.Duration, attempt int) (time.Duration, bool) {
	if status != http.StatusTooManyRequests && status < 500 || attempt >= c.cfg.MaxRetries {
		return 0, false
	}
	if retryAfter > c.cfg.MaxRetryWait {
		return 0, false
	}
	if retryAfter > 0 {
		return retryAfter, true
	}
	return c.backoff(attempt), true
}

// backoff is the wait before retry number attempt+1 when the server named
// none: 1 s, 2 s, 4 s, … up to MaxRetryWait.
func (c *Client) backoff(attempt int) time.Duration {
	return min(time.Second<<min(attempt, 16), c.cfg.MaxRetryWait)
}

// netError is a request that got no answer at all.
type netError struct {
	op  string
	err error
}

func (e *netError) Error() string {
	return fmt.Sprintf("entra: %s: could not reach Microsoft Graph: %v", e.op, unwrapURLError(e.err))
}

func (e *netError) Unwrap() error { return unwrapURLError(e.err) }

// idempotent says whether a request may be repeated after a network error
// without risk of doing its work twice.
func idempotent(method string) bool {
	return method == http.MethodGet || method == http.MethodPut || method == http.MethodDelete
}

// blocked says whether the SSRF guard refused the address: retrying cannot help.
func blocked(err error) bool {
	var be *netguard.BlockedError
	return errors.As(err, &be)
}

// retryAfterOf reads Retry-After as delay-seconds or as an HTTP date.
func retryAfterOf(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// unwrapURLError drops the *url.Error wrapper, whose text repeats the URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// list fetches every page of a Graph collection, following @odata.nextLink
// as given. It refuses a next link to another host, which would carry the
// bearer token away from Graph.
func list[T any](ctx context.Context, c *Client, op, first string) ([]T, error) {
	var all []T
	seen := map[string]bool{}
	for next := first; next != ""; {
		if seen[next] {
			return nil, fmt.Errorf("entra: %s: Microsoft Graph returned the same next-page link twice", op)
		}
		seen[next] = true
		var page struct {
			Value    []T    `json:"value"`
			NextLink string `json:"@odata.nextLink"`
		}
		if err := c.do(ctx, call{op: op, method: http.MethodGet, url: next, out: &page}); err != nil {
			return nil, err
		}
		all = append(all, page.Value...)
		next = page.NextLink
		if next != "" {
			u, err := url.Parse(next)
			if err != nil || u.Scheme != c.graph.Scheme || u.Host != c.graph.Host {
				return nil, fmt.Errorf("entra: %s: Microsoft Graph returned a next-page link to another host; Vigil does not follow it", op)
			}
		}
	}
	return all, nil
}

// endpoint builds a Graph v1.0 URL. Query keys keep their literal "$", as
// Graph documents them.
func (c *Client) endpoint(path string, query ...string) string {
	u := c.cfg.GraphURL + "/v1.0/" + strings.TrimLeft(path, "/")
	if len(query) == 0 {
		return u
	}
	var parts []string
	for i := 0; i+1 < len(query); i += 2 {
		parts = append(parts, query[i]+"="+strings.ReplaceAll(url.QueryEscape(query[i+1]), "+", "%20"))
	}
	return u + "?" + strings.Join(parts, "&")
}
