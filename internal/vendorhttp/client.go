// Package vendorhttp is the one HTTP transport of Vigil's vendor clients
// (internal/okta, entra, google, salesforce, slack, jira; aws shares its
// retry and error parts): it builds each request, sets the credentials,
// retries throttling and server errors with Retry-After or a jittered
// backoff, reads a bounded body, follows next-page links only to the same
// host, and turns a refusal into one *Error with the vendor's code and the
// HTTP status. A vendor package keeps only what is specific to its API:
// endpoints, its error body, its rate-limit headers, its token.
//
// It sends through the *http.Client it is given, which callers build with
// internal/netguard, so every vendor call passes the SSRF guard.
package vendorhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// DefaultMaxBody bounds how much of one answer is read, so a broken or
// hostile server cannot exhaust memory.
const DefaultMaxBody = 32 << 20

// Client sends the requests of one vendor. Vendor packages fill one in New;
// its fields do not change afterwards, so it is safe for concurrent use.
type Client struct {
	// Vendor names the vendor in errors. Required.
	Vendor *Vendor
	// HTTP sends every request. Required: Vigil's SSRF-guarded client.
	HTTP *http.Client
	// Retry says how often and how long to wait before a retry.
	Retry Retry
	// MaxBody bounds one answer. Default DefaultMaxBody.
	MaxBody int64
	// Header is set on every request, such as Accept or User-Agent.
	Header http.Header
	// Authorize sets the credentials of one attempt. An *Error it returns
	// (a token endpoint's refusal) is retried like an answer when
	// RetryAuth is set; any other error ends the call.
	Authorize func(ctx context.Context, req *http.Request) error
	// RetryAuth retries a token endpoint's 429 and 5xx.
	RetryAuth bool
	// Reauthorize drops cached credentials after a 401 and reports
	// whether one more try with fresh ones makes sense. Nil means never.
	Reauthorize func() bool
	// Before runs before every attempt, for instance to wait out a
	// rate-limit window the vendor announced.
	Before func(ctx context.Context) error
	// Seen is shown every answer, for instance to note rate-limit headers.
	Seen func(r *Response)
	// RetryWait says whether an answer that is not a success may be
	// retried, and how long to wait first (0 means the backoff). Nil
	// means DefaultRetryWait.
	RetryWait func(r *Response) (wait time.Duration, retry bool)
	// RetryNetwork says whether a request that got no answer may be sent
	// again. Nil means Idempotent.
	RetryNetwork func(method string) bool
	// Refusal turns a final answer that is not a success into the error
	// the caller sees. Nil means Vendor.Refusal, an *Error built from the
	// vendor's body by Vendor.Decode.
	Refusal func(op string, r *Response) error
}

// Request is one call.
type Request struct {
	// Op says what the call does, for errors: "list users".
	Op     string
	Method string
	// URL is absolute. The caller builds it from its configured base.
	URL string
	// Body is sent as JSON when not nil; RawBody as it is, with Header's
	// Content-Type.
	Body    any
	RawBody []byte
	// Header adds headers to this request only.
	Header http.Header
	// Answer, when set, accepts answers Do would otherwise refuse, such as
	// Slack's webhooks that report errors in a 4xx plain-text body: Do
	// returns them as they are and the caller judges them.
	Answer func(status int) bool
}

// Response is an answer. Body is read whole, up to MaxBody.
type Response struct {
	Status     int
	Header     http.Header
	Body       []byte
	RetryAfter time.Duration
}

// DefaultRetryWait retries 429 and 5xx, waiting for Retry-After when the
// vendor sent it.
func DefaultRetryWait(r *Response) (time.Duration, bool) {
	return r.RetryAfter, r.Status == http.StatusTooManyRequests || r.Status >= 500
}

