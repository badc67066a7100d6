package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/connector"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/httpjson"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// pingFlow sends one request through the connection "Local", whose
// server counts what it receives.
const pingFlow = `document:
  dsl: '1.0.0'
  namespace: test
  name: ping
  version: '1.0.0'
  title: Ping
do:
  - ping:
      call: http.request
      with:
        connection: Local
        method: POST
        path: /ping
        body: {hello: world}
`

// slowFlow waits long enough to be cancelled while it runs.
const slowFlow = `document:
  dsl: '1.0.0'
  namespace: test
  name: slow
  version: '1.0.0'
  title: Slow
do:
  - pause:
      wait: {seconds: 120}
  - after:
      set:
        done: true
`

// executionCount counts every execution in the database.
func (b *bundle) executionCount() int {
	b.t.Helper()
	list, err := b.svc.Flows.Executions(b.ctx, flows.ExecutionFilter{Limit: 10000})
	if err != nil {
		b.t.Fatal(err)
	}
	return len(list)
}

// saveFlow saves doc in the bundle's folder.
func (b *bundle) saveFlow(doc string) *flows.Flow {
	b.t.Helper()
	res, err := b.svc.Flows.SaveFlow(b.ctx, flows.SaveParams{FolderID: b.folder.ID, Document: []byte(doc), By: "test"})
	if err != nil {
		b.t.Fatal(err)
	}
	return res.Flow
}

// history reads an execution through the API.
func (b *bundle) history(execID string) *flows.History {
	b.t.Helper()
	var h flows.History
	r := b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/executions/"+execID, nil)
	want(b.t, "execution "+execID, r, http.StatusOK, "")
	r.decode(b.t, &h)
	return &h
}

// awaitStatus reads an execution through the API until ok accepts it.
// The deadline only keeps a broken test from hanging; nothing is
// measured.
func (b *bundle) awaitStatus(execID string, ok func(status string) bool) *flows.History {
	b.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		h := b.history(execID)
		if ok(h.Execution.Status) {
			return h
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("execution %s stayed %s", execID, h.Execution.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// run posts a run of flowID, whose answer must have status.
func (b *bundle) run(flowID, query string, body any, status int) response {
	b.t.Helper()
	r := b.do(auth.RoleWorkflowsAdmin, "POST", "/api/v1/flows/"+flowID+"/run"+query, body)
	want(b.t, "run "+flowID+query, r, status, "")
	return r
}

// runWait runs flowID, waits for the execution to end and returns its
// history.
func (b *bundle) runWait(flowID string, body any) *flows.History {
	b.t.Helper()
	var h flows.History
	b.run(flowID, "?wait=60", body, http.StatusOK).decode(b.t, &h)
	return &h
}

func TestRunFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		b.work()

		// With wait: the history of the ended execution, with the flow's
		// output. Echo is off; a test run runs it all the same.
		h := b.runWait(b.echo.ID, map[string]any{"input": map[string]any{"body": map[string]any{"hello": "api"}}})
		e := h.Execution
		if e.Status != flows.StatusSucceeded || !e.Test || e.DryRun || e.Version != 1 || fmt.Sprint(e.Output) != "map[got:map[hello:api]]" {
			t.Errorf("run with wait: %+v; want a succeeded test run answering got: {hello: api}", e)
		}
		if len(h.Steps) != 1 || h.Steps[0].Name != "answer" {
			t.Errorf("run with wait: steps %+v; want answer", h.Steps)
		}
		if f, err := b.svc.Flows.Flow(b.ctx, b.echo.ID); err != nil || f.On {
			t.Errorf("after a test run the flow is %+v, %v; want it still off", f, err)
		}

		// Without wait: 202 at once, then the history follows it. Open
		// Door does not save its data, so the history has no output.
		var started RunStarted
		r := b.run("Open%20Door", "", nil, http.StatusAccepted)
		r.decode(t, &started)
		if started.Status != flows.StatusPending || !strings.HasPrefix(started.ExecutionID, "exe_") {
			t.Fatalf("run without wait: %+v", started)
		}
		if loc := r.header.Get("Location"); loc != "/api/v1/executions/"+started.ExecutionID {
			t.Errorf("run without wait: Location %q", loc)
		}
		e = b.awaitStatus(started.ExecutionID, func(s string) bool { return s != flows.StatusPending && s != flows.StatusRunning }).Execution
		if e.Status != flows.StatusSucceeded || !e.Test || e.FlowID != b.open.ID || e.Output != nil {
			t.Errorf("run without wait, once ended: %+v", e)
		}
		// Waiting gives the output the history does not keep.
		h = b.runWait(b.open.ID, map[string]any{})
		if fmt.Sprint(h.Execution.Output) != "map[ok:true]" {
			t.Errorf("run of a flow that saves no data: output %v; want {ok: true}", h.Execution.Output)
		}

		// An older version runs when asked for.
		if res, err := b.svc.Flows.SaveFlow(b.ctx, flows.SaveParams{FolderID: b.folder.ID, FlowID: b.echo.ID,
			Document: []byte(strings.Replace(echoFlow, "got:", "v2:", 1)), By: "test"}); err != nil || res.Flow.Version != 2 {
			t.Fatalf("save version 2: %+v, %v", res, err)
		}
		for _, tc := range []struct {
			version int
			output  string
		}{{0, "map[v2:7]"}, {1, "map[got:7]"}, {2, "map[v2:7]"}} {
			body := map[string]any{"input": map[string]any{"body": 7}}
			if tc.version != 0 {
				body["version"] = tc.version
			}
			h = b.runWait(b.echo.ID, body)
			want := tc.version
			if want == 0 {
				want = 2
			}
			if h.Execution.Version != want || fmt.Sprint(h.Execution.Output) != tc.output {
				t.Errorf("run of version %d: version %d, output %v; want %d, %s", tc.version, h.Execution.Version, h.Execution.Output, want, tc.output)
			}
		}
	})
}

