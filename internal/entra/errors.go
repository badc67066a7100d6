package entra

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
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

// Error is a call that Graph or the token endpoint answered with an error. Its
// message is one sentence naming the operation and Graph's own explanation; it
// never contains the client secret or a token.
type Error struct {
	// Op is what the client was doing, such as "list users".
	Op string
	// StatusCode is the HTTP status of the last answer.
	StatusCode int
	// Code is Graph's error.code (e.g. "Authorization_RequestDenied") or the
	// OAuth error (e.g. "invalid_client") for token requests.
	Code string
	// Message is Graph's error.message, first line only.
	Message string
	// RetryAfter is the wait the server asked for, when it sent Retry-After.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "entra: %s: Microsoft Graph answered %d", e.Op, e.StatusCode)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", strings.TrimSuffix(e.Message, "."))
	}
	if e.StatusCode == http.StatusTooManyRequests && e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// Is reports whether e is of the kind target names.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized ||
			e.Code == "invalid_client" || e.Code == "unauthorized_client" || e.Code == "invalid_grant"
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	}
	return false
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
	e := &Error{Op: op, StatusCode: status, RetryAfter: retryAfter}
	if json.Unmarshal(body, &env) == nil {
		e.Code = env.Error.Code
		e.Message = firstLine(env.Error.Message)
	}
	if e.Code == "" && e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}

// tokenError turns a failed token request into an *Error. Entra's
// error_description runs over several lines with trace ids; only the first
// line, which says what is wrong, is kept.
func tokenError(err error, now time.Time) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		e := &Error{Op: "get token", StatusCode: re.Response.StatusCode, Code: re.ErrorCode,
			Message: firstLine(re.ErrorDescription), RetryAfter: retryAfterOf(re.Response.Header, now)}
		if e.Code == "" && e.Message == "" {
			e.Message = http.StatusText(e.StatusCode)
		}
		return e
	}
	return fmt.Errorf("entra: get token: could not reach the login endpoint: %w", err)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	return s
}
