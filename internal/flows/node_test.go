package flows

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/secret/secrettest"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestRecoverDeadNode checks, on PostgreSQL, that executions leased by a
// node that died (one it claimed from the queue, one it started
// in-process) are queued again as soon as the node's lock is gone, long
// before their leases run out (the test's clock never reaches them), and
// that a live node's executions are left alone.
func TestRecoverDeadNode(t *testing.T) {
	st := storetest.Postgres(t)
	now := time.Now().UTC()
	b := setup(t, st, Config{Now: func() time.Time { return now }})
	ctx := b.ctx
	f := b.saveOn(t, flowDoc("hello", "", helloTasks))
	lock, err := st.HoldNodeLock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	claimed, local := leasedExecutions(t, b, f.ID, now)
	for range 3 {
		if n, err := b.svc.Recover(ctx); err != nil || n != 0 {
			t.Fatalf("Recover with the owner alive = %d, %v; want 0", n, err)
		}
	}
	lock.Release(ctx) // the node dies: its connection, and so its lock, goes
	requeued := 0
	for deadline := time.Now().Add(time.Minute); requeued < 2; time.Sleep(50 * time.Millisecond) {
		n, err := b.svc.Recover(ctx)
		if err != nil {
			t.Fatal(err)
		}
		requeued += n
		if requeued < 2 && time.Now().After(deadline) {
			t.Fatalf("a minute after their node died, %d of 2 executions were queued again", requeued)
		}
	}
	for _, e := range []*store.FlowExecution{claimed, local} {
		got, err := b.svc.Wait(ctx, e.ID)
		if err != nil || got.Status != StatusSucceeded || got.Output.(map[string]any)["greeting"] != "hello bob" {
			t.Fatalf("recovered execution %s = %+v, %v", e.ID, got, err)
		}
	}
}

// TestRecoverAtStartExclusive checks that a server alone on its database
// (SQLite) queues again, at start, the executions the dead process held
// (one claimed from the queue, one started in-process), however long
// their leases have to run, while a server that may share its database
// leaves a lease that has not run out alone.
func TestRecoverAtStartExclusive(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		now := time.Now().UTC()
		b := setup(t, st, Config{Now: func() time.Time { return now }})
		ctx := b.ctx
		f := b.saveOn(t, flowDoc("hello", "", helloTasks))
		claimed, local := leasedExecutions(t, b, f.ID, now)
		if n, err := b.svc.RecoverAtStart(ctx, false); err != nil || n != 0 {
			t.Fatalf("RecoverAtStart(shared) with leases running = %d, %v; want 0", n, err)
		}
		if n, err := b.svc.RecoverAtStart(ctx, true); err != nil || n != 2 {
			t.Fatalf("RecoverAtStart(exclusive) = %d, %v; want both executions queued again", n, err)
		}
		for _, e := range []*store.FlowExecution{claimed, local} {
			got, err := b.svc.Wait(ctx, e.ID)
			if err != nil || got.Status != StatusSucceeded || got.Output.(map[string]any)["greeting"] != "hello bob" {
				t.Fatalf("recovered execution %s = %+v, %v", e.ID, got, err)
			}
		}
	})
}

