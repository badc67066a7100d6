package console

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/hooks"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
)

// FuzzForms feeds the console's readers of user input any query and any
// form body: the issue list's filters and paging, the pager's links, the
// Connect form of an integration and checkboxes. Each must give a bounded,
// well-formed result, never panic: the offset stays in 0…1,000,000, the
// status is one a list can show, paging links stay on the same page, and
// only named key rows with a known placement come out of the Connect form.
func FuzzForms(f *testing.F) {
	for _, s := range []struct{ query, body string }{
		{"status=open&severity=High&offset=50", "name=Okta+Workflows&url=https%3A%2F%2Fexample.okta.com%2Fapi%2Fflo%2Fa%2Finvoke&key_name=clientToken&key_place=param&key_value=x&key_masked=1"},
		{"status=false+positive&after=iss_01&q=+admin+", "key_name=&key_name=X-Key&key_place=header&key_name_new=new&key_place_new=header&key_value_new=v"},
		{"status=all&offset=-5&before=x", "key_name=a&key_name=b&key_place=header&key_place=bogus&dry_run=on"},
		{"offset=99999999999999999999&status=%ff", "%zz=1&name=%00&key_name=%E2%80%A8"},
		{"offset=1000001;x=1", strings.Repeat("key_name=k&", 50)},
		{"", ""},
	} {
		f.Add(s.query, s.body)
	}
	f.Fuzz(func(t *testing.T, query, body string) {
		get := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/ispm/issues", RawQuery: query}, Header: http.Header{}}
		filter, status := issueFilter(get)
		if filter.Offset < 0 || filter.Offset > 1_000_000 || filter.Limit != pageSize {
			t.Fatalf("issueFilter(%q): offset %d, limit %d", query, filter.Offset, filter.Limit)
		}
		if _, err := issue.ParseStatus(status); err != nil && status != "all" {
			t.Fatalf("issueFilter(%q) shows the status %q", query, status)
		}
		p := newPager(get, 1000, pageSize, filter.Offset)
		for _, link := range []string{p.Prev, p.Next} {
			if link != "/ispm/issues" && !strings.HasPrefix(link, "/ispm/issues?") {
				t.Fatalf("pager link %q leaves the page", link)
			}
		}

		post := httptest.NewRequest(http.MethodPost, "/settings/integrations", strings.NewReader(body))
		post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if err := parseForm(httptest.NewRecorder(), post); err != nil {
			return // a clear error for the user, nothing read
		}
		form, in := readIntegrationForm(post)
		if len(in.Keys) != len(form.Keys) || in.Name != form.Name || in.URL != form.URL {
			t.Fatalf("the Connect form read %+v but passes on %+v", form, in)
		}
		for _, k := range in.Keys {
			if k.Name == "" || k.Name != strings.TrimSpace(k.Name) || (k.Placement != hooks.PlaceHeader && k.Placement != hooks.PlaceParam) {
				t.Fatalf("the Connect form read the key row %+v from %q", k, body)
			}
		}
		checked(post, "dry_run")
	})
}
