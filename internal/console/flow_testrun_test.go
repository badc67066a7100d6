package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/console/consoletest"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// greetFlow answers its input's name with a greeting and saves its data,
// so the execution page shows input and output.
const greetFlow = `document:
  dsl: '1.0.0'
  namespace: tests
  name: greet
  version: '1.0.0'
  title: Greet
  metadata:
    vigil:
      saveAllData: true
do:
  - greet:
      set:
        greeting: '${ "hello " + .name }'
`

// slowFlow waits long enough to be cancelled while it runs.
const slowFlow = `document:
  dsl: '1.0.0'
  namespace: tests
  name: slow
  version: '1.0.0'
  title: Slow
do:
  - pause:
      wait: PT10S
  - done:
      set:
        done: true
`

// testRunBundle is a world over the real services with one folder.
type testRunBundle struct {
	w       *consoletest.World
	builder *http.Client
	folder  string
}

func setupTestRun(t *testing.T, st *store.Store, noQueue bool) *testRunBundle {
	t.Helper()
	w := consoletest.New(t, consoletest.Options{Store: st, NoQueue: noQueue, Logger: testLogger(t)})
	folder, err := w.Flows.CreateFolder(context.Background(), "Tests", "")
	if err != nil {
		t.Fatal(err)
	}
	return &testRunBundle{w: w, builder: w.Client(t, auth.RoleWorkflowsAdmin), folder: folder.ID}
}

