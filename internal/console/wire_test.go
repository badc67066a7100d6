package console_test

import (
	"context"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/console/consoletest"
	"github.com/vigil-ispm/vigil/internal/flows"
)

// TestAdaptersReportUserErrors checks that the adapters over the real
// services turn their refusals into sentences on the page, not server
// errors: a connection form missing a field, a helper flow turned on
// without its connection, a source without its file, a duplicate folder and
// a document that does not validate.
func TestAdaptersReportUserErrors(t *testing.T) {
	w := consoletest.New(t, consoletest.Options{Logger: testLogger(t)})
	admin := w.Client(t, auth.RoleSuperAdmin)
	ctx := context.Background()

	pg := post(t, admin, w.URL+"/workflows/templates/identity-security-posture-management", url.Values{})
	if pg.Status != 303 || !strings.HasPrefix(pg.Location, "/workflows/flows?folder=") {
		t.Fatalf("Add template: %d to %q", pg.Status, pg.Location)
	}
	fs, err := w.Flows.Flows(ctx, flows.ListFlowsParams{})
	if err != nil {
		t.Fatal(err)
	}
	var helper *flows.Flow
	for _, f := range fs {
		if f.Title == "2.2 Suspend Okta User" {
			helper = f
		}
	}
	if helper == nil {
		t.Fatal("the template has no 2.2 Suspend Okta User")
	}

	cases := []struct {
		name, path string
		form       url.Values
		status     int
		says       string
	}{
		{"connection without its URL", "/workflows/connections", url.Values{"type": {"okta"}, "name": {"Okta"}, "v_token": {"x"}}, 422, "Org URL"},
		{"helper without its connection", "/workflows/flows/" + helper.ID + "/state", url.Values{"on": {"on"}}, 303, ""},
		{"source without its file", "/ispm/sources", url.Values{"kind": {"snapshot"}, "name": {"snap"}, "action": {"save"}}, 422, ""},
		{"duplicate folder", "/workflows/folders", url.Values{"name": {"Identity Security Posture Management"}}, 303, ""},
		{"invalid document", "/workflows/flows/" + helper.ID, url.Values{"document": {"document: {dsl: '1.0.0'}\ndo: []\n"}}, 422, "The flow was not saved"},
	}
	for _, tc := range cases {
		pg := post(t, admin, w.URL+tc.path, tc.form)
		if pg.Status != tc.status || !strings.Contains(pg.Body, tc.says) {
			t.Errorf("%s: status %d, want %d with %q: %.300s", tc.name, pg.Status, tc.status, tc.says, pg.Body)
		}
	}
	// The refused switch says which connection is missing, on the next page.
	post(t, admin, w.URL+"/workflows/flows/"+helper.ID+"/state", url.Values{"on": {"on"}})
	body := get(t, admin, w.URL+"/workflows/flows/"+helper.ID).Body
	if msg := flashOf(body); !strings.Contains(msg, "The flow cannot be turned on: the connection Okta (okta) is not set. Add it on the Connections page") {
		t.Errorf("turning on a helper without its connection says %q", msg)
	}
	if !strings.Contains(body, `class="flash error"`) {
		t.Error("turning on a helper without its connection does not say why")
	}
	if f, _ := w.Flows.Flow(ctx, helper.ID); f.On {
		t.Error("the helper was turned on without its connection")
	}
}

// flashOf returns the text of a page's flash message.
func flashOf(body string) string {
	m := regexp.MustCompile(`class="flash [a-z]+" role="[a-z]+">([^<]*)<`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}
