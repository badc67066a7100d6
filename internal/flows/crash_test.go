package flows

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/crashtest"
	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/queue"
	"github.com/vigil-ispm/vigil/internal/secret"
	"github.com/vigil-ispm/vigil/internal/store"
)

// The crash test re-executes the test binary as a small Vigil node that
// works execution jobs; the prefix names what tells it what to open.
var crash = crashtest.Harness{Prefix: "VIGIL_FLOWS_CRASH"}

func TestMain(m *testing.M) { crash.Main(m, crashChild) }

// crashChild works executions until it is killed, running maintenance
// often so that executions whose worker died are queued again quickly.
func crashChild(ctx context.Context, st *store.Store, box *secret.Box) error {
	// The lease is short so that the restarted child takes the killed
	// one's execution over soon, yet long enough that a child starved of
	// CPU on a busy machine still renews its own in time (a lapse would be
	// a third attempt, which the test counts).
	svc := New(st, box, Config{HTTPClient: netguard.NewClient(netguard.Config{Allow: loopback}), Lease: 5 * time.Second})
	return crashtest.Node{
		Register: svc.Register,
		SetQueue: func(q *queue.Queue) { svc.SetQueue(q) },
		Maintain: func(ctx context.Context) error {
			_, err := svc.Recover(ctx)
			return err
		},
		Queue: queue.Config{FetchPollInterval: 20 * time.Millisecond},
	}.Run(ctx, st)
}

// effects counts the requests a flow makes, by path. The first request
// to /block never answers: the test kills the worker while it waits.
type effects struct {
	mu      sync.Mutex
	counts  map[string]int
	blocked chan struct{}
}

func (e *effects) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.counts[r.URL.Path]++
	n := e.counts[r.URL.Path]
	e.mu.Unlock()
	if r.URL.Path == "/block" && n == 1 {
		close(e.blocked)
		<-r.Context().Done()
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"path": %q}`, r.URL.Path)
}

func (e *effects) count(path string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.counts[path]
}

// TestCrashResume kills (SIGKILL) the node running an execution while the
// execution waits inside a task, then starts a new node: the execution
// completes, and no task that had completed before the kill runs again.
// The interrupted task runs twice: side effects are at least once.
func TestCrashResume(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) { crashResume(t, dialect) })
	}
}

func crashResume(t *testing.T, dialect string) {
	ctx := context.Background()
	run := crash.Run(t, dialect)
	st := run.St
	svc := New(st, run.Box, Config{})
	q, err := queue.New(st, queue.Config{}) // insert only: the children work
	if err != nil {
		t.Fatal(err)
	}
	svc.SetQueue(q)
	fx := &effects{counts: map[string]int{}, blocked: make(chan struct{})}
	srv := httptest.NewServer(fx)
	defer srv.Close()

	folder, err := svc.CreateFolder(ctx, "Crash", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateTable(ctx, folder.ID, TableParams{Name: "Effects", Columns: []catalog.Column{{Name: "Step", Type: catalog.ColText}}}); err != nil {
		t.Fatal(err)
	}
	// A helper the flow starts without waiting: the restarted node must
	// find the child the killed one started, not start another.
	helper, err := svc.SaveFlow(ctx, SaveParams{FolderID: folder.ID, Document: []byte(flowDoc("crash-helper", "", `do:
  - done: {set: {done: true}}
`))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetOn(ctx, helper.Flow.ID, true); err != nil {
		t.Fatal(err)
	}
	// prepare and mark have no effect: the journal writes them with the
	// next step that has one, so the kill loses mark, which runs again.
	// Nor does spawn: the helper's execution, committed when it started,
	// is its record, and the step is written with slow.
	doc := flowDoc("crash", saveAll, `do:
  - prepare: {set: {run: '${ .run }'}}
  - log: {call: tables.createRow, with: {table: Effects, row: {Step: log}}}
  - first: {call: http, with: {method: post, endpoint: '`+srv.URL+`/first'}}
  - mark: {set: {after: first}}
  - spawn:
      run:
        workflow: {namespace: test, name: crash-helper, version: '1.0.0'}
        await: false
  - slow: {call: http, with: {method: post, endpoint: '`+srv.URL+`/block'}}
  - loop:
      for: {each: i, in: '${ [1, 2, 3] }'}
      do:
        - each: {call: http, with: {method: post, endpoint: '`+srv.URL+`/loop', body: {i: '${ $i }'}}}
  - last: {call: http, with: {method: post, endpoint: '`+srv.URL+`/last'}}
`)
	res, err := svc.SaveFlow(ctx, SaveParams{FolderID: folder.ID, Document: []byte(doc)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetOn(ctx, res.Flow.ID, true); err != nil {
		t.Fatal(err)
	}
	execID, err := svc.Start(ctx, res.Flow.ID, map[string]any{"run": dialect}, StartOptions{})
	if err != nil {
		t.Fatal(err)
	}

	first, stderr := run.Start(t)
	select {
	case <-fx.blocked:
	case <-time.After(2 * time.Minute):
		first.Process.Kill()
		first.Wait()
		t.Fatalf("the execution never reached the blocking task; child said: %s", stderr.String())
	}
	crashtest.Kill(t, first)
	if e, _ := st.FlowExecution(ctx, execID); e.Status != StatusRunning {
		t.Fatalf("after the kill the execution is %s; want running", e.Status)
	}
	steps, err := st.FlowSteps(ctx, execID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range steps {
		names = append(names, s.Name)
	}
	if got := fmt.Sprint(names); got != "[prepare log first]" {
		t.Errorf("journal after the kill: %s; want [prepare log first] (mark and spawn are written with slow)", got)
	}
	spawned, err := st.FlowExecutionByParent(ctx, execID, "/do/4/spawn")
	if err != nil {
		t.Fatalf("the helper's execution after the kill: %v", err)
	}

	second, stderr := run.Start(t)
	defer func() { second.Process.Kill(); second.Wait() }()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		e, err := st.FlowExecution(ctx, execID)
		if err != nil {
			t.Fatal(err)
		}
		if final(e.Status) {
			if e.Status != StatusSucceeded {
				t.Fatalf("execution ended %s: %s", e.Status, e.Error)
			}
			if e.Attempts != 2 || e.Generation != 2 {
				t.Errorf("attempts %d, generation %d; want 2 and 2", e.Attempts, e.Generation)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the execution did not complete after the restart (status %s); child said: %s", e.Status, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	rows, err := svc.TableRows(ctx, mustTable(t, svc, folder.ID, "Effects"), catalog.Query{})
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("rows=%d first=%d block=%d loop=%d last=%d", len(rows), fx.count("/first"), fx.count("/block"), fx.count("/loop"), fx.count("/last"))
	if want := "rows=1 first=1 block=2 loop=3 last=1"; got != want {
		t.Errorf("side effects: %s; want %s", got, want)
	}
	h, err := svc.Execution(ctx, execID)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Steps) != 11 { // prepare, log, first, mark, spawn, slow, each×3, loop, last
		t.Errorf("%d steps in the history; want 11", len(h.Steps))
	}
	if len(h.Children) != 1 || h.Children[0].ID != spawned.ID {
		t.Errorf("helper executions %+v; want only %s, started before the kill", h.Children, spawned.ID)
	}
}

func mustTable(t *testing.T, svc *Service, folderID, name string) string {
	t.Helper()
	tb, err := svc.Table(context.Background(), folderID, name)
	if err != nil {
		t.Fatal(err)
	}
	return tb.ID
}
