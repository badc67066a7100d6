package jira

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Sentinel errors that an *Error matches with errors.Is.
var (
	// ErrUnauthorized means the email and API token were refused.
	ErrUnauthorized = errors.New("jira: credentials refused")
	// ErrForbidden means the account may not do this (for example, create
	// issues in that project).
	ErrForbidden = errors.New("jira: permission denied")
	// ErrNotFound means the resource does not exist or is not visible.
	ErrNotFound = errors.New("jira: not found")
	// ErrRateLimited means Jira was still rate limiting after the allowed retries.
	ErrRateLimited = errors.New("jira: rate limited")
)

// Error is a request Jira refused, parsed from {errorMessages[], errors{}}.
type Error struct {
	// Op is what the client was doing, such as "create issue in SEC".
	Op string
	// StatusCode is the HTTP status.
	StatusCode int
	// Messages are Jira's errorMessages.
	Messages []string
	// Fields maps a field name to what is wrong with it, from Jira's errors.
	Fields map[string]string
	// RetryAfter is the wait Jira asked for, when it sent Retry-After.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	parts := append([]string(nil), e.Messages...)
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, k+": "+strings.TrimSuffix(e.Fields[k], "."))
	}
	for i, p := range parts {
		parts[i] = strings.TrimSuffix(p, ".")
	}
	msg := fmt.Sprintf("jira: %s: Jira answered %d", e.Op, e.StatusCode)
	if len(parts) > 0 {
		msg += ": " + strings.Join(parts, "; ")
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
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	}
	return false
}

func apiError(op string, status int, body []byte, retryAfter time.Duration) *Error {
	e := &Error{Op: op, StatusCode: status, RetryAfter: retryAfter}
	var env struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
	}
	if json.Unmarshal(body, &env) == nil {
		e.Messages = env.ErrorMessages
		if len(env.Errors) > 0 {
			e.Fields = env.Errors
		}
	}
	if len(e.Messages) == 0 && len(e.Fields) == 0 {
		if text := strings.TrimSpace(string(body)); text != "" && len(text) < 200 && !strings.ContainsAny(text, "<\n{") {
			e.Messages = []string{text}
		} else {
			e.Messages = []string{http.StatusText(status)}
		}
	}
	return e
}
