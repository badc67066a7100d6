package google

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

const maxBody = 32 << 20

// do sends one API call, retrying 429, 5xx and rate-limit 403s (Retry-After
// when given, else exponential backoff), and refreshing the token once
// after a 401.
func (c *Client) do(ctx context.Context, op, method, u string, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("google: %s: encode request: %w", op, err)
		}
	}
	refreshed := false
	for attempt := 0; ; attempt++ {
		status, data, retryAfter, err := c.send(ctx, op, method, u, payload)
		if err != nil {
			var ne *netError
			if errors.As(err, &ne) && ctx.Err() == nil && idempotent(method) && !blocked(err) && attempt < c.cfg.MaxRetries {
				if err := c.cfg.Sleep(ctx, c.backoff(attempt)); err != nil {
					return err
				}
				continue
			}
			var te *Error
			if errors.As(err, &te) && te.Op == "get token" {
				if wait, ok := c.retryWait(te, attempt); ok {
					if err := c.cfg.Sleep(ctx, wait); err != nil {
						return err
					}
					continue
				}
			}
			return err
		}
		if status >= 200 && status < 300 {
			if out != nil {
				if err := json.Unmarshal(data, out); err != nil {
					return fmt.Errorf("google: %s: Google sent a body that is not the expected JSON: %w", op, err)
				}
			}
			return nil
		}
		if status == http.StatusUnauthorized && !refreshed {
			refreshed = true
			c.forgetToken()
			continue
		}
		e := apiError(op, status, data, retryAfter)
		if wait, ok := c.retryWait(e, attempt); ok {
			if err := c.cfg.Sleep(ctx, wait); err != nil {
				return err
			}
			continue
		}
		return e
	}
}

func (c *Client) send(ctx context.Context, op, method, u string, payload []byte) (int, []byte, time.Duration, error) {
	tok, err := c.accessToken(ctx)
	if err != nil {
		return 0, nil, 0, err
	}
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, 0, fmt.Errorf("google: %s: build request: %w", op, unwrapURLError(err))
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, nil, 0, &netError{op: op, err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return 0, nil, 0, fmt.Errorf("google: %s: read answer: %w", op, unwrapURLError(err))
	}
	if len(data) > maxBody {
		return 0, nil, 0, fmt.Errorf("google: %s: Google sent more than %d bytes in one answer", op, maxBody)
	}
	return resp.StatusCode, data, retryAfterOf(resp.Header, c.cfg.Now()), nil
}

func (c *Client) retryWait(e *Error, attempt int) (time.Duration, bool) {
	retryable := e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500 ||
		e.StatusCode == http.StatusForbidden && rateReasons[e.Reason]
	if !retryable || attempt >= c.cfg.MaxRetries || e.RetryAfter > c.cfg.MaxRetryWait {
		return 0, false
	}
	if e.RetryAfter > 0 {
		return e.RetryAfter, true
	}
	return c.backoff(attempt), true
}

// backoff is the wait before retry number attempt+1 when the server named
// none: 1 s, 2 s, 4 s, … up to MaxRetryWait, the exponential backoff Google
// asks for.
func (c *Client) backoff(attempt int) time.Duration {
	return min(time.Second<<min(attempt, 16), c.cfg.MaxRetryWait)
}

// netError is a request that got no answer at all.
type netError struct {
	op  string
	err error
}

func (e *netError) Error() string {
	return fmt.Sprintf("google: %s: could not reach Google: %v", e.op, unwrapURLError(e.err))
}

func (e *netError) Unwrap() error { return unwrapURLError(e.err) }

// idempotent says whether a request may be repeated after a network error
// without risk of doing its work twice; setting suspended=true twice is safe.
func idempotent(method string) bool {
	return method == http.MethodGet || method == http.MethodPut || method == http.MethodDelete
}

// blocked says whether the SSRF guard refused the address: retrying cannot help.
func blocked(err error) bool {
	var be *netguard.BlockedError
	return errors.As(err, &be)
}

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

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