// Do sends req, retrying as the Client says, and returns the first success
// (2xx, or what req.Answer accepts) or an error.
func (c *Client) Do(ctx context.Context, req Request) (*Response, error) {
	payload := req.RawBody
	if req.Body != nil {
		var err error
		if payload, err = json.Marshal(req.Body); err != nil {
			return nil, fmt.Errorf("%s: %s: encode request: %w", c.Vendor.Name, req.Op, err)
		}
	}
	retryWait := c.RetryWait
	if retryWait == nil {
		retryWait = DefaultRetryWait
	}
	reauthorized := false
	for attempt := 0; ; attempt++ {
		if c.Before != nil {
			if err := c.Before(ctx); err != nil {
				return nil, fmt.Errorf("%s: %s: %w", c.Vendor.Name, req.Op, err)
			}
		}
		res, err := c.send(ctx, req, payload)
		if err != nil {
			wait, retry := c.retryError(ctx, req, err, attempt)
			if !retry {
				return nil, err
			}
			if err := c.Retry.Sleep(ctx, wait); err != nil {
				return nil, err
			}
			continue
		}
		if c.Seen != nil {
			c.Seen(res)
		}
		if res.Status >= 200 && res.Status < 300 || req.Answer != nil && req.Answer(res.Status) {
			return res, nil
		}
		if res.Status == http.StatusUnauthorized && !reauthorized && c.Reauthorize != nil && c.Reauthorize() {
			reauthorized = true
			attempt--
			continue
		}
		if wait, retry := retryWait(res); retry && attempt < c.Retry.MaxRetries && wait <= c.Retry.MaxWait {
			if wait <= 0 {
				wait = c.Retry.Backoff(attempt)
			}
			if err := c.Retry.Sleep(ctx, wait); err != nil {
				return nil, err
			}
			continue
		}
		if c.Refusal != nil {
			return nil, c.Refusal(req.Op, res)
		}
		return nil, c.Vendor.Refusal(req.Op, res)
	}
}

// retryError says whether a call that failed without an answer, or whose
// credentials could not be fetched, may be tried again and after how long.
func (c *Client) retryError(ctx context.Context, req Request, err error, attempt int) (time.Duration, bool) {
	if ctx.Err() != nil || attempt >= c.Retry.MaxRetries || Blocked(err) {
		return 0, false
	}
	var ne *NetError
	if errors.As(err, &ne) {
		retryNetwork := c.RetryNetwork
		if retryNetwork == nil {
			retryNetwork = Idempotent
		}
		return c.Retry.Backoff(attempt), retryNetwork(req.Method)
	}
	var te *Error
	if c.RetryAuth && errors.As(err, &te) {
		retryable := te.StatusCode == http.StatusTooManyRequests || te.StatusCode >= 500
		if !retryable || te.RetryAfter > c.Retry.MaxWait {
			return 0, false
		}
		if te.RetryAfter > 0 {
			return te.RetryAfter, true
		}
		return c.Retry.Backoff(attempt), true
	}
	return 0, false
}

// send makes one attempt: build the request, authorize it, read the answer.
func (c *Client) send(ctx context.Context, req Request, payload []byte) (*Response, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, body)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: build request: %w", c.Vendor.Name, req.Op, UnwrapURLError(err))
	}
	for k, v := range c.Header {
		hr.Header[k] = v
	}
	if req.Body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	for k, v := range req.Header {
		hr.Header[k] = v
	}
	if c.Authorize != nil {
		if err := c.Authorize(ctx, hr); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, err
		}
	}
	resp, err := c.HTTP.Do(hr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, c.Vendor.NetError(req.Op, UnwrapURLError(err))
	}
	defer resp.Body.Close()
	limit := c.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %s: read answer: %w", c.Vendor.Name, req.Op, UnwrapURLError(err))
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: %s: %s sent more than %d bytes in one answer", c.Vendor.Name, req.Op, c.Vendor.Service, limit)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data,
		RetryAfter: RetryAfter(resp.Header, c.Retry.Now())}, nil
}

// JSON is Do that asks for JSON (Accept: application/json, unless the
// client or the request names another type) and decodes a success's body
// into out, when out is not nil and the body is not empty (a 204, say).
func (c *Client) JSON(ctx context.Context, req Request, out any) error {
	if c.Header.Get("Accept") == "" && req.Header.Get("Accept") == "" {
		req.Header = req.Header.Clone()
		if req.Header == nil {
			req.Header = http.Header{}
		}
		req.Header.Set("Accept", "application/json")
	}
	res, err := c.Do(ctx, req)
	if err != nil {
		return err
	}
	if out == nil || len(bytes.TrimSpace(res.Body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(res.Body, out); err != nil {
		return fmt.Errorf("%s: %s: %s sent a body that is not the expected JSON: %w", c.Vendor.Name, req.Op, c.Vendor.Service, err)
	}
	return nil
}
