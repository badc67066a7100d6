package entra

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/vigil-ispm/vigil/internal/vendorhttp"
)

// call is one Graph request.
type call struct {
	op     string // for errors: "list users"
	method string
	url    string // absolute
	body   any    // sent as JSON when non-nil
	out    any    // 2xx body decoded into it when non-nil
}

// newTransport builds the shared vendor transport for c: a bearer token on
// every request, one fresh token after a 401, and the retries Graph's
// throttling guidance asks for (Retry-After after a 429, backoff after a
// 5xx).
func (c *Client) newTransport() *vendorhttp.Client {
	return c.token.Authorize(&vendorhttp.Client{
		Vendor: &vendor,
		HTTP:   c.cfg.HTTPClient,
		Retry:  c.cfg.Retry,
	})
}

// do sends k and decodes a success into k.out.
func (c *Client) do(ctx context.Context, k call) error {
	return c.api.JSON(ctx, vendorhttp.Request{Op: k.op, Method: k.method, URL: k.url, Body: k.body}, k.out)
}

// list fetches every page of a Graph collection, following @odata.nextLink
// as given. It refuses a next link to another host, which would carry the
// bearer token away from Graph.
func list[T any](ctx context.Context, c *Client, op, first string) ([]T, error) {
	var all []T
	seen := map[string]bool{}
	for next := first; next != ""; {
		if seen[next] {
			return nil, fmt.Errorf("entra: %s: Microsoft Graph returned the same next-page link twice", op)
		}
		seen[next] = true
		var page struct {
			Value    []T    `json:"value"`
			NextLink string `json:"@odata.nextLink"`
		}
		if err := c.do(ctx, call{op: op, method: http.MethodGet, url: next, out: &page}); err != nil {
			return nil, err
		}
		all = append(all, page.Value...)
		next = page.NextLink
		if next != "" {
			u, err := url.Parse(next)
			if err != nil || u.Scheme != c.graph.Scheme || u.Host != c.graph.Host {
				return nil, fmt.Errorf("entra: %s: Microsoft Graph returned a next-page link to another host; Vigil does not follow it", op)
			}
		}
	}
	return all, nil
}

// endpoint builds a Graph v1.0 URL. Query keys keep their literal "$", as
// Graph documents them.
func (c *Client) endpoint(path string, query ...string) string {
	u := c.cfg.GraphURL + "/v1.0/" + strings.TrimLeft(path, "/")
	if len(query) == 0 {
		return u
	}
	var parts []string
	for i := 0; i+1 < len(query); i += 2 {
		parts = append(parts, query[i]+"="+strings.ReplaceAll(url.QueryEscape(query[i+1]), "+", "%20"))
	}
	return u + "?" + strings.Join(parts, "&")
}
