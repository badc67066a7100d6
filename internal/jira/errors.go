package jira

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/vendorhttp"
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

// Error is a request Jira refused. Its Message is Jira's errorMessages,
// then "field: what is wrong" for each of its field errors, by field,
// joined by "; ".
type Error = vendorhttp.Error

func apiError(op string, status int, body []byte, retryAfter time.Duration) *Error {
	e := &Error{Vendor: "jira", Service: "Jira", Op: op, StatusCode: status, RetryAfter: retryAfter,
		Kind: vendorhttp.KindOf(status, ErrUnauthorized, ErrForbidden, ErrNotFound, ErrRateLimited)}
	var env struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
	}
	var parts []string
	if json.Unmarshal(body, &env) == nil {
		parts = env.ErrorMessages
		for _, k := range slices.Sorted(maps.Keys(env.Errors)) {
			parts = append(parts, k+": "+env.Errors[k])
		}
	}
	for i, p := range parts {
		parts[i] = strings.TrimSuffix(p, ".")
	}
	e.Message = strings.Join(parts, "; ")
	if len(parts) == 0 {
		if text := strings.TrimSpace(string(body)); text != "" && len(text) < 200 && !strings.ContainsAny(text, "<\n{") {
			e.Message = text
		} else {
			e.Message = http.StatusText(status)
		}
	}
	return e
}
