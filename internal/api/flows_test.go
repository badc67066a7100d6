package api

import (
	"net/http"
	"testing"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

func TestFlows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		var folders struct{ Folders []flows.Folder }
		b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/folders", nil).decode(t, &folders)
		if len(folders.Folders) != 1 || folders.Folders[0].Name != "Test" || folders.Folders[0].Flows != 3 {
			t.Fatalf("folders %+v; want Test with 3 flows", folders.Folders)
		}
		for _, tc := range []struct {
			query string
			n     int
		}{{"", 3}, {"?folder=Test", 3}, {"?folder=" + b.folder.ID, 3}, {"?on=false", 3}, {"?on=true", 0}} {
			var list struct{ Flows []flows.Flow }
			r := b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/flows"+tc.query, nil)
			want(t, "list "+tc.query, r, http.StatusOK, "")
			r.decode(t, &list)
			if len(list.Flows) != tc.n {
				t.Errorf("flows%s: %d; want %d", tc.query, len(list.Flows), tc.n)
			}
		}
		want(t, "unknown folder", b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/flows?folder=Nope", nil), http.StatusBadRequest, "invalid")
		want(t, "bad on", b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/flows?on=yes", nil), http.StatusBadRequest, "invalid")
		want(t, "viewer lists flows", b.do(auth.RoleIssueViewer, "GET", "/api/v1/flows", nil), http.StatusForbidden, "forbidden")

		for _, ref := range []string{b.echo.ID, "Echo", "test%2Fecho", "Echo?folder=Test"} {
			var f flows.Flow
			r := b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/flows/"+ref, nil)
			want(t, "get "+ref, r, http.StatusOK, "")
			r.decode(t, &f)
			if f.ID != b.echo.ID || f.Trigger != "apiEndpoint" {
				t.Errorf("flow %s: %+v; want Echo", ref, f)
			}
		}
		want(t, "unknown flow", b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/flows/Nope", nil), http.StatusNotFound, "not_found")

		isOn := func(f *flows.Flow) bool {
			t.Helper()
			got, err := b.svc.Flows.Flow(b.ctx, f.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.On
		}
		for _, tc := range []struct {
			role   auth.Role
			flow   *flows.Flow
			action string
			status int
			code   string
			on     bool
		}{
			{auth.RoleIssueViewer, b.echo, "on", 403, "forbidden", false},
			{auth.RoleIssueResponder, b.echo, "on", 403, "forbidden", false},
			{auth.RoleWorkflowsAdmin, b.echo, "on", 200, "", true},
			{auth.RoleIssueViewer, b.echo, "off", 403, "forbidden", true},
			{auth.RoleSuperAdmin, b.echo, "off", 200, "", false},
			// Its connection Okta is not set: it stays off.
			{auth.RoleWorkflowsAdmin, b.okta, "on", 409, "conflict", false},
		} {
			what := string(tc.role) + " " + tc.action + " " + tc.flow.Title
			r := b.do(tc.role, "POST", "/api/v1/flows/"+tc.flow.ID+"/"+tc.action, nil)
			want(t, what, r, tc.status, tc.code)
			if isOn(tc.flow) != tc.on {
				t.Errorf("%s: on is %v; want %v", what, !tc.on, tc.on)
			}
			if tc.status == 200 {
				var f flows.Flow
				r.decode(t, &f)
				if f.On != tc.on {
					t.Errorf("%s: answered on %v", what, f.On)
				}
			}
		}
		want(t, "unknown flow on", b.do(auth.RoleWorkflowsAdmin, "POST", "/api/v1/flows/nope/on", nil), http.StatusNotFound, "not_found")

		// The same title in two folders needs the folder.
		other, err := b.svc.Flows.CreateFolder(b.ctx, "Other", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.Flows.SaveFlow(b.ctx, flows.SaveParams{FolderID: other.ID, Document: []byte(echoFlow)}); err != nil {
			t.Fatal(err)
		}
		want(t, "ambiguous", b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/flows/Echo", nil), http.StatusConflict, "conflict")
		var f flows.Flow
		b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/flows/Echo?folder=Other", nil).decode(t, &f)
		if f.FolderID != other.ID {
			t.Errorf("Echo in Other: folder %s; want %s", f.FolderID, other.ID)
		}
	})
}

func TestExecutions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		for _, tc := range []struct {
			query string
			n     int
			next  bool
		}{
			{"", 1, false}, {"?flow=Echo", 1, false}, {"?flow=test/echo", 1, false}, {"?flow=" + b.open.ID, 0, false},
			{"?status=pending", 1, false}, {"?status=succeeded", 0, false}, {"?folder=Test", 1, false},
			{"?limit=1", 1, true}, {"?before=" + b.execID, 0, false},
		} {
			var page ExecutionPage
			r := b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/executions"+tc.query, nil)
			want(t, "executions"+tc.query, r, http.StatusOK, "")
			r.decode(t, &page)
			if len(page.Executions) != tc.n || (page.Next != "") != tc.next {
				t.Errorf("executions%s: %d, next %q; want %d, next %v", tc.query, len(page.Executions), page.Next, tc.n, tc.next)
			}
			if tc.n == 1 && (page.Executions[0].ID != b.execID || page.Executions[0].FlowTitle != "Echo") {
				t.Errorf("executions%s: %+v", tc.query, page.Executions[0])
			}
		}
		for _, q := range []string{"?flow=Nope", "?status=done", "?limit=0", "?folder=Nope"} {
			want(t, "executions"+q, b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/executions"+q, nil), http.StatusBadRequest, "invalid")
		}
		var h flows.History
		r := b.do(auth.RoleSuperAdmin, "GET", "/api/v1/executions/"+b.execID, nil)
		want(t, "execution", r, http.StatusOK, "")
		r.decode(t, &h)
		if h.Execution == nil || h.Execution.ID != b.execID || h.Execution.Status != flows.StatusPending {
			t.Errorf("execution: %+v", h.Execution)
		}
		want(t, "unknown execution", b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/executions/exe_nope", nil), http.StatusNotFound, "not_found")
		want(t, "viewer history", b.do(auth.RoleIssueViewer, "GET", "/api/v1/executions", nil), http.StatusForbidden, "forbidden")
	})
}
