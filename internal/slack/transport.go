package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const maxBody = 1 << 20

// transport sends requests and retries 429 and 5xx answers.
type transport struct {
	http  *http.Client
	retry retry
}

// do sends the request that build makes, again on each retry, and returns
// the final status and body. Only a failure to reach Slack is an error here;
// the caller judges the answer.
func (t transport) do(ctx context.Context, op string, build func() (*http.Request, error)) (int, []byte, error) {
	for attempt := 0; ; attempt++ {
		req, err := build()
		if err != nil {
			return 0, nil, fmt.Errorf("slack: %s: build request: %w", op, unwrapURLError(err))
		}
		resp, err := t.http.Do(req)
		if err != nil {
			// A post whose answer was lost may have been delivered, so a
			// network error is not retried. The URL of a webhook is its
			// secret: drop the *url.Error wrapper, whose text repeats it.
			return 0, nil, fmt.Errorf("slack: %s: could not reach Slack: %w", op, unwrapURLError(err))
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		if err != nil {
			return 0, nil, fmt.Errorf("slack: %s: read answer: %w", op, unwrapURLError(err))
		}
		retryAfter := retryAfterOf(resp.Header, t.retry.Now())
		if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode < 500 {
			return resp.StatusCode, body, nil
		}
		if attempt >= t.retry.MaxRetries || retryAfter > t.retry.MaxWait {
			return 0, nil, statusError(op, resp.StatusCode, body, retryAfter)
		}
		wait := retryAfter
		if wait <= 0 {
			wait = min(time.Second<<min(attempt, 16), t.retry.MaxWait)
		}
		if err := t.retry.Sleep(ctx, wait); err != nil {
			return 0, nil, err
		}
	}
}

func newRequest(ctx context.Context, method, u string, payload []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	return req, nil
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

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
