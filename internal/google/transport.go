package google

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/vigil-ispm/vigil/internal/vendorhttp"
)

// newTransport builds the shared vendor transport for c: a bearer token
// from the JWT exchange on every request, one fresh token after a 401, and
// retries of 429, 5xx and Google's rate-limit 403s.
func (c *Client) newTransport() *vendorhttp.Client {
	return c.token.Authorize(&vendorhttp.Client{
		Vendor: &vendor,
		HTTP:   c.cfg.HTTPClient,
		Retry:  c.cfg.Retry,
		RetryWait: func(r *vendorhttp.Response) (time.Duration, bool) {
			if r.Status == http.StatusForbidden {
				return r.RetryAfter, errors.Is(vendor.Refusal("", r), ErrRateLimited)
			}
			return vendorhttp.DefaultRetryWait(r)
		},
	})
}

// do sends one API call and decodes a success into out.
func (c *Client) do(ctx context.Context, op, method, u string, body, out any) error {
	return c.api.JSON(ctx, vendorhttp.Request{Op: op, Method: method, URL: u, Body: body}, out)
}

// decodeError reads Google's {"error": {"message", "errors": [{"reason"}],
// "status"}}.
func decodeError(body []byte) (reason, message string) {
	var env struct {
		Error struct {
			Message string `json:"message"`
			Errors  []struct {
				Reason string `json:"reason"`
			} `json:"errors"`
			Status string `json:"status"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) != nil {
		return "", ""
	}
	reason = env.Error.Status
	if len(env.Error.Errors) > 0 {
		reason = env.Error.Errors[0].Reason
	}
	return reason, env.Error.Message
}
