package aws

import (
	"context"
	"errors"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
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

// vendor names IAM in errors. IAM tells refused credentials, missing
// permissions and throttling apart by its error codes: it answers 403 for
// an unknown access key as for a missing permission, so a 403 alone names
// no kind. The throttling codes are those AWS services use.
var vendor = vendorhttp.Vendor{Name: "aws", Service: "IAM", Unauthorized: ErrUnauthorized, RateLimited: ErrRateLimited,
	Codes: map[string]error{
		"InvalidClientTokenId": ErrUnauthorized, "SignatureDoesNotMatch": ErrUnauthorized, "UnrecognizedClientException": ErrUnauthorized,
		"ExpiredToken": ErrUnauthorized, "IncompleteSignature": ErrUnauthorized,
		"AccessDenied": ErrForbidden, "AccessDeniedException": ErrForbidden,
		"Throttling": ErrRateLimited, "ThrottlingException": ErrRateLimited, "RequestLimitExceeded": ErrRateLimited,
		"TooManyRequestsException": ErrRateLimited, "RequestThrottled": ErrRateLimited, "RequestThrottledException": ErrRateLimited,
		"SlowDown": ErrRateLimited,
	}}

// Error is a request IAM refused. Op is the IAM action, such as
// "GetCredentialReport"; Code is AWS's error code, such as "AccessDenied".
type Error = vendorhttp.Error

// fromSDK turns an SDK error into an *Error when IAM answered, or a wrapped
// error when it could not be reached.
func fromSDK(op string, err error, now time.Time) error {
	var ce *smithy.CanceledError
	if errors.As(err, &ce) {
		return ce.Err
	}
	var rc *awssdk.RequestCanceledError
	if errors.As(err, &rc) {
		return rc.Err
	}
	var se *smithyhttp.RequestSendError
	var re *smithyhttp.ResponseError
	if errors.As(err, &se) {
		// The SDK's text repeats the operation and the URL; keep the cause.
		return vendor.NetError(op, vendorhttp.UnwrapURLError(se.Err))
	}
	if !errors.As(err, &re) || re.Response == nil || re.HTTPStatusCode() == 0 {
		return vendor.NetError(op, err)
	}
	var code, message string
	var api smithy.APIError
	if errors.As(err, &api) {
		code, message = api.ErrorCode(), api.ErrorMessage()
	}
	return vendor.Error(op, re.HTTPStatusCode(), code, message, vendorhttp.RetryAfter(re.Response.Header, now))
}

// newRetryer returns the SDK's standard retryer with r's attempts and
// backoff. A request the SSRF guard refused is never retried: asking again
// cannot change the answer.
func newRetryer(r vendorhttp.Retry) awssdk.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = r.MaxRetries + 1
		o.MaxBackoff = r.MaxWait
		// The SDK counts attempts from 1; the first retry waits
		// Backoff(0).
		o.Backoff = retry.BackoffDelayerFunc(func(attempt int, _ error) (time.Duration, error) {
			return r.Backoff(attempt - 1), nil
		})
		o.RateLimiter = ratelimit.None
		o.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) awssdk.Ternary {
			if vendorhttp.Blocked(err) {
				return awssdk.FalseTernary
			}
			return awssdk.UnknownTernary
		})}, o.Retryables...)
	})
}

// call runs one IAM action and turns its error into this package's.
func call[T any](ctx context.Context, c *Client, op string, do func(context.Context) (T, error)) (T, error) {
	out, err := do(ctx)
	if err != nil {
		return out, fromSDK(op, err, c.cfg.Retry.Now())
	}
	return out, nil
}
