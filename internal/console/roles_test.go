package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
)

// Role abbreviations of the access tables.
const (
	S = "super_admin"
	W = "workflows_admin"
	R = "issue_responder"
	V = "issue_viewer"
)

// TestRolesOnEveryRoute checks, for every page and action, that each role
// gets in exactly when the permission table says so, and that a refused
// user gets the 403 page (never a redirect that might have acted).
func TestRolesOnEveryRoute(t *testing.T) {
	f := setup(t)
	clients := map[string]*http.Client{}
	for _, r := range auth.Roles() {
		clients[string(r)] = f.w.Client(t, r)
	}
	integ := "/ispm/settings/integrations/" + f.hookID
	flow := "/workflows/flows/" + f.routeID
	cases := []struct {
		method, path string
		form         url.Values
		allowed      []string
	}{
		{"GET", "/ispm", nil, []string{S, W, R, V}},
		{"GET", "/ispm/issues", nil, []string{S, W, R, V}},
		{"GET", "/ispm/issues/" + f.issueID, nil, []string{S, W, R, V}},
		{"GET", "/ispm/identities", nil, []string{S, W, R, V}},
		{"GET", "/ispm/identities?privileged=true&mfa=none&view=accounts", nil, []string{S, W, R, V}},
		{"GET", "/ispm/sources", nil, []string{S}},
		{"GET", "/ispm/sources/new", nil, []string{S}},
		{"GET", "/ispm/sources/" + f.sourceName + "/edit", nil, []string{S}},
		{"GET", "/ispm/scans/" + f.scanID, nil, []string{S}},
		{"GET", "/ispm/scans/" + f.scanID + "/progress", nil, []string{S}},
		{"GET", "/ispm/settings/integrations", nil, []string{S, R}},
		{"GET", "/ispm/settings/integrations/webhook", nil, []string{S}},
		{"GET", integ, nil, []string{S, R}},
		{"GET", integ + "/edit", nil, []string{S}},
		{"GET", integ + "/deliveries/" + f.deliveryID, nil, []string{S, R}},
		{"GET", "/workflows/templates", nil, []string{S, W}},
		{"GET", "/workflows/flows", nil, []string{S, W}},
		{"GET", "/workflows/flows/new", nil, []string{S, W}},
		{"GET", flow, nil, []string{S, W}},
		{"GET", flow + "/endpoint", nil, []string{S, W}},
		{"GET", flow + "/builder", nil, []string{S, W}},
		{"GET", "/workflows/history", nil, []string{S, W}},
		{"GET", "/workflows/executions/" + f.executionID, nil, []string{S, W}},
		{"GET", "/workflows/approvals", nil, []string{S, W, R}},
		{"GET", "/workflows/connections", nil, []string{S, W}},
		{"GET", "/workflows/alerts", nil, []string{S, W}},
		{"GET", "/workflows/connections/new", nil, []string{S, W}},
		{"GET", "/workflows/tables", nil, []string{S, W}},
		{"GET", "/workflows/tables/" + f.tableID, nil, []string{S, W}},
		{"GET", "/workflows/tables/" + f.tableID + "/export", nil, []string{S, W}},
		{"GET", "/admin/users", nil, []string{S}},
		{"GET", "/admin/audit", nil, []string{S}},
		{"GET", "/admin/tokens", nil, []string{S, W, R, V}},
		{"GET", "/admin/password", nil, []string{S, W, R, V}},
		{"GET", "/admin/settings", nil, []string{S}},

		{"POST", "/ispm/issues/bulk", url.Values{"id": {f.issueID}, "action": {"acknowledge"}}, []string{S, R}},
		{"POST", "/ispm/issues/" + f.issueID + "/run-flow", url.Values{"flow": {"flw_none"}}, []string{S, W}},
		{"POST", "/ispm/issues/bulk/run-flow", url.Values{"id": {f.issueID}, "flow": {"flw_none"}}, []string{S, W}},
		{"POST", "/ispm/sources", url.Values{"kind": {"synthetic"}, "name": {"x"}, "v_people": {"5"}, "action": {"test"}}, []string{S}},
		{"POST", "/ispm/scans", url.Values{"source": {f.sourceName}}, []string{S}},
		{"POST", "/ispm/settings/integrations/webhook", url.Values{"name": {"t"}, "url": {f.w.URL + "/x"}, "action": {"add"}}, []string{S}},
		{"POST", integ, url.Values{"name": {"Routing flow"}, "url": {f.w.URL + "/nowhere"}, "action": {"add"}}, []string{S}},
		{"POST", integ + "/automation", url.Values{"auto_send": {"on"}, "title": {"Unused Admin Account"}}, []string{S}},
		{"POST", integ + "/pause", nil, []string{S}},
		{"POST", integ + "/resume", nil, []string{S}},
		{"POST", integ + "/resend", url.Values{"delivery": {f.deliveryID}}, []string{S}},
		{"POST", integ + "/resend-dead", nil, []string{S}},
		{"POST", "/workflows/templates/identity-security-posture-management", url.Values{"folder": {"Roles"}}, []string{S, W}},
		{"POST", "/workflows/folders", url.Values{"name": {"f"}}, []string{S, W}},
		{"POST", "/workflows/folders/" + f.folderID + "/on", nil, []string{S, W}},
		{"POST", "/workflows/flows", url.Values{"name": {"n"}, "security": {"public"}}, []string{S, W}},
		{"POST", flow, url.Values{"document": {"not: [valid"}}, []string{S, W}},
		{"POST", flow + "/state", url.Values{"on": {"on"}}, []string{S, W}},
		{"POST", flow + "/connections", url.Values{"kind": {"okta"}, "from": {"Okta"}, "to": {"Okta"}}, []string{S, W}},
		{"POST", flow + "/test", url.Values{"input": {`{"body": {}}`}, "dry_run": {"on"}}, []string{S, W}},
		{"POST", flow + "/builder", url.Values{"op": {"refresh"}}, []string{S, W}},
		{"POST", flow + "/endpoint/rotate", url.Values{"grace": {"24h"}}, []string{S, W}},
		{"POST", flow + "/endpoint/signing-secret", url.Values{"action": {"generate"}}, []string{S, W}},
		{"POST", "/workflows/executions/" + f.executionID + "/cancel", nil, []string{S, W}},
		{"POST", "/workflows/approvals/apr_none/approve", url.Values{"comment": {"ok"}}, []string{S, W, R}},
		{"POST", "/workflows/approvals/apr_none/deny", nil, []string{S, W, R}},
		{"POST", "/workflows/connections", url.Values{"type": {"slack"}, "name": {"n"}}, []string{S, W}},
		{"POST", "/workflows/alerts", url.Values{"scope": {"folder:" + f.folderID}, "channel": {"slack"}, "connection": {"Slack"}}, []string{S, W}},
		{"POST", "/workflows/alerts/alr_none/delete", nil, []string{S, W}},
		{"GET", "/workflows/connections/" + f.connection + "/edit", nil, []string{S, W}},
		{"POST", "/workflows/connections/" + f.connection + "/edit", url.Values{"name": {f.connection}, "v_url": {"https://example.okta.com"}, "dry_run": {"on"}}, []string{S, W}},
		{"POST", "/workflows/connections/" + f.connection + "/test", nil, []string{S, W}},
		{"POST", "/workflows/connections/" + f.connection + "/dry-run", url.Values{"dry_run": {"on"}}, []string{S, W}},
		{"POST", "/admin/users", url.Values{"name": {"x"}, "role": {"nobody"}}, []string{S}},
		{"POST", "/admin/users/" + f.viewerID, url.Values{"role": {"issue_viewer"}}, []string{S}},
		{"POST", "/admin/settings", url.Values{"public_url": {"ftp://x"}}, []string{S}},
		{"POST", "/admin/tokens", url.Values{"name": {""}}, []string{S, W, R, V}},
		{"POST", "/admin/password", url.Values{"current_password": {"x"}, "new_password": {"a"}, "confirm_password": {"b"}}, []string{S, W, R, V}},
		{"POST", "/admin/users/usr_nobody/password", nil, []string{S}},
		{"POST", "/workflows/connections/" + f.connection + "/delete", nil, []string{S, W}},
		{"POST", "/ispm/sources/" + f.sourceName + "/delete", nil, []string{S}},
		{"POST", integ + "/delete", nil, []string{S}},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			for _, role := range auth.Roles() {
				allowed := contains(tc.allowed, string(role))
				var pg page
				if tc.method == "GET" {
					pg = get(t, clients[string(role)], f.w.URL+tc.path)
				} else {
					pg = post(t, clients[string(role)], f.w.URL+tc.path, tc.form)
				}
				switch {
				case !allowed && pg.Status != http.StatusForbidden:
					t.Errorf("%s: status %d, want 403", role, pg.Status)
				case !allowed && !strings.Contains(pg.Body, "Your role ("+string(role)+") cannot"):
					t.Errorf("%s: the 403 page does not say why", role)
				case allowed && (pg.Status == http.StatusForbidden || pg.Status >= 500):
					t.Errorf("%s: status %d, want it let through: %.300s", role, pg.Status, pg.Body)
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestAnonymousGoesToSignIn checks that pages and actions send visitors who
// are not signed in to the sign-in page, and change nothing.
func TestAnonymousGoesToSignIn(t *testing.T) {
	f := setup(t)
	anon := anonymous()
	for _, p := range []string{"/", "/ispm", "/ispm/issues/" + f.issueID, "/workflows/flows", "/admin/tokens"} {
		pg := get(t, anon, f.w.URL+p)
		if pg.Status != http.StatusSeeOther || !strings.HasPrefix(pg.Location, "/login?next=") {
			t.Errorf("GET %s: status %d to %q, want 303 to the sign-in page", p, pg.Status, pg.Location)
		}
	}
	pg := post(t, anon, f.w.URL+"/ispm/issues/bulk", url.Values{"id": {f.issueID}, "action": {"false_positive"}})
	if pg.Status != http.StatusSeeOther || !strings.HasPrefix(pg.Location, "/login") {
		t.Errorf("anonymous bulk change: status %d to %q", pg.Status, pg.Location)
	}
	is, err := f.w.Issues.Get(context.Background(), f.issueID)
	if err != nil {
		t.Fatal(err)
	}
	if is.Status != issue.StatusOpen {
		t.Errorf("an anonymous POST changed the issue to %s", is.Status)
	}
}

// TestRefusedActionChangesNothing checks that a viewer's bulk change and a
// workflows admin's pause are refused without effect.
func TestRefusedActionChangesNothing(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	viewer := f.w.Client(t, auth.RoleIssueViewer)
	post(t, viewer, f.w.URL+"/ispm/issues/bulk", url.Values{"id": {f.issueID}, "action": {"false_positive"}})
	if is, _ := f.w.Issues.Get(ctx, f.issueID); is.Status != issue.StatusOpen {
		t.Errorf("the viewer's refused change made the issue %s", is.Status)
	}
	builder := f.w.Client(t, auth.RoleWorkflowsAdmin)
	post(t, builder, f.w.URL+"/ispm/settings/integrations/"+f.hookID+"/pause", nil)
	if h, _ := f.w.Hooks.Get(ctx, f.hookID); h.State != "active" {
		t.Errorf("the workflows admin's refused pause made the integration %s", h.State)
	}
}

// TestEachRoleSeesOnlyItsPart checks what the header, tabs and pages offer
// each role, so that nobody is shown a control they cannot use.
func TestEachRoleSeesOnlyItsPart(t *testing.T) {
	f := setup(t)
	type want struct {
		path    string
		present []string
		absent  []string
	}
	cases := map[auth.Role][]want{
		auth.RoleSuperAdmin: {
			{"/ispm/issues", []string{`href="/ispm/sources"`, `href="/ispm/settings/integrations"`, `value="snooze"`, `href="/workflows/flows"`}, nil},
			{"/workflows/flows/" + f.routeID, []string{`data-testid="endpoint-button"`, `id="flow-on"`, `>Save</button>`, `data-testid="test-flow"`}, nil},
		},
		auth.RoleWorkflowsAdmin: {
			{"/ispm/issues", []string{`href="/workflows/flows"`}, []string{`href="/ispm/sources"`, `href="/ispm/settings/integrations"`, `value="snooze"`, `href="/admin/users"`}},
			{"/workflows/flows/" + f.routeID, []string{`data-testid="endpoint-button"`, `id="flow-on"`, `data-testid="test-flow"`}, nil},
		},
		auth.RoleIssueResponder: {
			{"/ispm/issues", []string{`value="snooze"`, `value="false_positive"`, `href="/ispm/settings/integrations"`}, []string{`href="/ispm/sources"`, `href="/workflows/flows"`}},
			{"/ispm/settings/integrations", nil, []string{`data-testid="webhook-connect"`}},
			{"/ispm/issues/" + f.issueID, []string{"Deliveries of this issue's events"}, nil},
		},
		auth.RoleIssueViewer: {
			{"/ispm/issues", []string{`href="/ispm/issues/`}, []string{`value="snooze"`, `name="id"`, `href="/ispm/sources"`, `href="/ispm/settings/integrations"`, `href="/workflows/flows"`}},
			{"/ispm/issues/" + f.issueID, nil, []string{"Deliveries of this issue's events", `value="acknowledge"`}},
			{"/ispm", nil, []string{`href="/ispm/scans/`}},
		},
	}
	for role, wants := range cases {
		c := f.w.Client(t, role)
		for _, w := range wants {
			pg := get(t, c, f.w.URL+w.path)
			if pg.Status != 200 {
				t.Fatalf("%s GET %s: status %d", role, w.path, pg.Status)
			}
			if !strings.Contains(pg.Body, `data-testid="user-role">`+string(role)+`<`) {
				t.Errorf("%s GET %s: the header does not show the role", role, w.path)
			}
			for _, s := range w.present {
				if !strings.Contains(pg.Body, s) {
					t.Errorf("%s GET %s: missing %s", role, w.path, s)
				}
			}
			for _, s := range w.absent {
				if strings.Contains(pg.Body, s) {
					t.Errorf("%s GET %s: shows %s", role, w.path, s)
				}
			}
		}
	}
}
