package okta

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
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
// Okta's error object.
type Error struct {
	// Op is what the client was doing, such as "list users".
	Op string
	// Status is the HTTP status code.
	Status int
	// Code is Okta's errorCode, such as E0000011.
	Code string
	// Summary is Okta's errorSummary.
	Summary string
	// ID is Okta's errorId, which Okta support can look up.
	ID string
	// Causes holds the errorSummary of each of Okta's errorCauses.
	Causes []string
}

// Error returns one sentence with the operation, the status, the code and
// Okta's summary.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "okta: %s: Okta answered %d", e.Op, e.Status)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Summary != "" {
		fmt.Fprintf(&b, ": %s", strings.TrimSuffix(e.Summary, "."))
	}
	if len(e.Causes) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.TrimSuffix(strings.Join(e.Causes, "; "), "."))
	}
	if e.ID != "" {
		fmt.Fprintf(&b, " [errorId %s]", e.ID)
	}
	return b.String()
}

// Is lets errors.Is match the sentinel errors of this package.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	}
	return false
}

// apiError builds an *Error from an answer, reading Okta's error object when
// the body holds one and falling back to the status text otherwise.
func apiError(op string, status int, body []byte) *Error {
	e := &Error{Op: op, Status: status}
	var env struct {
		ErrorCode    string `json:"errorCode"`
		ErrorSummary string `json:"errorSummary"`
		ErrorID      string `json:"errorId"`
		ErrorCauses  []struct {
			ErrorSummary string `json:"errorSummary"`
		} `json:"errorCauses"`
	}
	if json.Unmarshal(body, &env) == nil && (env.ErrorCode != "" || env.ErrorSummary != "") {
		e.Code, e.Summary, e.ID = env.ErrorCode, env.ErrorSummary, env.ErrorID
		for _, c := range env.ErrorCauses {
			if c.ErrorSummary != "" {
				e.Causes = append(e.Causes, c.ErrorSummary)
			}
		}
		return e
	}
	e.Summary = http.StatusText(status)
	return e
}
