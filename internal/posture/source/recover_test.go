package source

import (
	"errors"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/queue"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// abandonScan leaves the database as a node that died during a "scan all"
// leaves it: the job running, the scan running, its lease until leasedUntil.
func abandonScan(t *testing.T, b *testBundle, q *queue.Queue, scanID string, leasedUntil time.Time) int64 {
	t.Helper()
	ctx := t.Context()
	res, err := q.Insert(ctx, ScanArgs{Trigger: TriggerAPI}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The worker took the job, then recorded the scan.
	started := b.clock.Now().Add(-time.Minute)
	if _, err := b.st.DB().ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = $2 WHERE id = $1`,
		res.Job.ID, started.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := b.st.CreatePostureScan(ctx, &store.PostureScan{ID: scanID, Trigger: TriggerAPI, RequestedJSON: "[]",
		Status: ScanRunning, ResultJSON: "{}", StartedAt: started}); err != nil {
		t.Fatal(err)
	}
	if err := b.st.LeasePostureScan(ctx, scanID, res.Job.ID, leasedUntil); err != nil {
		t.Fatal(err)
	}
	return res.Job.ID
}

// insertOnlyQueue gives the service a queue that inserts jobs and works
// none, so that tests see the jobs recovery leaves.
func insertOnlyQueue(t *testing.T, b *testBundle) *queue.Queue {
	t.Helper()
	q, err := queue.New(b.st, queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	b.svc.SetQueue(q)
	return q
}

// TestScanResumedAfterCrash checks that a scan whose worker died is failed
// visibly, run again, and no longer answers the next "scan all" as a
// duplicate: before, the dead job stayed running and every later scan was
// skipped as its duplicate.
func TestScanResumedAfterCrash(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		ctx := t.Context()
		splitOrg(t, b, 10)
		q := newQueue(t, b)
		abandonScan(t, b, q, "scn_dead", b.clock.Now().Add(-time.Second))
		if res, err := q.Insert(ctx, ScanArgs{Trigger: TriggerAPI}, nil); err != nil || !res.UniqueSkippedAsDuplicate {
			t.Fatalf("a scan all while the dead job runs: %+v, %v; want a duplicate (the state the crash leaves)", res, err)
		}
		startQueue(t, q)
		// The periodic schedule job finds the dead scan.
		if _, err := q.Insert(ctx, ScheduleArgs{}, nil); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the dead scan failed and a new one done", func() bool {
			list, err := b.svc.Scans(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			dead, resumed := false, false
			for _, s := range list {
				dead = dead || s.ID == "scn_dead" && s.Status == ScanFailed && s.Error == errInterrupted
				resumed = resumed || s.ID != "scn_dead" && s.Trigger == TriggerAPI && s.Status == ScanOK
			}
			return dead && resumed
		})
		// River marks the resumed job completed shortly after its scan
		// ends; from then on a scan all is a new job.
		waitFor(t, "a scan all after the recovery to be a new job", func() bool {
			res, err := q.Insert(ctx, ScanArgs{Trigger: TriggerAPI}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return !res.UniqueSkippedAsDuplicate
		})
	})
}

// TestRecoverExclusive checks that a server alone on its database (SQLite)
// recovers at start a job's scan whose lease has not yet run out, and
// that without that knowledge the live-looking lease is respected.
func TestRecoverExclusive(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		ctx := t.Context()
		q := insertOnlyQueue(t, b)
		abandonScan(t, b, q, "scn_dead", b.clock.Now().Add(time.Minute))
		if err := b.st.CreatePostureScan(ctx, &store.PostureScan{ID: "scn_cli", Trigger: TriggerCLI, RequestedJSON: "[]",
			Status: ScanRunning, ResultJSON: "{}", StartedAt: b.clock.Now()}); err != nil {
			t.Fatal(err)
		}
		if err := b.st.LeasePostureScan(ctx, "scn_cli", 0, b.clock.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if n, err := b.svc.Recover(ctx, false); err != nil || n != 0 {
			t.Fatalf("Recover(shared) with live leases: %d, %v; want 0", n, err)
		}
		if n, err := b.svc.Recover(ctx, true); err != nil || n != 1 {
			t.Fatalf("Recover(exclusive): %d, %v; want the job's scan only", n, err)
		}
		for id, want := range map[string]string{"scn_dead": ScanFailed, "scn_cli": ScanRunning} {
			s, err := b.st.PostureScan(ctx, id)
			if err != nil || s.Status != want {
				t.Errorf("scan %s: %+v, %v; want %s", id, s, err, want)
			}
		}
		if res, err := q.Insert(ctx, ScanArgs{Trigger: TriggerAPI}, nil); err != nil || !res.UniqueSkippedAsDuplicate {
			t.Errorf("after recovery the scan queued again should be waiting: %+v, %v", res, err)
		}
	})
}

// TestOrphanedScanJobQueuedAgain checks that a scan job left running with
// no scan of its own — the process died after River handed it the job but
// before the scan was recorded, or after the scan ended but before River
// recorded the job completed — is queued again: before, it stood as the
// duplicate of every later "scan all" for hours, so that none ran.
func TestOrphanedScanJobQueuedAgain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		ctx := t.Context()
		q := insertOnlyQueue(t, b)
		res, err := q.Insert(ctx, ScanArgs{Sources: []string{"okta"}, Trigger: TriggerSchedule}, nil)
		if err != nil {
			t.Fatal(err)
		}
		dead := res.Job.ID
		// Taken by a worker a moment ago, by the service's clock.
		if _, err := st.DB().ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = $2 WHERE id = $1`,
			dead, b.clock.Now().Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
		if n, err := b.svc.Recover(ctx, false); err != nil || n != 0 {
			t.Fatalf("Recover(shared) with a job taken a second ago: %d, %v; want 0 (its worker may be alive)", n, err)
		}
		if st.Dialect() == store.Postgres {
			if _, err := st.DB().ExecContext(ctx, `UPDATE river_job SET attempted_at = $2 WHERE id = $1`,
				dead, b.clock.Now().Add(-3*b.svc.cfg.ScanLease)); err != nil {
				t.Fatal(err)
			}
			if n, err := b.svc.Recover(ctx, false); err != nil || n != 1 {
				t.Fatalf("Recover(shared) with a job taken long ago and no scan: %d, %v; want 1", n, err)
			}
		} else if n, err := b.svc.Recover(ctx, true); err != nil || n != 1 {
			t.Fatalf("Recover(exclusive): %d, %v; want the orphaned job", n, err)
		}
		var state string
		if err := st.DB().QueryRowContext(ctx, `SELECT state FROM river_job WHERE id = $1`, dead).Scan(&state); err != nil || state != "discarded" {
			t.Errorf("the dead job is %q, %v; want discarded", state, err)
		}
		// Queued again with its arguments: the same scan now waits.
		again, err := q.Insert(ctx, ScanArgs{Sources: []string{"okta"}, Trigger: TriggerSchedule}, nil)
		if err != nil || !again.UniqueSkippedAsDuplicate || again.Job.ID == dead {
			t.Errorf("a scan of the same sources after recovery: %+v, %v; want the duplicate of a new waiting job", again, err)
		}
		if n, err := b.svc.Recover(ctx, true); err != nil || n != 0 {
			t.Errorf("a second Recover: %d, %v; want 0", n, err)
		}
	})
}

