package okta

import (
	"encoding/json"
	"errors"

	"github.com/vigil-ispm/vigil/internal/vendorhttp"
)

// Sentinel errors that *Error matches with errors.Is, so callers can react
// to a kind of failure without reading Okta's error codes.
var (
	// ErrUnauthorized means the token is missing, wrong, revoked or expired.
	ErrUnauthorized = errors.New("okta: unauthorized")
	// ErrForbidden means the token's owner or scopes lack the permission.
	ErrForbidden = errors.New("okta: forbidden")
	// ErrNotFound means the user, group or other resource does not exist.
	ErrNotFound = errors.New("okta: not found")
	// ErrRateLimited means Okta still answered 429 after the bounded retries.
	ErrRateLimited = errors.New("okta: rate limited")
)

// Error is an answer from Okta that was not a success, with the fields of
// Okta's error object: Code is the errorCode (such as E0000011), Message the
// errorSummary, Details each errorCauses' summary and RequestID the errorId,
// which Okta support can look up.
type Error = vendorhttp.Error

// vendor names Okta in errors; the status alone names the kind.
var vendor = vendorhttp.Vendor{Name: "okta", Service: "Okta",
	Unauthorized: ErrUnauthorized, Forbidden: ErrForbidden, NotFound: ErrNotFound, RateLimited: ErrRateLimited}

// apiError builds an *Error from an answer, reading Okta's error object when
// the body holds one and falling back to the status text otherwise.
func apiError(op string, status int, body []byte) *Error {
	var env struct {
		ErrorCode    string `json:"errorCode"`
		ErrorSummary string `json:"errorSummary"`
		ErrorID      string `json:"errorId"`
		ErrorCauses  []struct {
			ErrorSummary string `json:"errorSummary"`
		} `json:"errorCauses"`
	}
	if json.Unmarshal(body, &env) == nil && (env.ErrorCode != "" || env.ErrorSummary != "") {
		e := vendor.Error(op, status, env.ErrorCode, env.ErrorSummary, 0)
		e.RequestID, e.RequestIDName = env.ErrorID, "errorId"
		for _, c := range env.ErrorCauses {
			if c.ErrorSummary != "" {
				e.Details = append(e.Details, c.ErrorSummary)
			}
		}
		return e
	}
	return vendor.Error(op, status, "", "", 0)
}
