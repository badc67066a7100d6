package hooks

import (
	"bytes"
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Redacted replaces a secret in a stored response body.
const Redacted = "[redacted]"

// minQuerySecret is the shortest value of the webhook address's own query
// that is masked: such values are often tokens typed into the address, but
// a short one ("v=1") is a setting, and masking it would garble the body.
const minQuerySecret = 6

// masker masks, in a receiver's answer, every secret the request carried:
// the API key values (in the query or a header, as sent and as escaped),
// the signing secrets, the password of the address, and the values of the
// address's own query.
type masker struct {
	secrets [][]byte
	longest int
}

func newMasker(req *http.Request, t target) *masker {
	var vals []string
	for _, k := range t.Keys {
		vals = append(vals, k.Value)
	}
	vals = append(vals, t.Secrets...)
	if p, ok := req.URL.User.Password(); ok {
		vals = append(vals, p)
	}
	for _, vs := range req.URL.Query() {
		for _, v := range vs {
			if len(v) >= minQuerySecret {
				vals = append(vals, v)
			}
		}
	}
	m := &masker{}
	seen := map[string]bool{}
	for _, v := range vals {
		for _, form := range []string{v, url.QueryEscape(v), url.PathEscape(v), strings.ReplaceAll(url.QueryEscape(v), "+", "%20")} {
			if form == "" || seen[form] {
				continue
			}
			seen[form] = true
			m.secrets = append(m.secrets, []byte(form))
			m.longest = max(m.longest, len(form))
		}
	}
	// Longest first, so that a secret holding another is masked whole.
	slices.SortFunc(m.secrets, func(a, b []byte) int { return cmp.Compare(len(b), len(a)) })
	return m
}

// apply returns body with every secret replaced by Redacted.
func (m *masker) apply(body []byte) []byte {
	for _, s := range m.secrets {
		body = bytes.ReplaceAll(body, s, []byte(Redacted))
	}
	return body
}

// Request is a request as sent to a receiver, secrets masked as in the
// answer kept: the API key values, the address's password and the long
// values of its query are replaced by Redacted.
type Request struct {
	Method string `json:"method"`
	URL    string `json:"url"`
	// Headers are the request's headers, each name with its values joined
	// by ", ".
	Headers map[string]string `json:"headers"`
}

// request returns req as the delivery log keeps it.
func (m *masker) request(req *http.Request) Request {
	u := *req.URL
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), Redacted)
		}
	}
	r := Request{Method: req.Method, URL: string(m.apply([]byte(u.String()))), Headers: make(map[string]string, len(req.Header))}
	for k, vs := range req.Header {
		r.Headers[k] = string(m.apply([]byte(strings.Join(vs, ", "))))
	}
	return r
}
