package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
	"github.com/vigil-ispm/vigil/internal/queue"
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
		holdSlot(p) // the only slot, held by no execution
		execID, err := b.svc.Start(b.ctx, f.ID, map[string]any{"name": "cy"}, StartOptions{})
		if err != nil {
			t.Fatal(err)
		}
		r, err := st.FlowExecution(b.ctx, execID)
		if err != nil || r.Status != StatusRunning || !r.EndedAt.IsZero() || r.Steps != 0 {
			t.Fatalf("waiting execution = %+v, %v; want running, no step", r, err)
		}
		releaseHeldSlot(b.svc, p)
		awaitGreeting(t, b, execID, "hello cy", "after the slot freed")
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
		holdSlot(p)
		var ids []string
		for _, name := range []string{"di", "ana", "bo"} {
			execID, err := b.svc.Start(b.ctx, f.ID, map[string]any{"name": name}, StartOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, execID)
		}
		stopped := make(chan error, 1)
		go func() { stopped <- b.svc.StopLocal(b.ctx) }()
		waitFor(t, func() bool { return len(cq.inserted()) == len(ids) })
		for i, job := range cq.inserted() {
			if job.ExecutionID != ids[i] || job.Generation != 2 {
				t.Fatalf("jobs = %+v; want generation 2 of %v, in line order", cq.inserted(), ids)
			}
		}
		awaitGreeting(t, b, ids[0], "hello di", "after the queue ran it")
		awaitGreeting(t, b, ids[2], "hello bo", "after the queue ran it")
		releaseHeldSlot(b.svc, p)
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

// holdSlot takes a slot of p for no execution.
func holdSlot(p *localPool) {
	p.mu.Lock()
	p.running++
	p.mu.Unlock()
}

// heldLine sets up one slot running the hello flow in-process, taken, so
// that executions started wait in line.
func heldLine(t *testing.T, st *store.Store) (*testBundle, *Flow, *localPool) {
	t.Helper()
	b, f, p, _ := heldLineAt(t, st)
	return b, f, p
}

// heldLineAt is heldLine on a clock that runs ahead of time.Now by the
// offset it returns, which the test moves.
func heldLineAt(t *testing.T, st *store.Store) (*testBundle, *Flow, *localPool, *atomic.Int64) {
	t.Helper()
	offset := &atomic.Int64{}
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	b, _ := setupLocal(t, st, Config{Now: clock}, 1)
	f := b.saveOn(t, flowDoc("hello", "", helloTasks))
	p := b.svc.local.Load()
	holdSlot(p)
	return b, f, p, offset
}

// releaseHeldSlot gives back a slot holdSlot took, to the next in line.
func releaseHeldSlot(s *Service, p *localPool) {
	p.mu.Lock()
	p.running--
	p.mu.Unlock()
	s.dispatch(p)
}

// awaitGreeting waits for execution execID of the hello flow to succeed
// with the greeting want; what names the moment in a failure.
func awaitGreeting(t *testing.T, b *testBundle, execID, want, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Minute)
	defer cancel()
	e, err := b.svc.Wait(ctx, execID)
	if err != nil || e.Status != StatusSucceeded || e.Output.(map[string]any)["greeting"] != want {
		t.Fatalf("%s = %+v, %v", what, e, err)
	}
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

// saturate makes p's intake saturate the node, as two acceptances in
// flight on busy processors do, until the returned function ends it.
func saturate(p *localPool) func() {
	p.intake.inFlight.Add(2)
	p.intake.saturatedUntil.Store(time.Now().Add(time.Hour).UnixNano())
	return func() {
		p.intake.saturatedUntil.Store(0)
		p.intake.inFlight.Add(-2)
	}
}

