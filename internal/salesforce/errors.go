package salesforce

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-ispm/vigil/internal/vendorhttp"
)

// Sentinel errors that an *Error matches with errors.Is.
var (
	// ErrUnauthorized means the client credentials or the session were refused.
	ErrUnauthorized = errors.New("salesforce: credentials refused")
	// ErrForbidden means the integration user lacks a permission.
	ErrForbidden = errors.New("salesforce: permission denied")
	// ErrNotFound means the record or resource does not exist.
	ErrNotFound = errors.New("salesforce: not found")
	// ErrRateLimited means the org's API limit was reached (403
	// REQUEST_LIMIT_EXCEEDED) or throttling outlasted the retries.
	ErrRateLimited = errors.New("salesforce: rate limited")
)

// Error is a request Salesforce refused. For API calls Code and Message come
// from the first element of [{message, errorCode}], Code being such as
// "INVALID_SESSION_ID"; for the token endpoint from {error,
// error_description}, such as "invalid_client".
type Error = vendorhttp.Error

// newError builds an *Error and names its kind.
func newError(op string, status int, code, message string, retryAfter time.Duration) *Error {
	e := vendorhttp.NewError("salesforce", "Salesforce", op, status, code, message, retryAfter)
	switch code {
	case "INVALID_SESSION_ID", "invalid_client", "invalid_client_id", "invalid_grant", "unauthorized_client":
		e.Kind = ErrUnauthorized
	case "REQUEST_LIMIT_EXCEEDED":
		e.Kind = ErrRateLimited
	default:
		e.Kind = vendorhttp.KindOf(status, ErrUnauthorized, ErrForbidden, ErrNotFound, ErrRateLimited)
	}
	return e
}

func apiError(op string, status int, body []byte, retryAfter time.Duration) *Error {
	var list []struct {
		Message   string `json:"message"`
		ErrorCode string `json:"errorCode"`
	}
	if json.Unmarshal(body, &list) == nil && len(list) > 0 {
		return newError(op, status, list[0].ErrorCode, vendorhttp.FirstLine(list[0].Message), retryAfter)
	}
	return newError(op, status, "", "", retryAfter)
}

func tokenError(err error, now time.Time) error {
	if r, ok := vendorhttp.RefusedToken(err, now); ok {
		return newError("get token", r.Status, r.Code, r.Message, r.RetryAfter)
	}
	return fmt.Errorf("salesforce: get token: could not reach the token endpoint: %w", err)
}
