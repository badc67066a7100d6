package google

import (
	"errors"

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

// vendor names Google in errors. The reasons userRateLimitExceeded,
// rateLimitExceeded and quotaExceeded are quota limits that Google's
// Directory API documents as to be retried with exponential backoff, even
// though they come with status 403; the OAuth errors of a refused JWT
// exchange mean the key, the subject or the delegation was refused.
var vendor = vendorhttp.Vendor{Name: "google", Service: "Google", TokenEndpoint: "token endpoint",
	Unauthorized: ErrUnauthorized, Forbidden: ErrForbidden, NotFound: ErrNotFound, RateLimited: ErrRateLimited,
	Codes: map[string]error{"userRateLimitExceeded": ErrRateLimited, "rateLimitExceeded": ErrRateLimited, "quotaExceeded": ErrRateLimited,
		"invalid_grant": ErrUnauthorized, "unauthorized_client": ErrUnauthorized, "invalid_client": ErrUnauthorized},
	Decode: decodeError}

// Error is a request Google refused. Code is Google's first errors[].reason,
// such as "notFound", or the OAuth error, such as "invalid_grant".
type Error = vendorhttp.Error