// While the intake saturates the node, an asynchronous invocation's
// execution waits in line, claimed, and one someone waits for takes the
// free slot before it; once the intake lets go, it runs here.
func TestLocalBackgroundWaitsForTheIntake(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b, cq := setupLocal(t, st, Config{}, 1)
		f := b.saveOn(t, flowDoc("hello", "", helloTasks))
		p := b.svc.local.Load()
		release := saturate(p)
		inv := b.svc.Invoke()
		bgID := "exe_background"
		if err := inv.Start(b.ctx, invoke.StartParams{FlowID: f.ID, ExecutionID: bgID, Input: map[string]any{"name": "bg"}}); err != nil {
			t.Fatal(err)
		}
		urgent := b.run(t, f.ID, map[string]any{"name": "fg"}, StartOptions{})
		if urgent.Status != StatusSucceeded {
			t.Fatalf("urgent run = %+v", urgent)
		}
		r, err := st.FlowExecution(b.ctx, bgID)
		if err != nil || r.Status != StatusRunning || r.Steps != 0 || !r.EndedAt.IsZero() {
			t.Fatalf("background execution while the intake is busy = %+v, %v; want claimed, not started", r, err)
		}
		release()
		b.svc.dispatch(p) // as the next acceptance's end would
		awaitGreeting(t, b, bgID, "hello bg", "background execution after the intake")
		if jobs := cq.inserted(); len(jobs) != 0 {
			t.Errorf("jobs = %+v; want none", jobs)
		}
	})
}

// A background execution waits for the intake at most half a lease.
func TestLocalBackgroundWaitIsBounded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b, _ := setupLocal(t, st, Config{Lease: 2 * time.Second}, 1)
		f := b.saveOn(t, flowDoc("hello", "", helloTasks))
		p := b.svc.local.Load()
		defer saturate(p)()
		execID := "exe_bounded"
		if err := b.svc.Invoke().Start(b.ctx, invoke.StartParams{FlowID: f.ID, ExecutionID: execID, Input: map[string]any{"name": "ev"}}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Minute)
		defer cancel()
		e, err := b.svc.Wait(ctx, execID)
		if err != nil || e.Status != StatusSucceeded {
			t.Fatalf("background execution under a busy intake = %+v, %v", e, err)
		}
	})
}

// The line's leases are renewed together before they run out, except
// those of executions cancelled meanwhile.
func TestLocalLineLeasesAreRenewed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b, f, p, offset := heldLineAt(t, st)
		var ids []string
		for i := range 3 {
			id, err := b.svc.Start(b.ctx, f.ID, map[string]any{"name": fmt.Sprint(i)}, StartOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		if err := b.svc.Cancel(b.ctx, ids[2]); err != nil {
			t.Fatal(err)
		}
		before := make([]*store.FlowExecution, len(ids))
		for i, id := range ids {
			before[i], _ = st.FlowExecution(b.ctx, id)
		}
		// Two thirds of a lease later, the leases would end within half
		// of one.
		offset.Store(int64(2 * b.svc.cfg.Lease / 3))
		b.svc.renewLine(p)
		for i, id := range ids[:2] {
			r, err := st.FlowExecution(b.ctx, id)
			if err != nil || !r.LeaseUntil.After(before[i].LeaseUntil) {
				t.Errorf("lease of %s = %v, before %v (%v); want renewed", id, r.LeaseUntil, before[i].LeaseUntil, err)
			}
		}
		if r, err := st.FlowExecution(b.ctx, ids[2]); err != nil || r.Status != StatusCancelled || !r.LeaseUntil.IsZero() {
			t.Errorf("cancelled execution = %+v, %v; want its lease left alone", r, err)
		}
		offset.Store(0)
		releaseHeldSlot(b.svc, p)
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Minute)
		defer cancel()
		for _, id := range ids[:2] {
			if e, err := b.svc.Wait(ctx, id); err != nil || e.Status != StatusSucceeded || e.Attempts != 1 {
				t.Errorf("%s after the slot freed = %+v, %v", id, e, err)
			}
		}
	})
}

