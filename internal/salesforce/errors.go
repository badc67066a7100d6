package salesforce

import (
	"encoding/json"
	"errors"

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

// vendor names Salesforce in errors. An expired session and the OAuth
// errors of a refused token request mean the credentials were refused, and
// REQUEST_LIMIT_EXCEEDED (a 403) means the org's API limit was reached.
var vendor = vendorhttp.Vendor{Name: "salesforce", Service: "Salesforce", TokenEndpoint: "token endpoint",
	Unauthorized: ErrUnauthorized, Forbidden: ErrForbidden, NotFound: ErrNotFound, RateLimited: ErrRateLimited,
	Codes: map[string]error{"INVALID_SESSION_ID": ErrUnauthorized, "invalid_client": ErrUnauthorized,
		"invalid_client_id": ErrUnauthorized, "invalid_grant": ErrUnauthorized, "unauthorized_client": ErrUnauthorized,
		"REQUEST_LIMIT_EXCEEDED": ErrRateLimited},
	Decode: decodeError}

// decodeError reads the first element of Salesforce's [{message, errorCode}].
func decodeError(body []byte) (code, message string) {
	var list []struct {
		Message   string `json:"message"`
		ErrorCode string `json:"errorCode"`
	}
	if json.Unmarshal(body, &list) != nil || len(list) == 0 {
		return "", ""
	}
	return list[0].ErrorCode, vendorhttp.FirstLine(list[0].Message)
}
