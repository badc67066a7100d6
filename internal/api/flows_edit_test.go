package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/httpjson"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// greetFlow is a new helper flow for the folder of setup.
const greetFlow = `document:
  dsl: '1.0.0'
  namespace: test
  name: greet
  version: '1.0.0'
  title: Greet
do:
  - hello:
      set:
        greeting: hello
`

// brokenFlow calls a function no catalog has, in its second task.
const brokenFlow = `document:
  dsl: '1.0.0'
  namespace: test
  name: broken
  version: '1.0.0'
do:
  - first:
      set:
        a: 1
  - bad:
      call: nope.nothing
`

// flowCount counts every flow and every version of echo, to show that a
// refused request changed nothing.
func (b *bundle) flowCount() (flowsN, echoVersions int) {
	b.t.Helper()
	list, err := b.svc.Flows.Flows(b.ctx, flows.ListFlowsParams{})
	if err != nil {
		b.t.Fatal(err)
	}
	vs, err := b.svc.Flows.Versions(b.ctx, b.echo.ID)
	if err != nil {
		b.t.Fatal(err)
	}
	return len(list), len(vs)
}

func TestCreateFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		n, _ := b.flowCount()

		// A document as a YAML string in JSON, as YAML, as a JSON object.
		var jsonDoc map[string]any
		if err := json.Unmarshal([]byte(`{"document": {"dsl": "1.0.0", "namespace": "test", "name": "asjson", "version": "1.0.0"},
			"do": [{"one": {"set": {"a": 1}}}]}`), &jsonDoc); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			what, target string
			body         any
			name         string
		}{
			{"yaml in json", "/api/v1/flows", map[string]any{"folder": "Test", "document": greetFlow}, "greet"},
			{"yaml body", "/api/v1/flows?folder=" + b.folder.ID, yamlBody(strings.ReplaceAll(greetFlow, "greet", "yamlgreet")), "yamlgreet"},
			{"json object", "/api/v1/flows", map[string]any{"folder": b.folder.ID, "document": jsonDoc}, "asjson"},
		} {
			r := b.do(auth.RoleWorkflowsAdmin, "POST", tc.target, tc.body)
			want(t, tc.what, r, http.StatusCreated, "")
			var f FlowSaved
			r.decode(t, &f)
			if f.Flow == nil || f.Name != tc.name || f.FolderID != b.folder.ID || f.On || f.Version != 1 || !f.Changed {
				t.Errorf("%s: created %+v", tc.what, f.Flow)
			}
			got, err := b.svc.Flows.Flow(b.ctx, f.ID)
			if err != nil || got.Name != tc.name {
				t.Errorf("%s: the flow is not stored: %v", tc.what, err)
			}
		}
		n += 3
		if got, _ := b.flowCount(); got != n {
			t.Fatalf("%d flows after three creates; want %d", got, n)
		}

		// Refusals change nothing.
		for _, tc := range []struct {
			what        string
			role        auth.Role
			target      string
			body        any
			status      int
			code, field string
			msgHas      string
		}{
			{"viewer", auth.RoleIssueViewer, "/api/v1/flows", map[string]any{"folder": "Test", "document": brokenFlow}, 403, "forbidden", "", ""},
			{"responder", auth.RoleIssueResponder, "/api/v1/flows", map[string]any{"folder": "Test", "document": greetFlow}, 403, "forbidden", "", ""},
			{"invalid document", auth.RoleWorkflowsAdmin, "/api/v1/flows", map[string]any{"folder": "Test", "document": brokenFlow}, 422, "invalid", "document", "do[1].bad"},
			{"invalid yaml body", auth.RoleWorkflowsAdmin, "/api/v1/flows?folder=Test", yamlBody(brokenFlow), 422, "invalid", "document", "do[1].bad"},
			{"not yaml", auth.RoleWorkflowsAdmin, "/api/v1/flows?folder=Test", yamlBody("do: [unclosed"), 422, "invalid", "document", ""},
			{"taken name", auth.RoleWorkflowsAdmin, "/api/v1/flows", map[string]any{"folder": "Test", "document": echoFlow}, 409, "conflict", "", b.echo.ID},
			{"no folder", auth.RoleWorkflowsAdmin, "/api/v1/flows", map[string]any{"document": greetFlow}, 400, "invalid", "folder", ""},
			{"unknown folder", auth.RoleWorkflowsAdmin, "/api/v1/flows", map[string]any{"folder": "Nope", "document": greetFlow}, 400, "invalid", "folder", ""},
			{"no document", auth.RoleWorkflowsAdmin, "/api/v1/flows", map[string]any{"folder": "Test"}, 400, "invalid", "document", ""},
			{"number document", auth.RoleWorkflowsAdmin, "/api/v1/flows", `{"folder": "Test", "document": 5}`, 400, "invalid", "document", ""},
			{"unknown field", auth.RoleWorkflowsAdmin, "/api/v1/flows", map[string]any{"folder": "Test", "document": greetFlow, "on": true}, 400, "invalid", "body", ""},
		} {
			r := b.do(tc.role, "POST", tc.target, tc.body)
			wantRefused(t, tc.what, r, tc.status, tc.code, tc.field, func(what string) {
				if got, _ := b.flowCount(); got != n {
					t.Fatalf("%s: %d flows; want %d, unchanged", what, got, n)
				}
			})
			var e httpjson.ErrorBody
			r.decode(t, &e)
			if !strings.Contains(e.Error.Message, tc.msgHas) || !strings.HasSuffix(e.Error.Message, ".") || strings.Contains(e.Error.Message, "\n") {
				t.Errorf("%s: message %q; want one sentence naming %q", tc.what, e.Error.Message, tc.msgHas)
			}
		}
	})
}

func TestSaveFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		n, _ := b.flowCount()
		renamed := strings.Replace(echoFlow, "title: Echo", "title: Echo Two", 1)
		r := b.do(auth.RoleWorkflowsAdmin, "PUT", "/api/v1/flows/"+b.echo.ID, map[string]any{"document": renamed})
		want(t, "save", r, http.StatusOK, "")
		var f FlowSaved
		r.decode(t, &f)
		if f.Flow == nil || f.ID != b.echo.ID || f.Title != "Echo Two" || f.Version != 2 || !f.Changed {
			t.Fatalf("saved %+v", f)
		}
		// The same document again adds no version; a YAML body by title.
		r = b.do(auth.RoleSuperAdmin, "PUT", "/api/v1/flows/Echo%20Two?folder=Test", yamlBody(renamed))
		want(t, "save again", r, http.StatusOK, "")
		r.decode(t, &f)
		if f.Version != 2 || f.Changed {
			t.Errorf("saved the same document: version %d, changed %v; want 2, false", f.Version, f.Changed)
		}

		for _, tc := range []struct {
			what   string
			role   auth.Role
			ref    string
			body   any
			status int
			code   string
		}{
			{"viewer", auth.RoleIssueViewer, b.echo.ID, map[string]any{"document": echoFlow}, 403, "forbidden"},
			{"responder", auth.RoleIssueResponder, b.echo.ID, yamlBody(echoFlow), 403, "forbidden"},
			{"invalid", auth.RoleWorkflowsAdmin, b.echo.ID, map[string]any{"document": strings.Replace(brokenFlow, "name: broken", "name: echo", 1)}, 422, "invalid"},
			{"another flow's name", auth.RoleWorkflowsAdmin, b.echo.ID, map[string]any{"document": strings.Replace(echoFlow, "name: echo", "name: open", 1)}, 409, "conflict"},
			{"folder in body", auth.RoleWorkflowsAdmin, b.echo.ID, map[string]any{"folder": "Test", "document": echoFlow}, 400, "invalid"},
			{"unknown flow", auth.RoleWorkflowsAdmin, "flw_nope", map[string]any{"document": echoFlow}, 404, "not_found"},
		} {
			r := b.do(tc.role, "PUT", "/api/v1/flows/"+tc.ref, tc.body)
			want(t, tc.what, r, tc.status, tc.code)
			if got, versions := b.flowCount(); got != n || versions != 2 {
				t.Fatalf("%s: %d flows, echo at %d versions; want %d and 2", tc.what, got, versions, n)
			}
		}

		// Versions, newest first, without documents; one with its document.
		var list struct{ Versions []flows.Version }
		r = b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/flows/"+b.echo.ID+"/versions", nil)
		want(t, "versions", r, http.StatusOK, "")
		r.decode(t, &list)
		if len(list.Versions) != 2 || list.Versions[0].Version != 2 || list.Versions[0].Document != "" || list.Versions[1].CreatedBy != "test" {
			t.Fatalf("versions %+v", list.Versions)
		}
		if list.Versions[0].CreatedBy != string(auth.RoleWorkflowsAdmin) {
			t.Errorf("version 2 was saved by %q; want the caller", list.Versions[0].CreatedBy)
		}
		var v flows.Version
		r = b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/flows/"+b.echo.ID+"/versions/1", nil)
		want(t, "version 1", r, http.StatusOK, "")
		r.decode(t, &v)
		if v.Version != 1 || v.Document != echoFlow {
			t.Errorf("version 1: %+v", v)
		}
		want(t, "version 9", b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/flows/"+b.echo.ID+"/versions/9", nil), 404, "not_found")
		want(t, "version x", b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/flows/"+b.echo.ID+"/versions/x", nil), 400, "invalid")
		want(t, "versions of nothing", b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/flows/nope/versions", nil), 404, "not_found")
		want(t, "viewer versions", b.do(auth.RoleIssueViewer, "GET", "/api/v1/flows/"+b.echo.ID+"/versions", nil), 403, "forbidden")
	})
}

func TestDeleteFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		n, _ := b.flowCount()
		if _, err := b.svc.Flows.SetOn(b.ctx, b.open.ID, true); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			what   string
			role   auth.Role
			ref    string
			status int
			code   string
		}{
			{"viewer", auth.RoleIssueViewer, b.echo.ID, 403, "forbidden"},
			{"responder", auth.RoleIssueResponder, b.echo.ID, 403, "forbidden"},
			{"on", auth.RoleWorkflowsAdmin, b.open.ID, 409, "conflict"},
			{"unknown", auth.RoleWorkflowsAdmin, "flw_nope", 404, "not_found"},
		} {
			want(t, tc.what, b.do(tc.role, "DELETE", "/api/v1/flows/"+tc.ref, nil), tc.status, tc.code)
			if got, _ := b.flowCount(); got != n {
				t.Fatalf("%s: %d flows; want %d, unchanged", tc.what, got, n)
			}
		}
		r := b.do(auth.RoleWorkflowsAdmin, "DELETE", "/api/v1/flows/"+b.echo.ID, nil)
		want(t, "delete", r, http.StatusNoContent, "")
		if len(r.body) != 0 {
			t.Errorf("delete answered a body: %q", r.body)
		}
		want(t, "deleted", b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/flows/"+b.echo.ID, nil), 404, "not_found")
		if got, _ := b.svc.Flows.Flows(b.ctx, flows.ListFlowsParams{}); len(got) != n-1 {
			t.Errorf("%d flows after a delete; want %d", len(got), n-1)
		}
	})
}