// The intake saturates the node only with acceptances overlapping while
// the processors are all taken, and lets go once neither holds.
func TestIntakeGauge(t *testing.T) {
	saturated := true
	g := &intakeGauge{saturated: func() bool { return saturated }}
	now := time.Now()
	g.begin(now)
	if _, busy := g.busy(now); busy {
		t.Error("one acceptance at a time saturates the node")
	}
	g.begin(now.Add(2 * intakeSample))
	if _, busy := g.busy(now.Add(2 * intakeSample)); !busy {
		t.Error("two acceptances in flight on busy processors do not saturate the node")
	}
	g.end()
	g.end()
	later := now.Add(2*intakeSample + intakeQuiet)
	if _, busy := g.busy(later); busy {
		t.Error("the intake still saturates the node after it went quiet")
	}
	saturated = false
	g.begin(later.Add(saturatedFor))
	g.begin(later.Add(saturatedFor + 2*intakeSample))
	if _, busy := g.busy(later.Add(saturatedFor + 2*intakeSample)); busy {
		t.Error("overlapping acceptances on idle processors saturate the node")
	}
	// A sample on busy processors never shortens a longer window.
	long := &intakeGauge{saturated: func() bool { return true }}
	long.saturatedUntil.Store(now.Add(time.Hour).UnixNano())
	long.inFlight.Add(2)
	long.begin(now)
	if _, busy := long.busy(now.Add(time.Minute)); !busy {
		t.Error("a sample cut the window the node is saturated in short")
	}
}

// Deep in line an execution keeps its input sealed only, which its run
// opens, and its start does not read the input back; nearer the front,
// opened only. Either way it keeps the subject of its input.
func TestLocalDeepLineKeepsInputSealed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b, f, p := heldLine(t, st)
		var ids []string
		for i := range localKeepFactor + 2 {
			id, err := b.svc.Start(b.ctx, f.ID, map[string]any{"name": fmt.Sprint("n", i),
				"eventData": map[string]any{"id": fmt.Sprint("iss_", i), "title": "Stale admin"}}, StartOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		p.mu.Lock()
		light := 0
		for _, r := range p.urgent.runs[p.urgent.head:] {
			if r.light {
				light++
			}
			if opened, sealed := r.input != nil, r.e.InputSealed != nil; opened == r.light || sealed != r.light {
				t.Errorf("run %s (light %v) keeps its input opened %v, sealed %v", r.e.ID, r.light, opened, sealed)
			}
		}
		p.mu.Unlock()
		if light != 2 {
			t.Fatalf("%d light runs in line; want 2", light)
		}
		releaseHeldSlot(b.svc, p)
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Minute)
		defer cancel()
		for i, id := range ids {
			e, err := b.svc.Wait(ctx, id)
			if err != nil || e.Status != StatusSucceeded || e.Output.(map[string]any)["greeting"] != fmt.Sprint("hello n", i) {
				t.Fatalf("%s = %+v, %v", id, e, err)
			}
			r, err := st.FlowExecution(ctx, id)
			if want := (store.Subject{IssueID: fmt.Sprint("iss_", i), Title: "Stale admin"}); err != nil || r.Subject != want {
				t.Errorf("%s: subject %+v, %v; want %+v", id, r.Subject, err, want)
			}
		}
	})
}

// A start deep in line keeps the subject of an input given as JSON text,
// and of one with invalid UTF-8, as the value read back has it.
func TestLocalDeepLineSubject(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b, f, p := heldLine(t, st)
		defer releaseHeldSlot(b.svc, p)
		for i := range localKeepFactor {
			if _, err := b.svc.Start(b.ctx, f.ID, map[string]any{"name": fmt.Sprint("n", i)}, StartOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct {
			name  string
			input any
			want  store.Subject
		}{
			{"JSON text", json.RawMessage(`{"name":"x","eventData":{"id":"iss_1","title":"Stale admin"}}`),
				store.Subject{IssueID: "iss_1", Title: "Stale admin"}},
			{"invalid UTF-8", map[string]any{"name": "x", "eventData": map[string]any{"id": "iss_2", "title": "bad\xff"}},
				store.Subject{IssueID: "iss_2", Title: "bad\uFFFD"}},
		} {
			id, err := b.svc.Start(b.ctx, f.ID, c.input, StartOptions{})
			if err != nil {
				t.Fatal(err)
			}
			r, err := st.FlowExecution(b.ctx, id)
			if err != nil || r.Subject != c.want {
				t.Errorf("%s: subject %+v, %v; want %+v", c.name, r.Subject, err, c.want)
			}
		}
	})
}

