package google

import (
	"errors"
	"fmt"
	"time"

	"github.com/vigil-ispm/vigil/internal/vendorhttp"
)

// Sentinel errors that an *Error matches with errors.Is.
var (
	// ErrUnauthorized means the key, the subject or the delegation was refused.
	ErrUnauthorized = errors.New("google: credentials refused")
	// ErrForbidden means the subject or the scopes do not allow the call.
	ErrForbidden = errors.New("google: permission denied")
	// ErrNotFound means the user does not exist.
	ErrNotFound = errors.New("google: not found")
	// ErrRateLimited means Google was still rate limiting after the allowed retries.
	ErrRateLimited = errors.New("google: rate limited")
)

// rateReasons are the error reasons Google's Directory API documents as
// quota limits to retry with exponential backoff, even though they come
// with status 403.
var rateReasons = map[string]bool{"userRateLimitExceeded": true, "rateLimitExceeded": true, "quotaExceeded": true}

// Error is a request Google refused. Code is Google's first errors[].reason,
// such as "notFound", or the OAuth error, such as "invalid_grant".
type Error = vendorhttp.Error

// newError builds an *Error and names its kind.
func newError(op string, status int, reason, message string, retryAfter time.Duration) *Error {
	e := vendorhttp.NewError("google", "Google", op, status, reason, message, retryAfter)
	switch {
	case reason == "invalid_grant" || reason == "unauthorized_client" || reason == "invalid_client":
		e.Kind = ErrUnauthorized
	case rateReasons[reason]:
		e.Kind = ErrRateLimited
	default:
		e.Kind = vendorhttp.KindOf(status, ErrUnauthorized, ErrForbidden, ErrNotFound, ErrRateLimited)
	}
	return e
}

func apiError(op string, status int, body []byte, retryAfter time.Duration) *Error {
	reason, message := decodeError(body)
	return newError(op, status, reason, message, retryAfter)
}

// tokenError reads a failed JWT exchange.
func tokenError(err error, now time.Time) error {
	if r, ok := vendorhttp.RefusedToken(err, now); ok {
		return newError("get token", r.Status, r.Code, r.Message, r.RetryAfter)
	}
	return fmt.Errorf("google: get token: %w", err)
}