// TestRecoverLeavesHandedBackJob checks, on PostgreSQL, that the recovery
// of a scan whose node died leaves alone the scan's job when it was
// already handed back (the dead node's jobs are, as soon as its lock
// goes): waiting to run, or running again in a new attempt, the job runs
// the scan anew. Before, the recovery discarded that live job and queued
// another, so that the scan ran twice at once, one of them under a job
// River no longer tracked.
func TestRecoverLeavesHandedBackJob(t *testing.T) {
	for _, again := range []struct{ name, state string }{{"waiting", "available"}, {"running anew", "running"}, {"done anew", "completed"}} {
		t.Run(again.name, func(t *testing.T) {
			st := storetest.Postgres(t)
			b := setup(t, st, nil)
			ctx := t.Context()
			q := insertOnlyQueue(t, b)
			job := abandonScan(t, b, q, "scn_dead", b.clock.Now().Add(-time.Second))
			if _, err := st.DB().ExecContext(ctx, `UPDATE river_job SET state = $2::text::river_job_state, attempt = 2, attempted_at = $3,
				finalized_at = CASE WHEN $2::text = 'completed' THEN $3::timestamptz END WHERE id = $1`, job, again.state, b.clock.Now()); err != nil {
				t.Fatal(err)
			}
			if n, err := b.svc.Recover(ctx, false); err != nil || n != 1 {
				t.Fatalf("Recover: %d, %v; want the dead scan failed", n, err)
			}
			if s, err := st.PostureScan(ctx, "scn_dead"); err != nil || s.Status != ScanFailed {
				t.Errorf("the dead scan: %+v, %v; want failed", s, err)
			}
			var state string
			var jobs int
			if err := st.DB().QueryRowContext(ctx, `SELECT state, (SELECT COUNT(*) FROM river_job WHERE kind = 'posture_scan') FROM river_job WHERE id = $1`,
				job).Scan(&state, &jobs); err != nil {
				t.Fatal(err)
			}
			if state != again.state || jobs != 1 {
				t.Errorf("the handed-back job is %s with %d scan jobs in all; want it left %s and no other job", state, jobs, again.state)
			}
		})
	}
}

