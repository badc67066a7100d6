package aws

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/vigil-ispm/vigil/internal/vendorhttp"
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

// Error is a request IAM refused. Op is the IAM action, such as
// "GetCredentialReport"; Code is AWS's error code, such as "AccessDenied".
type Error = vendorhttp.Error

// newError builds an *Error and names its kind.
func newError(op string, status int, code, message string, retryAfter time.Duration) *Error {
	e := vendorhttp.NewError("aws", "IAM", op, status, code, message, retryAfter)
	switch {
	case code == "InvalidClientTokenId" || code == "SignatureDoesNotMatch" || code == "UnrecognizedClientException" ||
		code == "ExpiredToken" || code == "IncompleteSignature" || status == http.StatusUnauthorized:
		e.Kind = ErrUnauthorized
	case code == "AccessDenied" || code == "AccessDeniedException":
		e.Kind = ErrForbidden
	case throttleCodes[code] || status == http.StatusTooManyRequests:
		e.Kind = ErrRateLimited
	}
	return e
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
		return netError(op, vendorhttp.UnwrapURLError(se.Err))
	}
	if !errors.As(err, &re) || re.Response == nil || re.HTTPStatusCode() == 0 {
		return netError(op, err)
	}
	var code, message string
	var api smithy.APIError
	if errors.As(err, &api) {
		code, message = api.ErrorCode(), api.ErrorMessage()
	}
	return newError(op, re.HTTPStatusCode(), code, message, vendorhttp.RetryAfter(re.Response.Header, now))
}

// netError is a request that got no answer at all.
func netError(op string, err error) *vendorhttp.NetError {
	return &vendorhttp.NetError{Vendor: "aws", Service: "IAM", Op: op, Err: err}
}

// retry runs call, retrying throttling and 5xx answers with Retry-After or
// exponential backoff, up to MaxRetries.
func retry[T any](ctx context.Context, c *Client, op string, call func(context.Context) (T, error)) (T, error) {
	for attempt := 0; ; attempt++ {
		out, err := call(ctx)
		if err == nil {
			return out, nil
		}
		err = fromSDK(op, err, c.cfg.Retry.Now())
		if ctx.Err() != nil || attempt >= c.cfg.Retry.MaxRetries {
			return out, err
		}
		var wait time.Duration
		var e *Error
		var ne *vendorhttp.NetError
		switch {
		case errors.As(err, &e) && (e.StatusCode >= 500 || errors.Is(e, ErrRateLimited)) && e.RetryAfter <= c.cfg.Retry.MaxWait:
			wait = e.RetryAfter
		case errors.As(err, &ne) && !vendorhttp.Blocked(err):
			// Every action this package calls only reads, so repeating
			// one after a lost answer is safe.
		default:
			return out, err
		}
		if wait <= 0 {
			wait = c.cfg.Retry.Backoff(attempt)
		}
		if err := c.cfg.Retry.Sleep(ctx, wait); err != nil {
			return out, err
		}
	}
}