func TestRunFlowDryRun(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		b.work()
		ping := b.saveFlow(pingFlow)

		// A dry run records the request instead of sending it.
		h := b.runWait(ping.ID, map[string]any{"dryRun": true})
		if e := h.Execution; e.Status != flows.StatusSucceeded || !e.DryRun || !e.Test {
			t.Errorf("dry run: %+v; want a succeeded dry test run", e)
		}
		if len(h.Notes) != 1 || h.Notes[0].Kind != connector.NoteKind {
			t.Errorf("dry run: notes %+v; want the request it did not send", h.Notes)
		}
		if n := b.probes.count(); n != 0 {
			t.Errorf("dry run: the server received %d requests; want none", n)
		}

		// The same run for real sends it, and records the call it made.
		h = b.runWait(ping.ID, map[string]any{"dryRun": false})
		if e := h.Execution; e.Status != flows.StatusSucceeded || e.DryRun || len(h.Notes) != 1 || h.Notes[0].Kind != connector.NoteCall ||
			len(h.ConnectorCalls) != 1 {
			t.Errorf("run: %+v, notes %+v; want a succeeded run that sent its request and recorded it", e, h.Notes)
		}
		if n := b.probes.count(); n != 1 {
			t.Errorf("run: the server received %d requests; want 1", n)
		}

		// The flows service starts a flow whose connection is not set; the
		// execution faults at the call.
		h = b.runWait(b.okta.ID, map[string]any{"input": map[string]any{"user": "ada"}})
		if e := h.Execution; e.Status != flows.StatusFaulted || e.Error == nil {
			t.Errorf("run of a flow whose connection is not set: %+v; want faulted", e)
		}
	})
}

func TestRunFlowRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		before := b.executionCount()
		unchanged := func(what string) {
			t.Helper()
			if n := b.executionCount(); n != before {
				t.Errorf("%s: %d executions; want %d, nothing started", what, n, before)
			}
		}
		run := "/api/v1/flows/" + b.echo.ID + "/run"
		huge := map[string]any{"input": map[string]any{"s": strings.Repeat("x", flows.DefaultMaxInput)}}
		admin := auth.RoleWorkflowsAdmin
		b.refuseAll([]refusal{
			{"anonymous", "POST", run, "", nil, 401, "unauthorized", ""},
			{"issue viewer", "POST", run, auth.RoleIssueViewer, nil, 403, "forbidden", ""},
			{"issue responder", "POST", run, auth.RoleIssueResponder, map[string]any{"input": map[string]any{}}, 403, "forbidden", ""},
			{"unknown flow", "POST", "/api/v1/flows/nope/run", admin, nil, 404, "not_found", ""},
			{"not JSON", "POST", run, admin, `{"input": nope}`, 400, "invalid", "body"},
			{"unknown field", "POST", run, admin, `{"inputs": {}}`, 400, "invalid", "body"},
			{"two values", "POST", run, admin, `{} {}`, 400, "invalid", "body"},
			{"dryRun not a boolean", "POST", run, admin, `{"dryRun": "yes"}`, 400, "invalid", "body"},
			{"wait 0", "POST", run + "?wait=0", admin, nil, 400, "invalid", "wait"},
			{"wait too long", "POST", run + "?wait=61", admin, nil, 400, "invalid", "wait"},
			{"wait not a number", "POST", run + "?wait=soon", admin, nil, 400, "invalid", "wait"},
			{"negative version", "POST", run, admin, map[string]any{"version": -1}, 400, "invalid", "version"},
			{"unknown version", "POST", run, admin, map[string]any{"version": 9}, 400, "invalid", "version"},
			{"input too large", "POST", run, admin, huge, 400, "invalid", "input"},
		}, func(what string, r response) {
			if what == "input too large" && !strings.Contains(string(r.body), "larger than") {
				t.Errorf("%s: %s; want the service's sentence", what, r.body)
			}
		}, unchanged)
	})
}

