package jira

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"

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

// vendor names Jira in errors; the status alone names the kind.
var vendor = vendorhttp.Vendor{Name: "jira", Service: "Jira",
	Unauthorized: ErrUnauthorized, Forbidden: ErrForbidden, NotFound: ErrNotFound, RateLimited: ErrRateLimited,
	Decode: decodeError}

// decodeError reads Jira's errorMessages and field errors, or a short
// plain-text body; Jira has no error code.
func decodeError(body []byte) (code, message string) {
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
	message = strings.Join(parts, "; ")
	if text := strings.TrimSpace(string(body)); len(parts) == 0 && text != "" && len(text) < 200 && !strings.ContainsAny(text, "<\n{") {
		message = text
	}
	return "", message
}
