package google

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

// Error is a request Google refused, from {"error": {"code", "message",
// "errors": [{"reason"}]}} or, for the token endpoint, {error, error_description}.
type Error struct {
	// Op is what the client was doing, such as "list users".
	Op string
	// StatusCode is the HTTP status.
	StatusCode int
	// Reason is Google's first errors[].reason, such as "notFound", or the
	// OAuth error, such as "invalid_grant".
	Reason string
	// Message is Google's message.
	Message string
	// RetryAfter is the wait asked for, when the answer had Retry-After.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("google: %s: Google answered %d", e.Op, e.StatusCode)
	if e.Reason != "" {
		msg += " " + e.Reason
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
		switch e.Reason {
		case "invalid_grant", "unauthorized_client", "invalid_client":
			return true
		}
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden && !rateReasons[e.Reason]
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests || rateReasons[e.Reason]
	}
	return false
}

func apiError(op string, status int, body []byte, retryAfter time.Duration) *Error {
	e := &Error{Op: op, StatusCode: status, RetryAfter: retryAfter}
	var env struct {
		Error struct {
			Message string `json:"message"`
			Errors  []struct {
				Reason string `json:"reason"`
			} `json:"errors"`
			Status string `json:"status"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil {
		e.Message = env.Error.Message
		if len(env.Error.Errors) > 0 {
			e.Reason = env.Error.Errors[0].Reason
		} else {
			e.Reason = env.Error.Status
		}
	}
	if e.Reason == "" && e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}

// tokenError reads a failed JWT exchange. x/oauth2/jwt leaves the body
// unparsed, so the OAuth error is read here.
func tokenError(err error, now time.Time) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		e := &Error{Op: "get token", StatusCode: re.Response.StatusCode, Reason: re.ErrorCode,
			Message: re.ErrorDescription, RetryAfter: retryAfterOf(re.Response.Header, now)}
		var body struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if e.Reason == "" && json.Unmarshal(re.Body, &body) == nil {
			e.Reason, e.Message = body.Error, body.Description
		}
		if e.Reason == "" && e.Message == "" {
			e.Message = http.StatusText(e.StatusCode)
		}
		return e
	}
	return fmt.Errorf("google: get token: %w", err)
}