// TestRecoverDeadNodeScan checks, on PostgreSQL, that the scan of a node
// that died is failed and queued again as soon as the node's lock is
// gone, long before its lease runs out (an hour here), and left alone
// while the node lives. Before, it waited out its lease.
func TestRecoverDeadNodeScan(t *testing.T) {
	st := storetest.Postgres(t)
	b := setup(t, st, nil)
	ctx := t.Context()
	q := insertOnlyQueue(t, b)
	lock, err := st.HoldNodeLock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	job := abandonScan(t, b, q, "scn_dead", b.clock.Now().Add(time.Hour))
	for range 3 {
		if n, err := b.svc.Recover(ctx, false); err != nil || n != 0 {
			t.Fatalf("Recover with the scan's node alive = %d, %v; want 0", n, err)
		}
	}
	lock.Release(ctx) // the node dies: its connection, and so its lock, goes
	waitFor(t, "the dead node's scan recovered", func() bool {
		n, err := b.svc.Recover(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		return n == 1
	})
	if s, err := st.PostureScan(ctx, "scn_dead"); err != nil || s.Status != ScanFailed || s.Error != errInterrupted {
		t.Errorf("the dead node's scan: %+v, %v; want failed as interrupted", s, err)
	}
	var state string
	var jobs int
	if err := st.DB().QueryRowContext(ctx, `SELECT state, (SELECT COUNT(*) FROM river_job WHERE kind = 'posture_scan' AND state = 'available') FROM river_job WHERE id = $1`,
		job).Scan(&state, &jobs); err != nil || state != "discarded" || jobs != 1 {
		t.Errorf("the dead job is %s with %d scan jobs waiting (%v); want it discarded and one new job", state, jobs, err)
	}
	if n, err := st.PruneLeaseOwners(ctx); err != nil || n != 1 {
		t.Errorf("PruneLeaseOwners after the recovery = %d, %v; want the scan's owner row removed", n, err)
	}
}

// TestRecoverEndedScanLease checks that the lease of a scan that ended is
// dropped by the next recovery: a process killed after its scan's result
// committed but before it dropped the lease left it, and since recovery
// only looked at running scans the lease stayed for good.
func TestRecoverEndedScanLease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		ctx := t.Context()
		now := b.clock.Now()
		if err := st.CreatePostureScan(ctx, &store.PostureScan{ID: "scn_ended", Trigger: TriggerAPI, RequestedJSON: "[]",
			Status: ScanRunning, ResultJSON: "{}", StartedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := st.LeasePostureScan(ctx, "scn_ended", 7, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := st.FinishPostureScan(ctx, "scn_ended", ScanOK, "", "{}", now); err != nil {
			t.Fatal(err)
		}
		for _, exclusive := range []bool{false, true} {
			if _, err := b.svc.Recover(ctx, exclusive); err != nil {
				t.Fatal(err)
			}
			var leases int
			if err := st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM vigil_posture_scan_lease`).Scan(&leases); err != nil || leases != 0 {
				t.Fatalf("after Recover(%v): %d leases (%v); want the ended scan's dropped", exclusive, leases, err)
			}
		}
		if s, err := st.PostureScan(ctx, "scn_ended"); err != nil || s.Status != ScanOK {
			t.Errorf("the ended scan: %+v, %v; want it left ok", s, err)
		}
	})
}

// TestFinishOnlyARunningScan checks that a scan recovery has failed stays
// failed when the run it took for dead finishes after all: its late result
// is refused rather than turning the scan back to ok.
func TestFinishOnlyARunningScan(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := t.Context()
		now := time.Now()
		if err := st.CreatePostureScan(ctx, &store.PostureScan{ID: "scn_late", Trigger: TriggerAPI, RequestedJSON: "[]",
			Status: ScanRunning, ResultJSON: "{}", StartedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := st.FinishPostureScan(ctx, "scn_late", ScanFailed, "recovered", "{}", now); err != nil {
			t.Fatal(err)
		}
		if err := st.FinishPostureScan(ctx, "scn_late", ScanOK, "", "{}", now.Add(time.Second)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("finishing an ended scan: %v; want ErrNotFound", err)
		}
		if s, err := st.PostureScan(ctx, "scn_late"); err != nil || s.Status != ScanFailed || s.Error != "recovered" {
			t.Errorf("the recovered scan after a late finish: %+v, %v; want it left failed", s, err)
		}
	})
}