// flow saves doc in the bundle's folder; new flows are off.
func (b *testRunBundle) flow(t *testing.T, doc string) *flows.Flow {
	t.Helper()
	res, err := b.w.Flows.SaveFlow(context.Background(), flows.SaveParams{FolderID: b.folder, Document: []byte(doc), By: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return res.Flow
}

// executions counts the executions of a flow.
func (b *testRunBundle) executions(t *testing.T, flowID string) int {
	t.Helper()
	es, err := b.w.Flows.Executions(context.Background(), flows.ExecutionFilter{FlowID: flowID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// testRun posts the Test flow form and returns the started execution's
// id, failing unless the console redirected to its page.
func (b *testRunBundle) testRun(t *testing.T, flowID string, form url.Values) string {
	t.Helper()
	pg := post(t, b.builder, b.w.URL+"/workflows/flows/"+flowID+"/test", form)
	execID, ok := strings.CutPrefix(pg.Location, "/workflows/executions/")
	if pg.Status != http.StatusSeeOther || !ok || execID == "" {
		t.Fatalf("Test flow: status %d to %q, want 303 to the execution: %.300s", pg.Status, pg.Location, pg.Body)
	}
	return execID
}

// wait returns the execution once it has ended.
func (b *testRunBundle) wait(t *testing.T, execID string) *flows.Execution {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e, err := b.w.Flows.Wait(ctx, execID)
	if err != nil {
		t.Fatalf("wait for %s: %v", execID, err)
	}
	return e
}

// running returns once a worker has started the execution, so that Cancel
// stops a run in progress rather than one still queued.
func (b *testRunBundle) running(t *testing.T, execID string) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		h, err := b.w.Flows.Execution(context.Background(), execID)
		if err != nil {
			t.Fatal(err)
		}
		switch h.Execution.Status {
		case flows.StatusRunning:
			return
		case flows.StatusPending:
		default:
			t.Fatalf("execution %s is %s before it was cancelled", execID, h.Execution.Status)
		}
	}
	t.Fatalf("execution %s did not start", execID)
}

// TestTestFlowOverRealServices checks the flow page's Test flow form on
// both databases: a test run of a flow that is off ends with its output on
// the execution page, marked as a test; a dry run is recorded as one;
// input that is not JSON is shown again with the reason and starts
// nothing; roles that may not manage flows and other sites start nothing.
func TestTestFlowOverRealServices(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setupTestRun(t, st, false)
		ctx := context.Background()
		f := b.flow(t, greetFlow)
		if f.On {
			t.Fatal("a new flow is on; the test needs one that is off")
		}

		page := get(t, b.builder, b.w.URL+"/workflows/flows/"+f.ID)
		for _, s := range []string{`action="/workflows/flows/` + f.ID + `/test"`, `name="input"`, `name="dry_run" checked`, ">Test flow</button>"} {
			if !strings.Contains(page.Body, s) {
				t.Errorf("the flow page has no %s", s)
			}
		}

		execID := b.testRun(t, f.ID, url.Values{"input": {`{"name": "Ada"}`}})
		if e := b.wait(t, execID); e.Status != flows.StatusSucceeded || !e.Test || e.DryRun {
			t.Fatalf("test run: status %s, test %v, dry run %v; want succeeded, test, not dry run", e.Status, e.Test, e.DryRun)
		}
		pg := get(t, b.builder, b.w.URL+"/workflows/executions/"+execID)
		if pg.Status != http.StatusOK {
			t.Fatalf("execution page: status %d", pg.Status)
		}
		for _, s := range []string{`data-testid="execution-test"`, "hello Ada", ">Succeeded<"} {
			if !strings.Contains(pg.Body, s) {
				t.Errorf("the execution page does not show %s: %.2000s", s, pg.Body)
			}
		}
		if strings.Contains(pg.Body, `data-testid="cancel-execution"`) {
			t.Error("an ended execution offers Cancel")
		}

		dry := b.testRun(t, f.ID, url.Values{"input": {`{"name": "Bo"}`}, "dry_run": {"on"}})
		if e := b.wait(t, dry); !e.DryRun || !e.Test {
			t.Errorf("dry test run: dry run %v, test %v; want both", e.DryRun, e.Test)
		}

		before := b.executions(t, f.ID)
		pg = post(t, b.builder, b.w.URL+"/workflows/flows/"+f.ID+"/test", url.Values{"input": {`{"name": `}})
		if pg.Status != http.StatusUnprocessableEntity || !strings.Contains(pg.Body, "The input is not JSON") ||
			!strings.Contains(pg.Body, `{&#34;name&#34;: </textarea>`) {
			t.Errorf("bad JSON: status %d, want 422 with the reason and the input kept: %.3000s", pg.Status, pg.Body)
		}
		if after := b.executions(t, f.ID); after != before {
			t.Errorf("bad JSON started %d executions", after-before)
		}

		for _, role := range []auth.Role{auth.RoleIssueViewer, auth.RoleIssueResponder} {
			pg := post(t, b.w.Client(t, role), b.w.URL+"/workflows/flows/"+f.ID+"/test", url.Values{"input": {"{}"}})
			if pg.Status != http.StatusForbidden {
				t.Errorf("%s: status %d, want 403", role, pg.Status)
			}
		}
		// A form posted from another site is refused before the handler,
		// as every console form is.
		req, err := http.NewRequest("POST", b.w.URL+"/workflows/flows/"+f.ID+"/test", strings.NewReader("input=%7B%7D"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := b.builder.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if pg := read(t, resp); pg.Status != http.StatusForbidden {
			t.Errorf("cross-site Test flow: status %d, want 403", pg.Status)
		}
		if after := b.executions(t, f.ID); after != before {
			t.Errorf("refused requests started %d executions", after-before)
		}
		if got, _ := b.w.Flows.Flow(ctx, f.ID); got.On {
			t.Error("a test run turned the flow on")
		}
	})
}

// TestCancelExecutionOverRealServices checks the execution page's Cancel
// button on both databases: a running execution ends as cancelled; one that has ended is left as it is, with a flash that
// says so.
func TestCancelExecutionOverRealServices(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setupTestRun(t, st, false)
		ctx := context.Background()
		slow := b.flow(t, slowFlow)

		execID := b.testRun(t, slow.ID, url.Values{"input": {"{}"}})
		b.running(t, execID)
		pg := get(t, b.builder, b.w.URL+"/workflows/executions/"+execID)
		if !strings.Contains(pg.Body, `action="/workflows/executions/`+execID+`/cancel"`) {
			t.Fatalf("an unfinished execution offers no Cancel: %.2000s", pg.Body)
		}
		for _, role := range []auth.Role{auth.RoleIssueViewer, auth.RoleIssueResponder} {
			if pg := post(t, b.w.Client(t, role), b.w.URL+"/workflows/executions/"+execID+"/cancel", nil); pg.Status != http.StatusForbidden {
				t.Errorf("%s cancel: status %d, want 403", role, pg.Status)
			}
		}
		pg = post(t, b.builder, b.w.URL+"/workflows/executions/"+execID+"/cancel", nil)
		if pg.Status != http.StatusSeeOther || pg.Location != "/workflows/executions/"+execID {
			t.Fatalf("cancel: status %d to %q, want 303 back to the execution", pg.Status, pg.Location)
		}
		h, err := b.w.Flows.Execution(ctx, execID)
		if err != nil {
			t.Fatal(err)
		}
		if h.Execution.Status != flows.StatusCancelled {
			t.Errorf("after Cancel the execution is %s, want cancelled", h.Execution.Status)
		}
		pg = get(t, b.builder, b.w.URL+pg.Location)
		if msg := flashOf(pg.Body); msg != "The execution was cancelled." {
			t.Errorf("cancel flash %q", msg)
		}
		if strings.Contains(pg.Body, `data-testid="cancel-execution"`) {
			t.Error("a cancelled execution still offers Cancel")
		}

		greet := b.flow(t, greetFlow)
		done := b.testRun(t, greet.ID, url.Values{"input": {`{"name": "Cy"}`}})
		ended := b.wait(t, done)
		pg = post(t, b.builder, b.w.URL+"/workflows/executions/"+done+"/cancel", nil)
		if pg.Status != http.StatusSeeOther || pg.Location != "/workflows/executions/"+done {
			t.Fatalf("cancel an ended execution: status %d to %q", pg.Status, pg.Location)
		}
		if msg := flashOf(get(t, b.builder, b.w.URL+pg.Location).Body); !strings.Contains(msg, "has ended already") {
			t.Errorf("cancel an ended execution says %q", msg)
		}
		h, err = b.w.Flows.Execution(ctx, done)
		if err != nil {
			t.Fatal(err)
		}
		if h.Execution.Status != ended.Status || h.Execution.Status != flows.StatusSucceeded {
			t.Errorf("cancel of an ended execution changed it from %s to %s", ended.Status, h.Execution.Status)
		}

		if pg := post(t, b.builder, b.w.URL+"/workflows/executions/exe_missing/cancel", nil); pg.Status != http.StatusNotFound {
			t.Errorf("cancel an unknown execution: status %d, want 404", pg.Status)
		}
	})
}

// TestTestFlowRefusedByTheService checks that a refusal of the flows
// service (here: a server without a job queue) comes back as a flash with
// its sentence and starts nothing.
func TestTestFlowRefusedByTheService(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setupTestRun(t, st, true)
		f := b.flow(t, greetFlow)
		pg := post(t, b.builder, b.w.URL+"/workflows/flows/"+f.ID+"/test", url.Values{"input": {"{}"}})
		if pg.Status != http.StatusSeeOther || pg.Location != "/workflows/flows/"+f.ID {
			t.Fatalf("refused test run: status %d to %q, want 303 back to the flow", pg.Status, pg.Location)
		}
		if msg := flashOf(get(t, b.builder, b.w.URL+pg.Location).Body); !strings.Contains(msg, "no job queue") {
			t.Errorf("refused test run says %q", msg)
		}
		if n := b.executions(t, f.ID); n != 0 {
			t.Errorf("a refused test run started %d executions", n)
		}
	})
}
