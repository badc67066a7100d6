package secret

import (
	"bytes"
	"cmp"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Redacted is what a Masker from Redacting writes in place of a secret.
const Redacted = "[redacted]"

// minSecret is the shortest value a Masker hides: a shorter one ("v=1",
// "on") is a setting, and replacing it everywhere would garble the text.
const minSecret = 4

// sensitiveHeaders always have their value hidden, whatever it is.
var sensitiveHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Api-Key",
	"X-Api-Client-Token"}

// sensitiveQuery are the query parameters whose value is always hidden,
// whatever it is: tokens typed into an address.
var sensitiveQuery = []string{"clientToken", "client_token", "api_key", "apikey", "key", "token", "access_token",
	"client_secret", "sig", "signature", "password"}

// sensitiveForm are the form fields of token requests that carry a
// credential.
var sensitiveForm = []string{"client_secret", "client_assertion", "assertion", "password", "refresh_token", "code"}

// sensitiveKeys are the JSON fields whose string value is always hidden:
// the tokens an authorization server answers with, and credentials a
// request or answer may carry.
var sensitiveKeys = []string{"access_token", "refresh_token", "id_token", "client_secret", "password", "token",
	"apiToken", "secret", "clientToken"}

// sensitiveField finds a JSON token field in text, its value the group.
var sensitiveField = regexp.MustCompile(`(?i)"(?:access_token|refresh_token|id_token|client_secret|password|token|apiToken|secret|clientToken)"\s*:\s*"([^"]*)"`)

// authScheme splits an Authorization value into its scheme, which stays
// readable, and its credential.
var authScheme = regexp.MustCompile(`^(?i)(basic|bearer|ssws|token|digest)\s+(.*)$`)

// Masker hides secrets in what Vigil records of an outbound request and
// its answer (a connector call in the execution history, a webhook
// delivery's attempt): every known secret value, as written and as a URL
// escapes it, and the values of headers, query parameters, form fields and
// JSON fields named like credentials. It is the one masker of the code
// base, so that both records hide the same things. A Masker is immutable
// and safe for concurrent use.
type Masker struct {
	// secrets are the values hidden wherever they appear, longest first,
	// so that a secret holding another is hidden whole.
	secrets []string
	// headers are the header names whose value is always hidden.
	headers []string
	// redact writes Redacted instead of Mask's last four characters.
	redact bool
}

// NewMasker returns a Masker that hides values (those of at least four
// characters) and the values of credential-named headers, query
// parameters and fields. A value that is an address with a path also
// hides that path, which is what must not show when the address is
// recorded with its host (a webhook URL is a secret as a whole).
func NewMasker(values ...string) *Masker {
	return (&Masker{headers: sensitiveHeaders}).With(values...)
}

