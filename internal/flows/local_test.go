package flows

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/vigil-ispm/vigil/internal/flows/invoke"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// countingQueue records the execution jobs inserted through it.
type countingQueue struct {
	JobInserter
	mu   sync.Mutex
	jobs []runArgs
}

func (q *countingQueue) InsertTx(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	if a, ok := args.(runArgs); ok {
		q.mu.Lock()
		q.jobs = append(q.jobs, a)
		q.mu.Unlock()
	}
	return q.JobInserter.InsertTx(ctx, tx, args, opts)
}

func (q *countingQueue) inserted() []runArgs {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]runArgs(nil), q.jobs...)
}

// setupLocal is setup with a pool of n local workers and a queue that
// counts the execution jobs inserted. The queue works its jobs only when
// work is set.
func setupLocal(t *testing.T, st *store.Store, cfg Config, n int) (*testBundle, *countingQueue) {
	t.Helper()
	b := setup(t, st, cfg)
	cq := &countingQueue{JobInserter: b.svc.queue}
	b.svc.SetQueue(cq)
	b.svc.RunLocally(n)
	t.Cleanup(func() { b.svc.StopLocal(context.Background()) })
	return b, cq
}

func TestLocalRunHasNoJob(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b, cq := setupLocal(t, st, Config{}, 4)
		f := b.saveOn(t, flowDoc("hello", "", helloTasks))
		for i := range 3 {
			e := b.run(t, f.ID, map[string]any{"name": "bob"}, StartOptions{})
			if e.Status != StatusSucceeded || e.Output.(map[string]any)["greeting"] != "hello bob" {
				t.Fatalf("run %d = %+v", i, e)
			}
			h, err := b.svc.Execution(b.ctx, e.ID)
			if err != nil {
				t.Fatal(err)
			}
			if x := h.Execution; x.Attempts != 1 || x.StartedAt == nil || x.EndedAt == nil || x.Steps != 1 || len(h.Steps) != 1 {
				t.Errorf("history = %+v, steps %+v", x, h.Steps)
			}
		}
		if jobs := cq.inserted(); len(jobs) != 0 {
			t.Errorf("jobs inserted for executions run locally: %+v", jobs)
		}
		if n, err := b.svc.Backlog(b.ctx, f.ID); err != nil || n != 0 {
			t.Errorf("backlog = %d, %v; want 0", n, err)
		}
	})
}

// The invoke endpoint's wait is answered by the end this node recorded,
// with the output, and the same as the row says.
func TestLocalWaitIsWokenWithTheEnd(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b, _ := setupLocal(t, st, Config{}, 4)
		f := b.saveOn(t, flowDoc("hello", "", helloTasks))
		execID, err := b.svc.Start(b.ctx, f.ID, map[string]any{"name": "ann"}, StartOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Minute)
		defer cancel()
		out, err := b.svc.Invoke().Wait(ctx, execID)
		if err != nil || !out.Done || out.Status != StatusSucceeded || out.Output.(map[string]any)["greeting"] != "hello ann" {
			t.Fatalf("wait = %+v, %v", out, err)
		}
		e, err := b.svc.Wait(ctx, execID)
		if err != nil || e.Status != StatusSucceeded || e.Output.(map[string]any)["greeting"] != "hello ann" {
			t.Fatalf("row = %+v, %v", e, err)
		}
	})
}

// With every slot and place in line taken, an execution goes to the
// queue, which runs it.
func TestLocalOverflowGoesToQueue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b, cq := setupLocal(t, st, Config{}, 1)
		b.svc.local.Load().maxWaiting = 0
		f := b.saveOn(t, flowDoc("hello", "", helloTasks))
		if !b.svc.acquire() {
			t.Fatal("the pool's only slot is taken before any run")
		}
		e := b.run(t, f.ID, map[string]any{"name": "bob"}, StartOptions{})
		b.svc.releaseSlot()
		if e.Status != StatusSucceeded {
			t.Fatalf("overflow run = %+v", e)
		}
		if jobs := cq.inserted(); len(jobs) != 1 || jobs[0].ExecutionID != e.ID || jobs[0].Generation != 1 {
			t.Errorf("jobs = %+v; want one for %s", jobs, e.ID)
		}
		e = b.run(t, f.ID, map[string]any{"name": "bob"}, StartOptions{})
		if e.Status != StatusSucceeded || len(cq.inserted()) != 1 {
			t.Errorf("run with a free slot = %+v, jobs %+v", e, cq.inserted())
		}
	})
}

