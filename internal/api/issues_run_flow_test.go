package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// onDemandFlow is Echo marked callable on demand, under another name.
var onDemandFlow = strings.NewReplacer("name: echo", "name: remediate", "title: Echo", "title: Remediate",
	"      saveAllData: true\n", "      saveAllData: true\n      onDemand: true\n").Replace(echoFlow)

func TestRunFlowOnIssue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		b.work()
		remediate := b.saveFlow(onDemandFlow)
		if _, err := b.svc.Flows.SetOn(b.ctx, remediate.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.Flows.SetOn(b.ctx, b.echo.ID, true); err != nil {
			t.Fatal(err)
		}
		var page IssuePage
		b.do(auth.RoleIssueViewer, "GET", "/api/v1/issues?status=open&limit=1", nil).decode(t, &page)
		is := page.Issues[0]
		path := "/api/v1/issues/" + is.ID + "/run-flow"

		// Refusals start nothing.
		before := b.executionCount()
		for _, tc := range []struct {
			what   string
			role   auth.Role
			path   string
			body   any
			status int
			code   string
		}{
			{"viewer", auth.RoleIssueViewer, path, map[string]any{"flowId": remediate.ID}, 403, "forbidden"},
			{"issue responder", auth.RoleIssueResponder, path, map[string]any{"flowId": remediate.ID}, 403, "forbidden"},
			{"not on demand", auth.RoleWorkflowsAdmin, path, map[string]any{"flowId": b.echo.ID}, 409, "conflict"},
			{"no flow", auth.RoleWorkflowsAdmin, path, map[string]any{}, 400, "invalid"},
			{"unknown flow", auth.RoleWorkflowsAdmin, path, map[string]any{"flowId": "flw_nope"}, 404, "not_found"},
			{"unknown issue", auth.RoleWorkflowsAdmin, "/api/v1/issues/iss_nope/run-flow", map[string]any{"flowId": remediate.ID}, 404, "not_found"},
		} {
			r := b.do(tc.role, "POST", tc.path, tc.body)
			want(t, tc.what, r, tc.status, tc.code)
			if tc.what == "not on demand" && !strings.Contains(string(r.body), "onDemand") {
				t.Errorf("not on demand: %s; want it to say how to mark the flow", r.body)
			}
			if n := b.executionCount(); n != before {
				t.Errorf("%s: %d executions; want %d", tc.what, n, before)
			}
		}

		// A workflows admin runs it: 202 with the execution, whose input
		// body is the issue's event.
		var started RunStarted
		r := b.do(auth.RoleWorkflowsAdmin, "POST", path, map[string]any{"flowId": remediate.ID})
		want(t, "run", r, http.StatusAccepted, "")
		r.decode(t, &started)
		if !strings.HasPrefix(started.ExecutionID, "exe_") || r.header.Get("Location") != "/api/v1/executions/"+started.ExecutionID {
			t.Fatalf("run: %+v, Location %q", started, r.header.Get("Location"))
		}
		h := b.awaitStatus(started.ExecutionID, func(s string) bool { return s != flows.StatusPending && s != flows.StatusRunning })
		e := h.Execution
		if e.Status != flows.StatusSucceeded || e.FlowID != remediate.ID || e.Test {
			t.Fatalf("run: %+v; want a succeeded, non-test run of Remediate", e)
		}
		got, _ := e.Output.(map[string]any)["got"].(map[string]any)
		data, _ := got["eventData"].(map[string]any)
		entity, _ := data["affectedEntity"].(map[string]any)
		if got["type"] != "issue.updated" || data["id"] != is.ID || data["title"] != is.Title ||
			entity["sourceProductName"] != is.AffectedEntity.SourceProductName || entity["sourceProductName"] == nil {
			t.Errorf("run: the flow got %v; want the event of issue %s (%s)", got, is.ID, is.Title)
		}
	})
}
