package hooks

import (
	"net/http"

	"github.com/vigil-ispm/vigil/internal/secret"
)

// Redacted replaces a secret in a stored response body.
const Redacted = secret.Redacted

// minQuerySecret is the shortest value of the webhook address's own query
// that is masked: such values are often tokens typed into the address, but
// a short one ("v=1") is a setting, and masking it would garble the body.
const minQuerySecret = 6

// newMasker returns the masker of a delivery: it hides, in the request
// kept and in the receiver's answer, every secret the request carried:
// the API key values (in the query or a header, as sent and as escaped),
// the signing secrets, the password of the address, and the values of
// the address's own query.
func newMasker(req *http.Request, t target) *secret.Masker {
	var vals, headers []string
	for _, k := range t.Keys {
		vals = append(vals, k.Value)
		if k.Placement == PlaceHeader {
			headers = append(headers, k.Name)
		}
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
	return secret.NewMasker(vals...).WithHeaders(headers...).Redacting()
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

// maskedRequest returns req as the delivery log keeps it.
func maskedRequest(m *secret.Masker, req *http.Request) Request {
	return Request{Method: req.Method, URL: m.URL(req.URL), Headers: m.Headers(req.Header)}
}