// With returns a Masker that also hides values.
func (m *Masker) With(values ...string) *Masker {
	c := &Masker{secrets: slices.Clone(m.secrets), headers: m.headers, redact: m.redact}
	seen := map[string]bool{}
	for _, s := range c.secrets {
		seen[s] = true
	}
	add := func(s string) {
		if len(s) >= minSecret && !seen[s] {
			seen[s] = true
			c.secrets = append(c.secrets, s)
		}
	}
	for _, v := range values {
		for _, form := range []string{v, url.QueryEscape(v), url.PathEscape(v), strings.ReplaceAll(url.QueryEscape(v), "+", "%20")} {
			add(form)
		}
		if u, err := url.Parse(v); err == nil && u.Host != "" && len(u.Path) > 1 {
			add(u.Path)
		}
	}
	slices.SortStableFunc(c.secrets, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	return c
}

// WithHeaders returns a Masker that also hides the value of every header
// named as one of names (an API key header of the connection).
func (m *Masker) WithHeaders(names ...string) *Masker {
	c := *m
	c.headers = slices.Concat(m.headers, names)
	return &c
}

// Redacting returns a Masker that writes Redacted in place of each secret
// instead of showing its last four characters: for the text a receiver
// answered, where the end of a key is of no help to the reader.
func (m *Masker) Redacting() *Masker {
	c := *m
	c.redact = true
	return &c
}

// Longest returns the length of the longest secret, so that a caller that
// cuts a text can read past the cut by that much and hide a secret that
// straddles it.
func (m *Masker) Longest() int {
	if len(m.secrets) == 0 {
		return 0
	}
	return len(m.secrets[0])
}

// hide is what a secret s is written as.
func (m *Masker) hide(s string) string {
	if m.redact {
		return Redacted
	}
	return Mask(s)
}

// String hides every secret in s.
func (m *Masker) String(s string) string {
	for _, sec := range m.secrets {
		if strings.Contains(s, sec) {
			hidden := m.hide(sec)
			if strings.HasPrefix(sec, "/") {
				hidden = "/" + hidden // a URL path stays a path
			}
			s = strings.ReplaceAll(s, sec, hidden)
		}
	}
	return s
}

// Bytes hides every secret in b, for a body kept as it came.
func (m *Masker) Bytes(b []byte) []byte {
	for _, sec := range m.secrets {
		if bytes.Contains(b, []byte(sec)) {
			hidden := m.hide(sec)
			if strings.HasPrefix(sec, "/") {
				hidden = "/" + hidden
			}
			b = bytes.ReplaceAll(b, []byte(sec), []byte(hidden))
		}
	}
	return b
}

// URL keeps the scheme and host of u, drops its user and password, hides
// the value of every query parameter named like a token, and hides the
// secrets in the rest.
func (m *Masker) URL(u *url.URL) string {
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		parts := strings.Split(c.RawQuery, "&")
		for i, p := range parts {
			k, v, ok := strings.Cut(p, "=")
			name, _ := url.QueryUnescape(k)
			if ok && v != "" && slices.ContainsFunc(sensitiveQuery, func(s string) bool { return strings.EqualFold(s, name) }) {
				parts[i] = k + "=" + m.hide(v)
			}
		}
		c.RawQuery = strings.Join(parts, "&")
	}
	rest := strings.TrimPrefix(c.String(), c.Scheme+"://"+c.Host)
	return c.Scheme + "://" + c.Host + m.String(rest)
}

// QueryTokens returns the values of u's query parameters named like a
// token, long enough to be one, for a caller to hide in the answer too.
func QueryTokens(u *url.URL) []string {
	var out []string
	for k, vs := range u.Query() {
		if !slices.ContainsFunc(sensitiveQuery, func(s string) bool { return strings.EqualFold(s, k) }) {
			continue
		}
		for _, v := range vs {
			if len(v) >= minSecret {
				out = append(out, v)
			}
		}
	}
	return out
}

// Headers returns h with each name's values joined by ", ": a credential
// header keeps its scheme ("Bearer") and hides the rest, any other header
// has its secrets hidden.
func (m *Masker) Headers(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, vals := range h {
		v := strings.Join(vals, ", ")
		switch {
		case slices.ContainsFunc(m.headers, func(s string) bool { return strings.EqualFold(s, k) }):
			if sm := authScheme.FindStringSubmatch(v); sm != nil {
				v = sm[1] + " " + m.hide(sm[2])
			} else {
				v = m.hide(v)
			}
		default:
			v = m.String(v)
		}
		out[k] = v
	}
	return out
}

// Form hides the secrets of a form body, and the whole value of a
// credential field.
func (m *Masker) Form(form url.Values) map[string]any {
	out := map[string]any{}
	for k, vals := range form {
		v := strings.Join(vals, ",")
		if slices.Contains(sensitiveForm, k) {
			v = m.hide(v)
		}
		out[k] = m.String(v)
	}
	return out
}

// Value hides the secrets of a decoded JSON value, and the whole string
// of a credential-named field.
func (m *Masker) Value(v any) any {
	switch v := v.(type) {
	case string:
		return m.String(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = m.Value(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			if s, ok := e.(string); ok && s != "" && slices.ContainsFunc(sensitiveKeys, func(n string) bool { return strings.EqualFold(n, k) }) {
				out[k] = m.hide(s)
				continue
			}
			out[k] = m.Value(e)
		}
		return out
	}
	return v
}

// Text hides the secrets of a JSON text that no longer parses (cut at a
// size limit), and the value of each credential-named field in it.
func (m *Masker) Text(s string) string {
	return sensitiveField.ReplaceAllStringFunc(m.String(s), func(f string) string {
		sm := sensitiveField.FindStringSubmatch(f)
		return strings.TrimSuffix(f, sm[1]+`"`) + m.hide(sm[1]) + `"`
	})
}
