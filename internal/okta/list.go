package okta

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/vigil-ispm/vigil/internal/vendorhttp"
)

// maxPages stops a list whose next links never end; at 200 items a page it
// allows twenty million items.
const maxPages = 100_000

// list fetches every page of a list endpoint that answers a JSON array,
// following rel="next" links.
func list[T any](ctx context.Context, c *Client, op, path string, q url.Values) ([]T, error) {
	var out []T
	err := c.pages(ctx, op, c.endpoint(path, q), func(res *vendorhttp.Response) (string, error) {
		var page []T
		if err := json.Unmarshal(res.Body, &page); err != nil {
			return "", fmt.Errorf("okta: %s: decode answer: %w", op, err)
		}
		out = append(out, page...)
		return vendorhttp.NextLink(res.Header), nil
	})
	return out, err
}

// pages GETs u and every next page. handle decodes one page and returns the
// next link it found ("" for the last page).
func (c *Client) pages(ctx context.Context, op, u string, handle func(*vendorhttp.Response) (string, error)) error {
	seen := make(map[string]bool)
	for n := 0; u != ""; n++ {
		if seen[u] || n >= maxPages {
			return fmt.Errorf("okta: %s: the next links do not end", op)
		}
		seen[u] = true
		res, err := c.do(ctx, call{op: op, method: http.MethodGet, url: u})
		if err != nil {
			return err
		}
		next, err := handle(res)
		if err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		if u, err = vendorhttp.SameHost(c.base, u, next); err != nil {
			return fmt.Errorf("okta: %s: %w", op, err)
		}
	}
	return nil
}
