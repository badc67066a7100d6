package api

import (
	"net/http"
	"testing"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

func TestFolderEdit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		folders := func() map[string]string {
			t.Helper()
			list, err := b.svc.Flows.Folders(b.ctx)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]string{}
			for _, f := range list {
				out[f.Name] = f.Description
			}
			return out
		}
		var f flows.Folder
		r := b.do(auth.RoleWorkflowsAdmin, "POST", "/api/v1/folders", map[string]any{"name": " Ops ", "description": "On call"})
		want(t, "create", r, http.StatusCreated, "")
		r.decode(t, &f)
		if f.ID == "" || f.Name != "Ops" || f.Description != "On call" || f.Flows != 0 {
			t.Fatalf("created %+v", f)
		}
		ops := f.ID

		// Refusals change nothing.
		before := folders()
		unchanged := func(what string) {
			t.Helper()
			if after := folders(); len(after) != len(before) || after["Ops"] != before["Ops"] || after["Test"] != before["Test"] {
				t.Fatalf("%s: folders %v; want %v, unchanged", what, after, before)
			}
		}
		b.refuseAll([]refusal{
			{"viewer create", "POST", "/api/v1/folders", auth.RoleIssueViewer, map[string]any{"name": "X"}, 403, "forbidden", ""},
			{"responder create", "POST", "/api/v1/folders", auth.RoleIssueResponder, map[string]any{"name": "X"}, 403, "forbidden", ""},
			{"taken", "POST", "/api/v1/folders", auth.RoleWorkflowsAdmin, map[string]any{"name": "Test"}, 409, "conflict", ""},
			{"no name", "POST", "/api/v1/folders", auth.RoleWorkflowsAdmin, map[string]any{"description": "x"}, 400, "invalid", "name"},
			{"bad name", "POST", "/api/v1/folders", auth.RoleWorkflowsAdmin, map[string]any{"name": "a\x00b"}, 400, "invalid", "name"},
			{"viewer rename", "PUT", "/api/v1/folders/Ops", auth.RoleIssueViewer, map[string]any{"name": "X"}, 403, "forbidden", ""},
			{"rename to taken", "PUT", "/api/v1/folders/Ops", auth.RoleWorkflowsAdmin, map[string]any{"name": "Test"}, 409, "conflict", ""},
			{"rename to nothing", "PUT", "/api/v1/folders/Ops", auth.RoleWorkflowsAdmin, map[string]any{"name": ""}, 400, "invalid", "name"},
			{"empty change", "PUT", "/api/v1/folders/Ops", auth.RoleWorkflowsAdmin, map[string]any{}, 400, "invalid", "body"},
			{"rename unknown", "PUT", "/api/v1/folders/Nope", auth.RoleWorkflowsAdmin, map[string]any{"name": "X"}, 404, "not_found", ""},
			{"viewer delete", "DELETE", "/api/v1/folders/Ops", auth.RoleIssueViewer, nil, 403, "forbidden", ""},
			{"responder delete", "DELETE", "/api/v1/folders/" + ops, auth.RoleIssueResponder, nil, 403, "forbidden", ""},
			{"delete with flows", "DELETE", "/api/v1/folders/Test", auth.RoleWorkflowsAdmin, nil, 409, "conflict", ""},
			{"delete unknown", "DELETE", "/api/v1/folders/Nope", auth.RoleWorkflowsAdmin, nil, 404, "not_found", ""},
		}, nil, unchanged)

		// A rename keeps the description; a description keeps the name.
		r = b.do(auth.RoleWorkflowsAdmin, "PUT", "/api/v1/folders/Ops", map[string]any{"name": "Operations"})
		want(t, "rename", r, http.StatusOK, "")
		r.decode(t, &f)
		if f.ID != ops || f.Name != "Operations" || f.Description != "On call" {
			t.Errorf("renamed %+v", f)
		}
		r = b.do(auth.RoleSuperAdmin, "PUT", "/api/v1/folders/"+ops, map[string]any{"description": ""})
		want(t, "describe", r, http.StatusOK, "")
		f = flows.Folder{}
		r.decode(t, &f)
		if f.Name != "Operations" || f.Description != "" {
			t.Errorf("described %+v", f)
		}

		r = b.do(auth.RoleWorkflowsAdmin, "DELETE", "/api/v1/folders/Operations", nil)
		want(t, "delete", r, http.StatusNoContent, "")
		if got := folders(); len(got) != 1 {
			t.Errorf("folders after a delete: %v; want Test alone", got)
		}
	})
}
