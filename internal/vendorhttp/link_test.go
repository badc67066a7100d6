package vendorhttp

import (
	"net/http"
	"testing"
)

func TestNextLink(t *testing.T) {
	tests := []struct {
		name   string
		header []string
		want   string
	}{
		{"none", nil, ""},
		{"self only", []string{`<https://x.okta.com/api/v1/users?limit=200>; rel="self"`}, ""},
		{"separate headers", []string{
			`<https://x.okta.com/api/v1/users?limit=200>; rel="self"`,
			`<https://x.okta.com/api/v1/users?after=00u2&limit=200>; rel="next"`,
		}, "https://x.okta.com/api/v1/users?after=00u2&limit=200"},
		{"one header, comma separated", []string{
			`<https://x.okta.com/a?x=1,2>; rel="self", <https://x.okta.com/a?after=b>; rel="next"`,
		}, "https://x.okta.com/a?after=b"},
		{"unquoted rel and other params", []string{`<https://x/a?after=c>; title="a, b"; rel=next`}, "https://x/a?after=c"},
		{"several relations", []string{`<https://x/a?after=d>; rel="last next"`}, "https://x/a?after=d"},
		{"case", []string{`<https://x/a?after=e>; REL="Next"`}, "https://x/a?after=e"},
		{"broken", []string{`<https://x/a?after=f; rel="next"`}, ""},
	}
	for _, tt := range tests {
		h := http.Header{}
		for _, v := range tt.header {
			h.Add("Link", v)
		}
		if got := NextLink(h); got != tt.want {
			t.Errorf("%s: NextLink = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestHTTPURL(t *testing.T) {
	for raw, want := range map[string]bool{
		"https://example.okta.com": true, "http://127.0.0.1:8080/base": true,
		"": false, "example.okta.com": false, "ftp://example.okta.com": false, "https://": false, "https://exa mple.com": false,
	} {
		u, ok := HTTPURL(raw)
		if ok != want || (ok && u.String() != raw) || (!ok && u != nil) {
			t.Errorf("HTTPURL(%q) = %v, %v; want ok %v", raw, u, ok, want)
		}
	}
}