// With every slot taken, an execution is stored claimed and waits in the
// pool's line; it runs here once a slot is free, without a job.
func TestLocalLineWaitsForASlot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b, cq := setupLocal(t, st, Config{}, 1)
		f := b.saveOn(t, flowDoc("hello", "", helloTasks))
		p := b.svc.local.Load()
		p.slots <- struct{}{} // the only slot, held by no execution
		execID, err := b.svc.Start(b.ctx, f.ID, map[string]any{"name": "cy"}, StartOptions{})
		if err != nil {
			t.Fatal(err)
		}
		r, err := st.FlowExecution(b.ctx, execID)
		if err != nil || r.Status != StatusRunning || !r.EndedAt.IsZero() || r.Steps != 0 {
			t.Fatalf("waiting execution = %+v, %v; want running, no step", r, err)
		}
		<-p.slots
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Minute)
		defer cancel()
		e, err := b.svc.Wait(ctx, execID)
		if err != nil || e.Status != StatusSucceeded || e.Output.(map[string]any)["greeting"] != "hello cy" {
			t.Fatalf("after the slot freed = %+v, %v", e, err)
		}
		if jobs := cq.inserted(); len(jobs) != 0 {
			t.Errorf("jobs = %+v; want none", jobs)
		}
	})
}

// Stopping the pool queues the executions waiting for a slot at once, in a
// new generation, and the queue runs them.
func TestStopLocalQueuesWaiting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b, cq := setupLocal(t, st, Config{}, 1)
		f := b.saveOn(t, flowDoc("hello", "", helloTasks))
		p := b.svc.local.Load()
		p.slots <- struct{}{}
		execID, err := b.svc.Start(b.ctx, f.ID, map[string]any{"name": "di"}, StartOptions{})
		if err != nil {
			t.Fatal(err)
		}
		stopped := make(chan error, 1)
		go func() { stopped <- b.svc.StopLocal(b.ctx) }()
		waitFor(t, func() bool { return len(cq.inserted()) > 0 })
		if jobs := cq.inserted(); len(jobs) != 1 || jobs[0].ExecutionID != execID || jobs[0].Generation != 2 {
			t.Fatalf("jobs = %+v; want generation 2 of %s", jobs, execID)
		}
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Minute)
		defer cancel()
		e, err := b.svc.Wait(ctx, execID)
		if err != nil || e.Status != StatusSucceeded || e.Output.(map[string]any)["greeting"] != "hello di" {
			t.Fatalf("after the queue ran it = %+v, %v", e, err)
		}
		<-p.slots
		if err := <-stopped; err != nil {
			t.Fatal(err)
		}
	})
}

// Helper flows started without waiting run locally too.
func TestLocalHelperFlows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b, cq := setupLocal(t, st, Config{}, 4)
		b.saveOn(t, flowDoc("double", "", `do:
  - twice: {set: {n: '${ .n * 2 }'}}
`))
		parent := b.saveOn(t, flowDoc("parent", "", `do:
  - spawn:
      run:
        workflow: {namespace: test, name: double, version: latest, input: {n: '${ .n }'}}
        await: false
`))
		e := b.run(t, parent.ID, map[string]any{"n": 4}, StartOptions{})
		if e.Status != StatusSucceeded {
			t.Fatalf("parent = %+v", e)
		}
		h, err := b.svc.Execution(b.ctx, e.ID)
		if err != nil || len(h.Children) != 1 {
			t.Fatalf("children = %+v, %v", h, err)
		}
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Minute)
		defer cancel()
		child, err := b.svc.Wait(ctx, h.Children[0].ID)
		if err != nil || child.Status != StatusSucceeded || child.Output.(map[string]any)["n"] != 8 {
			t.Fatalf("child = %+v, %v", child, err)
		}
		if jobs := cq.inserted(); len(jobs) != 0 {
			t.Errorf("jobs = %+v; want none", jobs)
		}
	})
}

