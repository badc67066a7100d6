package vendorhttp

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// NextLink returns the target of the rel="next" link in the Link headers of
// h (RFC 8288), or "". Okta and many other APIs page this way.
func NextLink(h http.Header) string {
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

// SameHost resolves next against current and refuses a link to another
// scheme or host than base's, so that a vendor's paging can never carry
// the credentials elsewhere.
func SameHost(base *url.URL, current, next string) (string, error) {
	cur, err := url.Parse(current)
	if err != nil {
		return "", err
	}
	n, err := cur.Parse(next)
	if err != nil {
		return "", fmt.Errorf("the next-page link %q is not a URL: %w", next, err)
	}
	if n.Scheme != base.Scheme || !strings.EqualFold(n.Host, base.Host) {
		return "", fmt.Errorf("refused to follow a next-page link to %s://%s, another host", n.Scheme, n.Host)
	}
	return n.String(), nil
}

// HTTPURL parses raw as an absolute http or https URL with a host, the only
// kind a vendor's base URL may be; ok is false for anything else. The caller
// words the error, since only it knows which setting raw is and whether
// raw may be repeated (a webhook URL is a secret).
func HTTPURL(raw string) (u *url.URL, ok bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, false
	}
	return u, true
}