func TestCancelExecution(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)

		// Before any worker runs: setup's execution is pending.
		cancel := func(role auth.Role, execID string) response {
			t.Helper()
			return b.do(role, "POST", "/api/v1/executions/"+execID+"/cancel", nil)
		}
		status := func(execID string) string {
			t.Helper()
			h, err := b.svc.Flows.Execution(b.ctx, execID)
			if err != nil {
				t.Fatal(err)
			}
			return h.Execution.Status
		}
		for _, role := range []auth.Role{auth.RoleIssueViewer, auth.RoleIssueResponder} {
			want(t, string(role)+" cancels", cancel(role, b.execID), http.StatusForbidden, "forbidden")
			if s := status(b.execID); s != flows.StatusPending {
				t.Errorf("%s cancels: status %s; want pending", role, s)
			}
		}
		want(t, "unknown execution", cancel(auth.RoleWorkflowsAdmin, "exe_nope"), http.StatusNotFound, "not_found")
		var h flows.History
		r := cancel(auth.RoleWorkflowsAdmin, b.execID)
		want(t, "cancel pending", r, http.StatusOK, "")
		r.decode(t, &h)
		if h.Execution.ID != b.execID || h.Execution.Status != flows.StatusCancelled || h.Execution.EndedAt == nil {
			t.Errorf("cancel pending: %+v; want cancelled", h.Execution)
		}

		// A running execution stops; its task after the wait never runs.
		b.work()
		slow := b.saveFlow(slowFlow)
		// Its wait outlasts the run's, which answers 202 with the id.
		var started RunStarted
		b.run(slow.ID, "?wait=1", nil, http.StatusAccepted).decode(t, &started)
		if started.Status != flows.StatusPending && started.Status != flows.StatusRunning {
			t.Errorf("run outlasting its wait: %+v; want pending or running", started)
		}
		b.awaitStatus(started.ExecutionID, func(s string) bool { return s == flows.StatusRunning })
		r = cancel(auth.RoleSuperAdmin, started.ExecutionID)
		want(t, "cancel running", r, http.StatusOK, "")
		h = flows.History{}
		r.decode(t, &h)
		if h.Execution.Status != flows.StatusCancelled {
			t.Errorf("cancel running: %+v; want cancelled", h.Execution)
		}
		ended := b.runWait(b.echo.ID, nil)

		// Ended executions are left as they are, with a sentence naming
		// their status.
		for _, tc := range []struct{ execID, status string }{
			{started.ExecutionID, flows.StatusCancelled},
			{ended.Execution.ID, flows.StatusSucceeded},
		} {
			r := cancel(auth.RoleWorkflowsAdmin, tc.execID)
			want(t, "cancel "+tc.status, r, http.StatusConflict, "conflict")
			var e httpjson.ErrorBody
			r.decode(t, &e)
			if msg := "The execution already ended (status " + tc.status + "); nothing was cancelled."; e.Error.Message != msg {
				t.Errorf("cancel %s: %q; want %q", tc.status, e.Error.Message, msg)
			}
			if s := status(tc.execID); s != tc.status {
				t.Errorf("cancel %s: status now %s", tc.status, s)
			}
		}
		if h := b.history(started.ExecutionID); len(h.Steps) != 0 {
			t.Errorf("cancelled execution ran steps %+v", h.Steps)
		}
	})
}
