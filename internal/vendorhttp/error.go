package vendorhttp

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/netguard"
)

// Error is an answer a vendor refused, the same type for every vendor so
// that callers read one status and one code. Its message is one sentence
// naming the operation and the vendor's explanation; it never holds a
// credential.
type Error struct {
	// Vendor is the client package, such as "okta", which begins the message.
	Vendor string
	// Service is the vendor's name in the message, such as "Microsoft Graph".
	Service string
	// Op is what the client was doing, such as "list users".
	Op string
	// StatusCode is the HTTP status of the last answer. Slack reports most
	// failures with 200.
	StatusCode int
	// Code is the vendor's own error code, such as Okta's E0000011, Graph's
	// Authorization_RequestDenied, Google's notFound or an OAuth error.
	Code string
	// Message is the vendor's explanation.
	Message string
	// Details are further explanations, such as Okta's errorCauses or
	// Jira's field errors.
	Details []string
	// RequestID is the vendor's id of the failed request, which its
	// support can look up; RequestIDName is what the vendor calls it, such
	// as Okta's "errorId" (default "request id").
	RequestID, RequestIDName string
	// RetryAfter is the wait the vendor asked for, when it named one.
	RetryAfter time.Duration
	// Kind is the sentinel error of the vendor package that errors.Is
	// matches, such as okta.ErrNotFound; nil when none fits.
	Kind error
}

// Error returns "<vendor>: <op>: <service> answered <status> <code>:
// <message> (<details>) [<id name> <id>] (retry after …)", leaving out what
// is empty. A refusal with status 200 (Slack's way) names only the code.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s: %s answered", e.Vendor, e.Op, e.Service)
	if e.StatusCode != http.StatusOK || e.Code == "" {
		fmt.Fprintf(&b, " %d", e.StatusCode)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", strings.TrimSuffix(e.Message, "."))
	}
	if len(e.Details) > 0 {
		d := make([]string, len(e.Details))
		for i, s := range e.Details {
			d[i] = strings.TrimSuffix(s, ".")
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(d, "; "))
	}
	if e.RequestID != "" {
		name := e.RequestIDName
		if name == "" {
			name = "request id"
		}
		fmt.Fprintf(&b, " [%s %s]", name, e.RequestID)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// Is reports whether target is e's Kind.
func (e *Error) Is(target error) bool {
	return e.Kind != nil && target == e.Kind
}

// Vendor describes a vendor client for its errors: the names its messages
// use and the sentinel errors of its package that its *Error values match
// with errors.Is. Each vendor package keeps one, beside its sentinels, and
// its own decoding of the vendor's error body.
type Vendor struct {
	// Name is the client package, such as "okta", which begins every message.
	Name string
	// Service is the vendor's name in messages, such as "Microsoft Graph".
	Service string
	// Unauthorized, Forbidden, NotFound and RateLimited are the sentinels
	// that the statuses 401, 403, 404 and 429 name on their own; nil where
	// the status alone says too little.
	Unauthorized, Forbidden, NotFound, RateLimited error
	// Codes names the sentinel for the vendor's own error codes that say
	// more than the status, such as Google's 403 userRateLimitExceeded or
	// an OAuth invalid_client.
	Codes map[string]error
	// TokenEndpoint names, for a token request that got no answer, where it
	// went, such as "login endpoint".
	TokenEndpoint string
	// Decode reads the vendor's error body: its own code and its
	// explanation, "" for what the body does not hold. Nil reads nothing.
	Decode func(body []byte) (code, message string)
}

// Refusal is the *Error for an answer that is not a success, its body read
// by Decode. A Client without a Refusal of its own uses it.
func (v *Vendor) Refusal(op string, r *Response) error {
	var code, message string
	if v.Decode != nil {
		code, message = v.Decode(r.Body)
	}
	return v.Error(op, r.Status, code, message, r.RetryAfter)
}

// Error returns an *Error of v's. Its Kind is the sentinel Codes gives for
// code, or else the one the status names; an answer that carried neither a
// code nor a message gets its status text as the message.
func (v *Vendor) Error(op string, status int, code, message string, retryAfter time.Duration) *Error {
	if code == "" && message == "" {
		message = http.StatusText(status)
	}
	return &Error{Vendor: v.Name, Service: v.Service, Op: op, StatusCode: status, Code: code, Message: message,
		RetryAfter: retryAfter, Kind: v.kind(status, code)}
}

func (v *Vendor) kind(status int, code string) error {
	if k, ok := v.Codes[code]; ok && code != "" {
		return k
	}
	switch status {
	case http.StatusUnauthorized:
		return v.Unauthorized
	case http.StatusForbidden:
		return v.Forbidden
	case http.StatusNotFound:
		return v.NotFound
	case http.StatusTooManyRequests:
		return v.RateLimited
	}
	return nil
}

// NetError is a request that got no answer at all: the vendor could not be
// reached, the connection broke or the guard refused the address.
type NetError struct {
	Vendor, Service, Op string
	Err                 error
}

func (e *NetError) Error() string {
	return fmt.Sprintf("%s: %s: could not reach %s: %v", e.Vendor, e.Op, e.Service, e.Err)
}

func (e *NetError) Unwrap() error { return e.Err }

// NetError returns a *NetError of v's: op got no answer because of err.
func (v *Vendor) NetError(op string, err error) *NetError {
	return &NetError{Vendor: v.Name, Service: v.Service, Op: op, Err: err}
}

// Blocked reports whether the SSRF guard refused the address: retrying
// cannot help.
func Blocked(err error) bool {
	var be *netguard.BlockedError
	return errors.As(err, &be)
}

// UnwrapURLError drops the *url.Error wrapper, whose text repeats the URL
// (and so a webhook's secret path or a query).
func UnwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Setting is a required setting of a vendor client: its name as a user
// knows it, and whether it was given.
type Setting struct {
	Name  string
	Given bool
}

// Missing returns one error naming every required setting that was not
// given, "<vendor>: the <holder> is missing the <a>, the <b>", or nil.
func Missing(vendor, holder string, settings ...Setting) error {
	var missing []string
	for _, s := range settings {
		if !s.Given {
			missing = append(missing, s.Name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%s: the %s is missing the %s", vendor, holder, strings.Join(missing, ", the "))
}

// Need is the Setting name, given when given is true.
func Need(name string, given bool) Setting { return Setting{Name: name, Given: given} }
