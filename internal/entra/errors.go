package entra

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-ispm/vigil/internal/vendorhttp"
)

// Sentinel errors that an *Error matches with errors.Is, so callers can react
// to the kind of failure without knowing Graph's error codes.
var (
	// ErrUnauthorized means the credentials were refused: wrong client id or
	// secret, an expired secret, or an unknown tenant.
	ErrUnauthorized = errors.New("entra: credentials refused")
	// ErrForbidden means the app is authenticated but lacks a Graph
	// permission (or, for sign-in activity, the tenant lacks a P1 licence).
	ErrForbidden = errors.New("entra: permission denied")
	// ErrNotFound means the user, group or other object does not exist.
	ErrNotFound = errors.New("entra: not found")
	// ErrRateLimited means Graph was still throttling after the allowed retries.
	ErrRateLimited = errors.New("entra: rate limited")
)

// Error is a call that Graph or the token endpoint answered with an error.
// Code is Graph's error.code (e.g. "Authorization_RequestDenied") or the
// OAuth error (e.g. "invalid_client") for token requests; Message is the
// first line of Graph's error.message.
type Error = vendorhttp.Error

// newError builds an *Error and names its kind.
func newError(op string, status int, code, message string, retryAfter time.Duration) *Error {
	e := vendorhttp.NewError("entra", "Microsoft Graph", op, status, code, message, retryAfter)
	switch code {
	case "invalid_client", "unauthorized_client", "invalid_grant":
		e.Kind = ErrUnauthorized
	default:
		e.Kind = vendorhttp.KindOf(status, ErrUnauthorized, ErrForbidden, ErrNotFound, ErrRateLimited)
	}
	return e
}

// apiError parses Graph's error body, {"error": {"code", "message"}}. A body
// in another shape still gives an error with the status.
func apiError(op string, status int, body []byte, retryAfter time.Duration) *Error {
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) != nil {
		return newError(op, status, "", "", retryAfter)
	}
	return newError(op, status, env.Error.Code, vendorhttp.FirstLine(env.Error.Message), retryAfter)
}

// tokenError turns a failed token request into an *Error. Entra's
// error_description runs over several lines with trace ids; only the first
// line, which says what is wrong, is kept.
func tokenError(err error, now time.Time) error {
	if r, ok := vendorhttp.RefusedToken(err, now); ok {
		return newError("get token", r.Status, r.Code, r.Message, r.RetryAfter)
	}
	return fmt.Errorf("entra: get token: could not reach the login endpoint: %w", err)
}
