package salesforce

import (
	"context"
	"net/http"
	"strings"

	"github.com/vigil-ispm/vigil/internal/vendorhttp"
)

// maxBody bounds one answer; a query page of 2,000 records stays far below.
const maxBody = 64 << 20

// newTransport builds the shared vendor transport for c. Requests name a
// path; Authorize fetches the session and points the request at the
// instance the token answer named.
func (c *Client) newTransport() *vendorhttp.Client {
	return &vendorhttp.Client{
		Vendor:  &vendor,
		HTTP:    c.cfg.HTTPClient,
		Retry:   c.cfg.Retry,
		MaxBody: maxBody,
		Authorize: func(ctx context.Context, req *http.Request) error {
			tok, instance, err := c.session(ctx)
			if err != nil {
				return err
			}
			req.URL.Scheme, req.URL.Host, req.Host = instance.Scheme, instance.Host, instance.Host
			req.Header.Set("Authorization", "Bearer "+tok)
			return nil
		},
		RetryAuth:   true,
		Reauthorize: func() bool { c.forgetToken(); return true },
		// PATCH IsActive=false is safe to repeat, but PATCH in general is
		// not, so only Idempotent methods are sent again after a lost answer.
	}
}

// do sends one API call to path (absolute path on the instance, with its
// query) and decodes a success into out.
func (c *Client) do(ctx context.Context, op, method, path string, body, out any) error {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return c.api.JSON(ctx, vendorhttp.Request{Op: op, Method: method, URL: path, Body: body}, out)
}
