package hooks

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/queue"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// setupOneDelivery publishes one event to one integration and returns the
// delivery's job, not yet run.
func setupOneDelivery(t *testing.T, st *store.Store) (*bundle, *receiver, []DeliveryArgs) {
	t.Helper()
	rc := newReceiver(t, nil)
	b := setup(t, st)
	b.addHook(t, "crashy", rc.URL+"/hook")
	b.publish(t, sampleEvent())
	jobs := b.jobs.take()
	if len(jobs) != 1 {
		t.Fatalf("%d jobs, want 1", len(jobs))
	}
	return b, rc, jobs
}

// TestRecoverAtStart checks that a server alone on its database queues
// again, at start, a delivery whose worker died holding a lease that has
// not run out yet, instead of leaving it until the lease ends (25 s on
// SQLite after a crash); a server that may share the database leaves a
// live-looking lease alone, and Maintain takes it once it runs out.
func TestRecoverAtStart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		b, rc, jobs := setupOneDelivery(t, st)
		// The dead worker's claim: leased for the next 30 s.
		now := b.clock.Now()
		if _, err := st.ClaimHookDelivery(ctx, jobs[0].DeliveryID, jobs[0].Generation, now, now.Add(30*time.Second)); err != nil {
			t.Fatal(err)
		}
		if n, err := b.svc.RecoverAtStart(ctx, false); err != nil || n != 0 {
			t.Fatalf("RecoverAtStart(shared) with a live lease: %d, %v; want 0", n, err)
		}
		if n, err := b.svc.RecoverAtStart(ctx, true); err != nil || n != 1 {
			t.Fatalf("RecoverAtStart(exclusive): %d, %v; want the delivery queued again", n, err)
		}
		b.deliveredOnce(t, rc)
	})
}

// TestRecoverDeadNode checks, on PostgreSQL, that a delivery leased by a
// node that died is queued again as soon as the node's lock is gone, long
// before its lease runs out (the test's clock never reaches it), while a
// lease of a node that lives is left alone however often maintenance runs.
func TestRecoverDeadNode(t *testing.T) {
	ctx := context.Background()
	st := storetest.Postgres(t)
	b, rc, jobs := setupOneDelivery(t, st)
	lock, err := st.HoldNodeLock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := b.clock.Now()
	if _, err := st.ClaimHookDelivery(ctx, jobs[0].DeliveryID, jobs[0].Generation, now, now.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if n, err := b.svc.RecoverAtStart(ctx, false); err != nil || n != 0 {
			t.Fatalf("RecoverAtStart with the owner alive: %d, %v; want 0", n, err)
		}
		if _, n, err := b.svc.Maintain(ctx); err != nil || n != 0 {
			t.Fatalf("Maintain with the owner alive: %d, %v; want 0", n, err)
		}
	}
	lock.Release(ctx) // the node dies: its connection, and so its lock, goes
	requeued := 0
	for deadline := time.Now().Add(time.Minute); requeued == 0; time.Sleep(50 * time.Millisecond) {
		n, err := b.svc.RecoverAtStart(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		requeued += n
		if requeued == 0 && time.Now().After(deadline) {
			t.Fatal("a minute after its node died, the delivery was not queued again; want it queued before its lease ends")
		}
	}
	if requeued != 1 {
		t.Fatalf("queued %d deliveries again, want 1", requeued)
	}
	b.runJobs(t)
	if d := b.only(t); d.Status != "delivered" || len(rc.requests()) != 1 {
		t.Errorf("delivery status %q after %d requests; want delivered after 1", d.Status, len(rc.requests()))
	}
	if n, err := st.PruneLeaseOwners(ctx); err != nil || n != 1 {
		t.Errorf("PruneLeaseOwners: %d, %v; want the dead node's row removed", n, err)
	}
}

// TestRecoverAtStartJobTaken checks that a server alone on its database
// queues again, at start, a delivery whose River job the dead process had
// taken but whose worker died before leasing the delivery: its job stays
// marked running, so nothing else would run it, and it used to wait
// RecoverAfter (five minutes). A delivery whose job still waits to run is
// left to that job.
func TestRecoverAtStartJobTaken(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		rc := newReceiver(t, nil)
		b := setup(t, st)
		q, err := queue.New(st, queue.Config{})
		if err != nil {
			t.Fatal(err)
		}
		b.svc.SetQueue(q)
		b.addHook(t, "crashy", rc.URL+"/hook")
		b.publish(t, sampleEvent())
		d := b.only(t)
		if d.JobID == 0 {
			t.Fatal("the delivery records no River job")
		}
		for _, exclusive := range []bool{false, true} {
			if n, err := b.svc.RecoverAtStart(ctx, exclusive); err != nil || n != 0 {
				t.Fatalf("RecoverAtStart(%v) while the job waits: %d, %v; want 0", exclusive, n, err)
			}
		}
		// River takes the job; the process dies before the worker leases
		// the delivery.
		if _, err := st.DB().ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = 1 WHERE id = $1`, d.JobID); err != nil {
			t.Fatal(err)
		}
		if n, err := b.svc.RecoverAtStart(ctx, false); err != nil || n != 0 {
			t.Fatalf("RecoverAtStart(shared) with the job just taken: %d, %v; want 0 before RecoverAfter", n, err)
		}
		b.svc.SetQueue(b.jobs)
		if n, err := b.svc.RecoverAtStart(ctx, true); err != nil || n != 1 {
			t.Fatalf("RecoverAtStart(exclusive) with the job taken by the dead process: %d, %v; want the delivery queued again", n, err)
		}
		b.deliveredOnce(t, rc)
	})
}

// deliveredOnce runs the queued jobs and checks that the one delivery was
// made, in one request.
func (b *bundle) deliveredOnce(t *testing.T, rc *receiver) {
	t.Helper()
	b.runJobs(t)
	if got := len(rc.requests()); got != 1 {
		t.Errorf("the receiver got %d requests after the restart; want 1", got)
	}
	if d := b.only(t); d.Status != "delivered" {
		t.Errorf("delivery status %q, want delivered", d.Status)
	}
}