// An execution cancelled while it waits in line never starts: the next in
// line runs in its place.
func TestLocalCancelledInLineNeverStarts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b, f, p := heldLine(t, st)
		var ids []string
		for _, name := range []string{"first", "second"} {
			id, err := b.svc.Start(b.ctx, f.ID, map[string]any{"name": name}, StartOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		if err := b.svc.Cancel(b.ctx, ids[0]); err != nil {
			t.Fatal(err)
		}
		ran := p.ran.Load()
		releaseHeldSlot(b.svc, p)
		awaitGreeting(t, b, ids[1], "hello second", "the next in line")
		if n := p.ran.Load() - ran; n != 1 {
			t.Errorf("%d runs started after the cancel, want 1: the cancelled execution started", n)
		}
		if r, err := st.FlowExecution(b.ctx, ids[0]); err != nil || r.Status != StatusCancelled || r.Steps != 0 {
			t.Errorf("cancelled execution = %+v, %v", r, err)
		}
	})
}

// TestRenewLineSkipsWhatItDidNotRenew cancels one execution waiting in
// line and queues another anew, both behind this node's back (another
// node's cancel, unheard; recovery), then renews the line: neither was
// renewed, so neither may run from the line.
func TestRenewLineSkipsWhatItDidNotRenew(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b, f, p, offset := heldLineAt(t, st)
		cancelled, err := b.svc.Start(b.ctx, f.ID, map[string]any{"name": "a"}, StartOptions{})
		if err != nil {
			t.Fatal(err)
		}
		requeued, err := b.svc.Start(b.ctx, f.ID, map[string]any{"name": "b"}, StartOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := st.CancelFlowExecution(b.ctx, cancelled, b.svc.now(), 0); err != nil || !ok {
			t.Fatalf("cancel: %v, %v", ok, err)
		}
		if ok, err := b.svc.requeue(b.ctx, requeued, 1); err != nil || !ok {
			t.Fatalf("queue anew: %v, %v", ok, err)
		}
		offset.Store(int64(2 * b.svc.cfg.Lease / 3))
		b.svc.renewLine(p)
		releaseHeldSlot(b.svc, p)
		waitFor(t, func() bool {
			p.mu.Lock()
			defer p.mu.Unlock()
			return p.urgent.len()+p.background.len() == 0 && p.running == 0
		})
		if n := p.ran.Load(); n != 0 {
			t.Errorf("%d executions ran from the line after they were cancelled or queued anew elsewhere", n)
		}
	})
}

// TestPanickingTaskIsRetriedNotFatal runs flows whose task panics, in the
// node's pool. The process goes on. A panic on the run's goroutine is
// retried through the queue, as after an error, until the attempts run
// out and the execution ends abandoned; one in a fork's branch is that
// branch's error, and the fork's fault ends the execution.
func TestPanickingTaskIsRetriedNotFatal(t *testing.T) {
	cat := catalog.New()
	cat.MustRegister("test.boom", catalog.Function{Run: func(context.Context, map[string]any, *engine.CallEnv) (any, error) {
		panic("a function met what it did not expect (test)")
	}})
	cases := []struct{ name, tasks, want string }{
		{"inline", "do:\n  - b: {call: test.boom}\n", "Execution abandoned"},
		{"fork", "do:\n  - f:\n      fork:\n        branches:\n          - one: {set: {a: 1}}\n" +
			"          - two: {call: test.boom}\n", "a task panicked"},
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b, _ := setupLocal(t, st, Config{Catalog: cat, MaxAttempts: 2}, 1)
		for _, c := range cases {
			f := b.saveOn(t, flowDoc("boom-"+c.name, "", c.tasks))
			e := b.run(t, f.ID, map[string]any{}, StartOptions{})
			if e.Status != StatusFaulted || e.Error == nil || !strings.Contains(e.Error.Title+" "+e.Error.Detail, c.want) {
				t.Errorf("%s: the execution ended %s (%+v), want faulted: %s", c.name, e.Status, e.Error, c.want)
			}
		}
	})
}

// failingQueue refuses every job while fail is set.
type failingQueue struct {
	JobInserter
	fail atomic.Bool
}

