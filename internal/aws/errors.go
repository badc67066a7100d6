package aws

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/vigil-ispm/vigil/internal/netguard"
)

// Sentinel errors that an *Error matches with errors.Is.
var (
	// ErrUnauthorized means the access key or its signature was refused.
	ErrUnauthorized = errors.New("aws: credentials refused")
	// ErrForbidden means the credentials lack an IAM permission.
	ErrForbidden = errors.New("aws: permission denied")
	// ErrRateLimited means IAM was still throttling after the allowed retries.
	ErrRateLimited = errors.New("aws: rate limited")
)

// throttleCodes are the error codes AWS services use for throttling.
var throttleCodes = map[string]bool{"Throttling": true, "ThrottlingException": true, "RequestLimitExceeded": true,
	"TooManyRequestsException": true, "RequestThrottled": true, "RequestThrottledException": true, "SlowDown": true}

// Error is a request IAM refused.
type Error struct {
	// Op is the IAM action, such as "GetCredentialReport".
	Op string
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is AWS's error code, such as "AccessDenied".
	Code string
	// Message is AWS's message.
	Message string
	// RetryAfter is the wait asked for, when the answer had Retry-After.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("aws: %s: IAM answered %d", e.Op, e.StatusCode)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Message != "" {
		msg += ": " + strings.TrimSuffix(e.Message, ".")
	}
	return msg
}

// Is reports whether e is of the kind target names.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		switch e.Code {
		case "InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException", "ExpiredToken", "IncompleteSignature":
			return true
		}
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.Code == "AccessDenied" || e.Code == "AccessDeniedException"
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests || throttleCodes[e.Code]
	}
	return false
}

// fromSDK turns an SDK error into an *Error when IAM answered, or a wrapped
// error when it could not be reached.
func fromSDK(op string, err error, now time.Time) error {
	var ce *smithy.CanceledError
	if errors.As(err, &ce) {
		return ce.Err
	}
	var se *smithyhttp.RequestSendError
	var re *smithyhttp.ResponseError
	if errors.As(err, &se) {
		// The SDK's text repeats the operation and the URL; keep the cause.
		var ue *url.Error
		if errors.As(se.Err, &ue) {
			return &netError{op: op, err: ue.Err}
		}
		return &netError{op: op, err: se.Err}
	}
	if !errors.As(err, &re) || re.Response == nil || re.HTTPStatusCode() == 0 {
		return &netError{op: op, err: err}
	}
	e := &Error{Op: op, StatusCode: re.HTTPStatusCode()}
	if re.Response != nil {
		e.RetryAfter = retryAfterOf(re.Response.Header, now)
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		e.Code, e.Message = api.ErrorCode(), api.ErrorMessage()
	}
	if e.Code == "" && e.Message == "" {
		e.Message = http.StatusText(e.StatusCode)
	}
	return e
}

// netError is a request that got no answer at all.
type netError struct {
	op  string
	err error
}

func (e *netError) Error() string {
	return fmt.Sprintf("aws: %s: could not reach IAM: %v", e.op, e.err)
}

func (e *netError) Unwrap() error { return e.err }

// blocked says whether the SSRF guard refused the address: retrying cannot help.
func blocked(err error) bool {
	var be *netguard.BlockedError
	return errors.As(err, &be)
}

func retryAfterOf(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// retry runs call, retrying throttling and 5xx answers with Retry-After or
// exponential backoff, up to MaxRetries.
func retry[T any](ctx context.Context, c *Client, op string, call func(context.Context) (T, error)) (T, error) {
	for attempt := 0; ; attempt++ {
		out, err := call(ctx)
		if err == nil {
			return out, nil
		}
		err = fromSDK(op, err, c.cfg.Now())
		if ctx.Err() != nil || attempt >= c.cfg.MaxRetries {
			return out, err
		}
		var wait time.Duration
		var e *Error
		var ne *netError
		switch {
		case errors.As(err, &e) && (e.StatusCode >= 500 || errors.Is(e, ErrRateLimited)) && e.RetryAfter <= c.cfg.MaxRetryWait:
			wait = e.RetryAfter
		case errors.As(err, &ne) && !blocked(err):
			// Every action this package calls only reads, so repeating
			// one after a lost answer is safe.
		default:
			return out, err
		}
		if wait <= 0 {
			wait = min(time.Second<<min(attempt, 16), c.cfg.MaxRetryWait)
		}
		if err := c.cfg.Sleep(ctx, wait); err != nil {
			return out, err
		}
	}
}
