package vendorhttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// TokenCache keeps an OAuth access token from an x/oauth2 token source
// until a minute before it expires. It times the expiry on its own clock,
// from the token answer's expires_in, rather than on the oauth2 package's
// wall clock, so tests with a fake clock see tokens expire. It is safe for
// concurrent use.
type TokenCache struct {
	// Source fetches a new token; the context carries the HTTP client.
	Source func(ctx context.Context) (*oauth2.Token, error)
	// Now tells the time. Required.
	Now func() time.Time
	// Refused turns a failed fetch into the error the caller sees.
	Refused func(err error, now time.Time) error

	mu      sync.Mutex
	token   string
	expires time.Time // zero when the token answer gave no lifetime
}

// Token returns the cached token, or fetches a new one when none is cached
// or the cached one expires within a minute.
func (t *TokenCache) Token(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.Now()
	if t.token != "" && (t.expires.IsZero() || now.Before(t.expires.Add(-time.Minute))) {
		return t.token, nil
	}
	tok, err := t.Source(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", t.Refused(err, now)
	}
	t.token, t.expires = tok.AccessToken, time.Time{}
	if life := lifetime(tok); life > 0 {
		t.expires = now.Add(life)
	}
	return t.token, nil
}

// Forget drops the cached token, so the next call fetches a fresh one; a
// vendor's 401 calls for it. It reports true: one retry makes sense.
func (t *TokenCache) Forget() bool {
	t.mu.Lock()
	t.token = ""
	t.mu.Unlock()
	return true
}

// lifetime reads expires_in from the token answer.
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

// tokenRefusal is a token endpoint's answer to a request it refused.
type tokenRefusal struct {
	// Status is the HTTP status of the answer.
	Status int
	// Code is the OAuth error, such as "invalid_client".
	Code string
	// Message is the first line of the error_description.
	Message string
	// RetryAfter is the wait the endpoint asked for, when it named one.
	RetryAfter time.Duration
}

// refusedToken reads a failed x/oauth2 token request; ok is false when the
// token endpoint gave no answer at all. x/oauth2/jwt leaves the error body
// unparsed, so the OAuth error is read from the body when the library did
// not read it.
func refusedToken(err error, now time.Time) (r tokenRefusal, ok bool) {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response == nil {
		return tokenRefusal{}, false
	}
	code, desc := re.ErrorCode, re.ErrorDescription
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if code == "" && json.Unmarshal(re.Body, &body) == nil {
		code, desc = body.Error, body.Description
	}
	return tokenRefusal{Status: re.Response.StatusCode, Code: code, Message: FirstLine(desc),
		RetryAfter: RetryAfter(re.Response.Header, now)}, true
}

// TokenError turns a failed x/oauth2 token request into the error the
// caller sees: an *Error of v's when the token endpoint refused it, or one
// saying the endpoint could not be reached. It fits TokenCache.Refused.
func (v *Vendor) TokenError(err error, now time.Time) error {
	if r, ok := refusedToken(err, now); ok {
		return v.Error("get token", r.Status, r.Code, r.Message, r.RetryAfter)
	}
	return fmt.Errorf("%s: get token: could not reach the %s: %w", v.Name, v.TokenEndpoint, err)
}

// FirstLine returns the first line of a vendor's message, trimmed. Token
// endpoints' descriptions run over several lines of trace ids; the first
// says what is wrong.
func FirstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	return s
}

// Bearer returns an Authorize function that sends the token token gives as
// "Authorization: Bearer <token>".
func Bearer(token func(ctx context.Context) (string, error)) func(context.Context, *http.Request) error {
	return func(ctx context.Context, req *http.Request) error {
		tok, err := token(ctx)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		return nil
	}
}

// Authorize makes c send t's token as a bearer token, retry a token
// endpoint's 429 and 5xx, and fetch a fresh token once after a 401. It
// returns c.
func (t *TokenCache) Authorize(c *Client) *Client {
	c.Authorize, c.RetryAuth, c.Reauthorize = Bearer(t.Token), true, t.Forget
	return c
}