// leasedExecutions stores two executions of flowID held by a worker for
// the next hour, as a process leaves them when it dies: one claimed from
// the queue, one started in-process.
func leasedExecutions(t *testing.T, b *testBundle, flowID string, now time.Time) (claimed, local *store.FlowExecution) {
	t.Helper()
	claimed = &store.FlowExecution{ID: "exe_claimed", FlowID: flowID, Version: 1, Status: StatusPending, CreatedAt: now, UpdatedAt: now}
	local = &store.FlowExecution{ID: "exe_local", FlowID: flowID, Version: 1, Status: StatusRunning, Attempts: 1,
		StartedAt: now, LeaseUntil: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now}
	for _, e := range []*store.FlowExecution{claimed, local} {
		e.InputSealed, _, _ = b.svc.sealInput(map[string]any{"name": "bob"}, e.ID)
		if err := b.st.CreateFlowExecution(b.ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := b.st.ClaimFlowExecution(b.ctx, claimed.ID, 1, now, now.Add(time.Hour)); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	return claimed, local
}

// deadLine stores n executions of flowID, with ids prefix and a number,
// as a dead process leaves its line: running, leased for an hour.
func deadLine(t testing.TB, st *store.Store, flowID, prefix string, n int, now time.Time) {
	t.Helper()
	err := st.InTx(context.Background(), func(tx *store.Tx) error {
		for i := range n {
			e := &store.FlowExecution{ID: fmt.Sprintf("%s%05d", prefix, i), FlowID: flowID, Version: 1, Status: StatusRunning,
				Attempts: 1, StartedAt: now, LeaseUntil: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now}
			if err := tx.CreateFlowExecution(context.Background(), e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRecoverAtStartEveryBatch checks that recovery queues again every
// execution a dead process held, more than one batch of them, as a node
// that died with a long line leaves them.
func TestRecoverAtStartEveryBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		now := time.Now().UTC()
		// As at a server's start, no worker takes the executions queued
		// again (none works this queue) before recovery is done: every
		// running execution it then finds is the dead process's.
		b := setup(t, st, Config{Now: func() time.Time { return now }, QueueName: "recovered"})
		f := b.saveOn(t, flowDoc("hello", "", helloTasks))
		want := recoverBatch + 1
		deadLine(t, st, f.ID, "exe_line", want, now)
		if n, err := b.svc.RecoverAtStart(b.ctx, true); err != nil || n != want {
			t.Fatalf("RecoverAtStart(exclusive) = %d, %v; want %d", n, err, want)
		}
	})
}

// TestCancelOnAnotherNode checks, on PostgreSQL, that a cancel made on one
// node reaches the node that holds the execution at once: one waiting in
// its line never starts, and one running stops mid-task. The running
// node's lease is an hour, so only the news of the cancel can stop it
// within the test.
func TestCancelOnAnotherNode(t *testing.T) {
	st := storetest.Postgres(t)
	blocked := make(chan struct{}, 1)
	left := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		blocked <- struct{}{}
		<-r.Context().Done()
		left <- struct{}{}
	}))
	defer srv.Close()
	b, _ := setupLocal(t, st, Config{Lease: time.Hour}, 1)
	ctx, stop := context.WithCancel(b.ctx)
	defer stop()
	if err := b.svc.FollowCancels(ctx); err != nil {
		t.Fatal(err)
	}
	other := New(st, secrettest.Box(t), Config{})
	p := b.svc.local.Load()

	f := b.saveOn(t, flowDoc("hello", "", helloTasks))
	holdSlot(p)
	var ids []string
	for _, name := range []string{"first", "second"} {
		id, err := b.svc.Start(ctx, f.ID, map[string]any{"name": name}, StartOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := other.Cancel(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, r := range p.urgent.runs[p.urgent.head:] {
			if r.e.ID == ids[0] {
				return r.cancelled
			}
		}
		return false
	})
	ran := p.ran.Load()
	releaseHeldSlot(b.svc, p)
	awaitGreeting(t, b, ids[1], "hello second", "the next in line")
	if n := p.ran.Load() - ran; n != 1 {
		t.Errorf("%d runs started after the cancel, want 1: the execution cancelled on the other node started", n)
	}

	slow := b.saveOn(t, flowDoc("slow", "", `do:
  - block: {call: http, with: {method: get, endpoint: '`+srv.URL+`/block'}}
  - after: {set: {done: true}}
`))
	id, err := b.svc.Start(ctx, slow.ID, map[string]any{}, StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	<-blocked
	if err := other.Cancel(ctx, id); err != nil {
		t.Fatal(err)
	}
	select {
	case <-left:
	case <-time.After(2 * time.Minute):
		t.Fatal("the execution cancelled on the other node still ran its task 2 minutes later")
	}
	waitFor(t, func() bool { return b.svc.LocalRunning() == 0 })
	if r, err := st.FlowExecution(ctx, id); err != nil || r.Status != StatusCancelled {
		t.Errorf("cancelled execution = %+v, %v", r, err)
	}
}

// TestCancelHeardBeforeTheRun: another node's notice of a cancel can
// arrive between an execution's insert and its run here, when it is in
// neither this node's line nor its running set; the run then stops before
// its first task.
func TestCancelHeardBeforeTheRun(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
		defer srv.Close()
		b, _ := setupLocal(t, st, Config{Lease: time.Hour}, 1)
		p := b.svc.local.Load()
		f := b.saveOn(t, flowDoc("call", "", `do:
  - call: {call: http, with: {method: get, endpoint: '`+srv.URL+`/hit'}}
`))
		execID := id.NewAt("exe", time.Now())
		b.svc.stopHere(execID) // the listener hears of the cancel first
		if _, err := b.svc.Start(b.ctx, f.ID, map[string]any{}, StartOptions{ExecutionID: execID}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return p.ran.Load() == 1 && b.svc.LocalRunning() == 0 })
		if n := hits.Load(); n != 0 {
			t.Errorf("the execution cancelled before it ran called its endpoint %d times", n)
		}
		if r, err := st.FlowExecution(b.ctx, execID); err != nil || r.Steps != 0 {
			t.Errorf("execution = %+v, %v; want no step run", r, err)
		}
	})
}