func (q *failingQueue) InsertTx(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	if q.fail.Load() {
		return nil, errors.New("the queue refuses jobs (test)")
	}
	return q.JobInserter.InsertTx(ctx, tx, args, opts)
}

// TestCutShortRunStaysRecoverable cuts short a run waiting on an HTTP
// call, with the queue refusing the job that would queue it anew: in the
// node's pool (the pool stops) and on its job's last attempt (the queue
// stops). Either way the execution stays claimed, where the next start's
// recovery finds it, not pending without a job or a lease, where nothing
// does.
func TestCutShortRunStaysRecoverable(t *testing.T) {
	for _, local := range []bool{true, false} {
		name := map[bool]string{true: "pool", false: "last attempt"}[local]
		t.Run(name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) {
				var calls atomic.Int32
				done := make(chan struct{})
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					calls.Add(1)
					select {
					case <-r.Context().Done():
					case <-done: // the run of the new generation, at the test's end
					}
				}))
				defer srv.Close()
				defer close(done)
				b := setup(t, st, Config{MaxAttempts: 1})
				q := b.svc.queue.(*queue.Queue)
				fq := &failingQueue{JobInserter: q}
				b.svc.SetQueue(fq)
				if local {
					b.svc.RunLocally(1)
				}
				f := b.saveOn(t, flowDoc("slow", "", "do:\n  - c: {call: http, with: {method: get, endpoint: '"+srv.URL+"/x'}}\n"))
				id, err := b.svc.Start(b.ctx, f.ID, map[string]any{}, StartOptions{})
				if err != nil {
					t.Fatal(err)
				}
				waitFor(t, func() bool { return calls.Load() > 0 })
				fq.fail.Store(true)
				stopped, cancel := context.WithCancel(b.ctx)
				cancel()
				if local {
					if err := b.svc.StopLocal(stopped); err != nil {
						t.Fatal(err)
					}
					waitFor(t, func() bool { return b.svc.LocalRunning() == 0 })
				} else {
					_ = q.Stop(stopped) // cancels the running job, and returns once it ended
				}
				fq.fail.Store(false)
				wantQueuedAnewAtStart(t, b, id)
			})
		})
	}
}

// TestEndedRunLeavesANewerRunsEntry ends a run while a run of a newer
// generation of its execution is registered on the same node (recovery
// queued it anew after the first lost its lease): the newer run's entry,
// which a cancel on this node stops, stays.
func TestEndedRunLeavesANewerRunsEntry(t *testing.T) {
	st := storetest.SQLite(t)
	release := make(chan struct{})
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		<-release
	}))
	defer srv.Close()
	b, _ := setupLocal(t, st, Config{}, 1)
	f := b.saveOn(t, flowDoc("slow", "", "do:\n  - c: {call: http, with: {method: get, endpoint: '"+srv.URL+"/x'}}\n"))
	id, err := b.svc.Start(b.ctx, f.ID, map[string]any{}, StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return calls.Load() > 0 })
	newer := &runningHere{stop: func(error) {}}
	b.svc.mu.Lock()
	b.svc.running[id] = newer
	b.svc.mu.Unlock()
	close(release)
	waitFor(t, func() bool { return b.svc.LocalRunning() == 0 })
	b.svc.mu.Lock()
	got := b.svc.running[id]
	b.svc.mu.Unlock()
	if got != newer {
		t.Error("the run that ended removed the entry of the newer run: a cancel on this node would not stop it")
	}
}

// wantQueuedAnewAtStart runs the recovery of a start on b's database and
// wants execution id, cut short in its first generation, queued anew. Where
// b's queue still runs, it may already have started the new generation (on
// PostgreSQL River hears of the job's insert at once): running in
// generation 2 is queued anew too.
func wantQueuedAnewAtStart(t *testing.T, b *testBundle, id string) {
	t.Helper()
	n, err := b.svc.RecoverAtStart(b.ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	e, err := b.st.FlowExecution(b.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 || (e.Status != StatusPending && e.Status != StatusRunning) || e.Generation != 2 {
		t.Errorf("recovery at the next start queued %d executions; the cut-short one is %s in generation %d, want queued anew (pending, or running, in generation 2)",
			n, e.Status, e.Generation)
	}
}
