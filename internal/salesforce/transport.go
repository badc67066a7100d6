package salesforce

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

const maxBody = 64 << 20

// do sends one API call to path (absolute path on the instance), retrying
// 429 and 5xx with Retry-After or backoff, and refreshing the token once
// after a 401.
func (c *Client) do(ctx context.Context, op, method, path string, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("salesforce: %s: encode request: %w", op, err)
		}
	}
	refreshed := false
	for attempt := 0; ; attempt++ {
		status, data, retryAfter, err := c.send(ctx, op, method, path, payload)
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
			if out != nil && len(bytes.TrimSpace(data)) > 0 {
				if err := json.Unmarshal(data, out); err != nil {
					return fmt.Errorf("salesforce: %s: Salesforce sent a body that is not the expected JSON: %w", op, err)
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
		return apiError(op, status, data, retryAfter)
	}
}

func (c *Client) send(ctx context.Context, op, method, path string, payload []byte) (int, []byte, time.Duration, error) {
	tok, instance, err := c.session(ctx)
	if err != nil {
		return 0, nil, 0, err
	}
	u := *instance
	u.Path, u.RawQuery = path, ""
	if p, q, ok := strings.Cut(path, "?"); ok {
		u.Path, u.RawQuery = p, q
	}
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return 0, nil, 0, fmt.Errorf("salesforce: %s: build request: %w", op, unwrapURLError(err))
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
		return 0, nil, 0, fmt.Errorf("salesforce: %s: read answer: %w", op, unwrapURLError(err))
	}
	if len(data) > maxBody {
		return 0, nil, 0, fmt.Errorf("salesforce: %s: Salesforce sent more than %d bytes in one answer", op, maxBody)
	}
	return resp.StatusCode, data, retryAfterOf(resp.Header, c.cfg.Now()), nil
}

// retryWait says whether an answer may be retried on this attempt and how
// long to wait: Retry-After when given (longer than MaxRetryWait is not
// accepted), else backoff.
func (c *Client) retryWait(status int, retryAfter time.Duration, attempt int) (time.Duration, bool) {
	if status != http.StatusTooManyRequests && status < 500 || attempt >= c.cfg.MaxRetries ||
		retryAfter > c.cfg.MaxRetryWait {
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
	return fmt.Sprintf("salesforce: %s: could not reach Salesforce: %v", e.op, unwrapURLError(e.err))
}

func (e *netError) Unwrap() error { return unwrapURLError(e.err) }

// idempotent says whether a request may be repeated after a network error
// without risk of doing its work twice. PATCH IsActive=false is safe to
// repeat, but PATCH in general is not, so it is not counted.
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
