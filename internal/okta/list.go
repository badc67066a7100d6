package okta

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// maxPages stops a list whose next links never end; at 200 items a page it
// allows twenty million items.
const maxPages = 100_000

// list fetches every page of a list endpoint that answers a JSON array,
// following rel="next" links.
func list[T any](ctx context.Context, c *Client, op, path string, q url.Values) ([]T, error) {
	var out []T
	err := c.pages(ctx, op, c.endpoint(path, q), func(res result) (string, error) {
		var page []T
		if err := json.Unmarshal(res.body, &page); err != nil {
			return "", fmt.Errorf("okta: %s: decode answer: %w", op, err)
		}
		out = append(out, page...)
		return nextLink(res.header), nil
	})
	return out, err
}

// pages GETs u and every next page. handle decodes one page and returns the
// next link it found ("" for the last page).
func (c *Client) pages(ctx context.Context, op, u string, handle func(result) (string, error)) error {
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
		if u, err = c.sameOrg(u, next); err != nil {
			return fmt.Errorf("okta: %s: %w", op, err)
		}
	}
	return nil
}

// sameOrg resolves next against the current page's URL and refuses a link
// to another scheme or host, so the token is only ever sent to the org.
func (c *Client) sameOrg(current, next string) (string, error) {
	cur, err := url.Parse(current)
	if err != nil {
		return "", err
	}
	n, err := cur.Parse(next)
	if err != nil {
		return "", fmt.Errorf("the next link %q is not a URL: %w", next, err)
	}
	if n.Scheme != c.base.Scheme || !strings.EqualFold(n.Host, c.base.Host) {
		return "", fmt.Errorf("refused to follow a next link to %s://%s, outside the org", n.Scheme, n.Host)
	}
	return n.String(), nil
}

// nextLink returns the target of the rel="next" link in the Link headers
// of h (RFC 8288), or "".
func nextLink(h http.Header) string {
	for _, v := range h.Values("Link") {
		for _, l := range parseLinks(v) {
			for _, rel := range strings.Fields(l.rel) {
				if strings.EqualFold(rel, "next") {
					return l.target
				}
			}
		}
	}
	return ""
}

type link struct{ target, rel string }

// parseLinks reads a Link header value: comma-separated `<uri>; param=value`
// entries, where values may be quoted.
func parseLinks(v string) []link {
	var out []link
	for {
		start := strings.IndexByte(v, '<')
		if start < 0 {
			return out
		}
		end := strings.IndexByte(v[start:], '>')
		if end < 0 {
			return out
		}
		l := link{target: v[start+1 : start+end]}
		v = v[start+end+1:]
		// Parameters run to the next comma outside quotes.
		i, inQuote := 0, false
		for ; i < len(v); i++ {
			if v[i] == '"' {
				inQuote = !inQuote
			}
			if v[i] == ',' && !inQuote {
				break
			}
		}
		for _, p := range strings.Split(v[:i], ";") {
			name, value, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(name), "rel") {
				l.rel = strings.Trim(strings.TrimSpace(value), `"`)
			}
		}
		out = append(out, l)
		v = v[i:]
	}
}
