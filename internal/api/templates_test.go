package api

import (
	"net/http"
	"testing"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/template"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

const ispm = "identity-security-posture-management"

func TestTemplates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		for _, tc := range []struct {
			query string
			ispm  bool
		}{{"", true}, {"?q=posture", true}, {"?q=zzzz", false}} {
			var list struct{ Templates []template.Template }
			r := b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/templates"+tc.query, nil)
			want(t, "templates"+tc.query, r, http.StatusOK, "")
			r.decode(t, &list)
			found := false
			for _, x := range list.Templates {
				found = found || x.Name == ispm
			}
			if found != tc.ispm {
				t.Errorf("templates%s lists the ISPM template: %v; want %v", tc.query, found, tc.ispm)
			}
		}
		var tpl template.Template
		b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/templates/"+ispm, nil).decode(t, &tpl)
		if tpl.FlowCount != 10 || len(tpl.Variables) == 0 {
			t.Fatalf("ISPM template: %d flows, %d variables; want 10 flows and its variables", tpl.FlowCount, len(tpl.Variables))
		}
		want(t, "unknown template", b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/templates/nope", nil), http.StatusNotFound, "not_found")

		folders := func() int {
			t.Helper()
			list, err := b.svc.Flows.Folders(b.ctx)
			if err != nil {
				t.Fatal(err)
			}
			return len(list)
		}
		add := "/api/v1/templates/" + ispm + "/add"
		for _, tc := range []struct {
			role   auth.Role
			path   string
			body   any
			status int
			code   string
		}{
			{auth.RoleIssueResponder, add, nil, 403, "forbidden"},
			{auth.RoleIssueViewer, add, nil, 403, "forbidden"},
			{auth.RoleWorkflowsAdmin, add, map[string]any{"vars": map[string]string{"nope": "x"}}, 400, "invalid"},
			{auth.RoleWorkflowsAdmin, add, map[string]any{"vars": map[string]string{"slackChannel": "#sec; rm -rf"}}, 400, "invalid"},
			{auth.RoleWorkflowsAdmin, add, map[string]any{"folder": 7}, 400, "invalid"},
			{auth.RoleWorkflowsAdmin, "/api/v1/templates/nope/add", nil, 404, "not_found"},
		} {
			want(t, string(tc.role)+" add "+tc.path, b.do(tc.role, "POST", tc.path, tc.body), tc.status, tc.code)
			if n := folders(); n != 1 {
				t.Fatalf("a refused add left %d folders; want the one of setup", n)
			}
		}

		var added, second TemplateAdded
		r := b.do(auth.RoleWorkflowsAdmin, "POST", add, map[string]any{"folder": "ISPM", "vars": map[string]string{"slackChannel": "#security"}})
		want(t, "add", r, http.StatusCreated, "")
		r.decode(t, &added)
		if added.Folder != "ISPM" || added.FolderID == "" || len(added.Flows) != 10 || len(added.Unset) == 0 {
			t.Fatalf("added %+v", added)
		}
		var list struct{ Flows []flows.Flow }
		b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/flows?folder=ISPM", nil).decode(t, &list)
		if len(list.Flows) != 10 {
			t.Fatalf("folder ISPM holds %d flows; want 10", len(list.Flows))
		}
		for _, f := range list.Flows {
			if f.On || f.FolderID != added.FolderID {
				t.Errorf("flow %s: on %v in folder %s; want off in %s", f.Title, f.On, f.FolderID, added.FolderID)
			}
		}
		want(t, "add to a folder that exists", b.do(auth.RoleSuperAdmin, "POST", add, map[string]any{"folder": "ISPM"}), http.StatusConflict, "conflict")
		if n := folders(); n != 2 {
			t.Fatalf("a refused second add left %d folders; want 2", n)
		}
		b.do(auth.RoleSuperAdmin, "POST", add, map[string]any{"folder": "ISPM", "again": true}).decode(t, &second)
		if second.Folder != "ISPM (2)" {
			t.Errorf("a second add went to %q; want ISPM (2)", second.Folder)
		}
	})
}
