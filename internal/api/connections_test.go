package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

func TestConnections(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		noSecret := func(what string, r response) {
			t.Helper()
			if strings.Contains(string(r.body), b.connSecret) {
				t.Errorf("%s: the answer holds the connection's secret in clear", what)
			}
		}
		var list struct{ Connections []connection.Connection }
		r := b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/connections", nil)
		want(t, "list", r, http.StatusOK, "")
		noSecret("list", r)
		r.decode(t, &list)
		if len(list.Connections) != 1 || list.Connections[0].Name != "Local" || !strings.HasSuffix(list.Connections[0].Secrets["token"], "0042") {
			t.Fatalf("connections %+v; want Local with its token masked", list.Connections)
		}
		for _, name := range []string{"Local", "local", b.conn.ID} {
			r := b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/connections/"+name, nil)
			want(t, "get "+name, r, http.StatusOK, "")
			noSecret("get", r)
		}
		want(t, "unknown", b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/connections/Nope", nil), http.StatusNotFound, "not_found")

		// Test connection: refused callers send nothing.
		for _, role := range []auth.Role{auth.RoleIssueViewer, auth.RoleIssueResponder} {
			want(t, string(role)+" test", b.do(role, "POST", "/api/v1/connections/Local/test", nil), http.StatusForbidden, "forbidden")
			want(t, string(role)+" list", b.do(role, "GET", "/api/v1/connections", nil), http.StatusForbidden, "forbidden")
		}
		if n := b.probes.count(); n != 0 {
			t.Fatalf("refused tests sent %d requests", n)
		}
		want(t, "test unknown", b.do(auth.RoleWorkflowsAdmin, "POST", "/api/v1/connections/Nope/test", nil), http.StatusNotFound, "not_found")
		var res connection.TestResult
		r = b.do(auth.RoleWorkflowsAdmin, "POST", "/api/v1/connections/Local/test", nil)
		want(t, "test", r, http.StatusOK, "")
		noSecret("test", r)
		r.decode(t, &res)
		if !res.OK || res.Message == "" || b.probes.count() != 1 {
			t.Fatalf("test: %+v after %d requests; want ok after one", res, b.probes.count())
		}
		var c connection.Connection
		b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/connections/Local", nil).decode(t, &c)
		if c.LastTest == nil || !c.LastTest.OK {
			t.Errorf("the test was not recorded: %+v", c.LastTest)
		}

		dryRun := func() bool {
			t.Helper()
			got, err := b.svc.Connections.Get(b.ctx, "Local")
			if err != nil {
				t.Fatal(err)
			}
			return got.DryRun
		}
		for _, tc := range []struct {
			role   auth.Role
			name   string
			body   any
			status int
			code   string
			dryRun bool
		}{
			{auth.RoleIssueViewer, "Local", map[string]any{"on": true}, 403, "forbidden", false},
			{auth.RoleWorkflowsAdmin, "Local", map[string]any{}, 400, "invalid", false},
			{auth.RoleWorkflowsAdmin, "Local", `{"on": "yes"}`, 400, "invalid", false},
			{auth.RoleWorkflowsAdmin, "Local", map[string]any{"on": true, "off": false}, 400, "invalid", false},
			{auth.RoleWorkflowsAdmin, "Nope", map[string]any{"on": true}, 404, "not_found", false},
			{auth.RoleWorkflowsAdmin, "Local", map[string]any{"on": true}, 200, "", true},
			{auth.RoleSuperAdmin, "local", map[string]any{"on": false}, 200, "", false},
		} {
			what := string(tc.role) + " dry-run " + tc.name
			r := b.do(tc.role, "PUT", "/api/v1/connections/"+tc.name+"/dry-run", tc.body)
			want(t, what, r, tc.status, tc.code)
			noSecret(what, r)
			if dryRun() != tc.dryRun {
				t.Errorf("%s: dry run %v; want %v", what, !tc.dryRun, tc.dryRun)
			}
		}
	})
}
