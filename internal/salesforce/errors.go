package salesforce

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
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
// from the first element of [{message, errorCode}]; for the token endpoint
// from {error, error_description}.
type Error struct {
	// Op is what the client was doing, such as "query User".
	Op string
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is Salesforce's errorCode, such as "INVALID_SESSION_ID", or the
	// OAuth error, such as "invalid_client".
	Code string
	// Message is Salesforce's message.
	Message string
	// RetryAfter is the wait asked for, when the answer had Retry-After.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("salesforce: %s: Salesforce answered %d", e.Op, e.StatusCode)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Message != "" {
		msg += ": " + strings.TrimSuffix(e.Message, ".")
	}
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return msg
}

// Is reports whether e is of the kind target names.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		switch e.Code {
		case "INVALID_SESSION_ID", "invalid_client", "invalid_client_id", "invalid_grant", "unauthorized_client":
			return true
		}
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden && e.Code != "REQUEST_LIMIT_EXCEEDED"
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests || e.Code == "REQUEST_LIMIT_EXCEEDED"
	}
	return false
}

func apiError(op string, status int, body []byte, retryAfter time.Duration) *Error {
	e := &Error{Op: op, StatusCode: status, RetryAfter: retryAfter}
	var list []struct {
		Message   string `json:"message"`
		ErrorCode string `json:"errorCode"`
	}
	if json.Unmarshal(body, &list) == nil && len(list) > 0 {
		e.Code, e.Message = list[0].ErrorCode, firstLine(list[0].Message)
	}
	if e.Code == "" && e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}

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
	return fmt.Errorf("salesforce: get token: could not reach the token endpoint: %w", err)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	return s
}