// Stopping the pool while an execution runs hands it to the queue in a
// new generation, and the queue finishes it from its journal.
func TestStopLocalQueuesRunningAgain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		release := make(chan struct{})
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if hits.Add(1) == 1 {
				select {
				case <-release:
				case <-r.Context().Done():
				}
			}
		}))
		defer srv.Close()
		defer close(release)
		b, cq := setupLocal(t, st, Config{}, 2)
		f := b.saveOn(t, flowDoc("slow", "", `do:
  - first: {set: {a: 1}}
  - block: {call: http, with: {method: get, endpoint: '`+srv.URL+`/block'}}
  - after: {set: {done: true}}
`))
		execID, err := b.svc.Start(b.ctx, f.ID, map[string]any{}, StartOptions{})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return hits.Load() > 0 })
		stopped, cancel := context.WithCancel(b.ctx)
		cancel()
		if err := b.svc.StopLocal(stopped); err != nil {
			t.Fatal(err)
		}
		if jobs := cq.inserted(); len(jobs) != 1 || jobs[0].ExecutionID != execID || jobs[0].Generation != 2 {
			t.Fatalf("jobs = %+v; want generation 2 of %s", jobs, execID)
		}
		ctx, cancelWait := context.WithTimeout(b.ctx, 2*time.Minute)
		defer cancelWait()
		e, err := b.svc.Wait(ctx, execID)
		if err != nil || e.Status != StatusSucceeded || e.Output.(map[string]any)["done"] != true {
			t.Fatalf("after the queue ran it = %+v, %v", e, err)
		}
		h, err := b.svc.Execution(b.ctx, execID)
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Steps) != 3 || h.Steps[0].Name != "first" || h.Execution.Attempts != 2 {
			t.Errorf("history = %+v, steps %+v", h.Execution, h.Steps)
		}
		// The pool takes nothing after it stopped.
		if b.svc.acquire() {
			t.Error("a stopped pool gave a slot")
		}
	})
}

// waitFor waits until cond holds, failing after a generous safety net.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 2 minutes")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// A synchronous invocation's execution ends here and its caller gets the
// output handed over, the same as the row records; a flow turned off on
// this node is refused at once by the next invocation, although its row
// was just read for one.
func TestInvokeStartWaitAndOff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b, cq := setupLocal(t, st, Config{}, 4)
		f := b.saveOn(t, flowDoc("hello", "", helloTasks))
		inv := b.svc.Invoke()
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Minute)
		defer cancel()
		for i, name := range []string{"eve", "fay"} {
			tg, err := inv.InvokeTarget(ctx, f.ID)
			if err != nil || !tg.On {
				t.Fatalf("target %d = %+v, %v; want on", i, tg, err)
			}
			execID := "exe_invoke" + name
			if err := inv.Start(ctx, invoke.StartParams{FlowID: f.ID, ExecutionID: execID, Input: map[string]any{"name": name}, Wait: true}); err != nil {
				t.Fatal(err)
			}
			out, err := inv.Wait(ctx, execID)
			if err != nil || !out.Done || out.Status != StatusSucceeded || out.Output.(map[string]any)["greeting"] != "hello "+name {
				t.Fatalf("wait %d = %+v, %v", i, out, err)
			}
			e, err := b.svc.Wait(ctx, execID)
			if err != nil || e.Status != StatusSucceeded || e.Output.(map[string]any)["greeting"] != "hello "+name {
				t.Fatalf("row %d = %+v, %v", i, e, err)
			}
		}
		if jobs := cq.inserted(); len(jobs) != 0 {
			t.Errorf("jobs = %+v; want none", jobs)
		}
		b.svc.mu.Lock()
		early := len(b.svc.early)
		b.svc.mu.Unlock()
		if early != 0 {
			t.Errorf("%d waiters left subscribed after their waits", early)
		}

		if _, err := b.svc.SetOn(ctx, f.ID, false); err != nil {
			t.Fatal(err)
		}
		if tg, err := inv.InvokeTarget(ctx, f.ID); err != nil || tg.On {
			t.Errorf("target after turning off = %+v, %v; want off", tg, err)
		}
		err := inv.Start(ctx, invoke.StartParams{FlowID: f.ID, ExecutionID: "exe_invokeoff", Input: map[string]any{}, Wait: true})
		if !errors.Is(err, ErrFlowOff) {
			t.Errorf("start after turning off: %v; want ErrFlowOff", err)
		}
		b.svc.mu.Lock()
		early = len(b.svc.early) + len(b.svc.waiters)
		b.svc.mu.Unlock()
		if early != 0 {
			t.Errorf("%d waiters left subscribed for an execution that did not start", early)
		}
	})
}
