package entra

import (
	"encoding/json"
	"errors"

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

// vendor names Microsoft Graph in errors; the OAuth errors of a refused
// token request all mean the credentials were refused, whatever the status.
var vendor = vendorhttp.Vendor{Name: "entra", Service: "Microsoft Graph", TokenEndpoint: "login endpoint",
	Unauthorized: ErrUnauthorized, Forbidden: ErrForbidden, NotFound: ErrNotFound, RateLimited: ErrRateLimited,
	Codes:  map[string]error{"invalid_client": ErrUnauthorized, "unauthorized_client": ErrUnauthorized, "invalid_grant": ErrUnauthorized},
	Decode: decodeError}

// decodeError reads Graph's error body, {"error": {"code", "message"}}. A
// body in another shape still gives an error with the status.
func decodeError(body []byte) (code, message string) {
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) != nil {
		return "", ""
	}
	return env.Error.Code, vendorhttp.FirstLine(env.Error.Message)
}
