package hooks

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/queue"
	"github.com/vigil-ispm/vigil/internal/queue/queuetest"
	"github.com/vigil-ispm/vigil/internal/secret/secrettest"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// startQueue builds a Service on st with the real clock and a running River
// queue, as the application wires it.
func startQueue(t testing.TB, st *store.Store, cfg Config) *Service {
	t.Helper()
	if cfg.Client == nil {
		cfg.Client = netguard.NewClient(netguard.Config{Allow: loopback})
	}
	cfg.Allow = loopback
	svc := New(st, secrettest.Box(t), cfg)
	workers := river.NewWorkers()
	svc.Register(workers)
	q, err := queue.New(st, queue.Config{Workers: workers, PeriodicJobs: svc.PeriodicJobs(), FetchPollInterval: 20 * time.Millisecond,
		Queues: map[string]int{river.QueueDefault: 20}})
	if err != nil {
		t.Fatal(err)
	}
	svc.SetQueue(q)
	queuetest.Start(t, q)
	return svc
}

// waitDelivered polls until n deliveries are delivered, failing after a
// generous deadline (a safeguard, not a timing assertion).
func waitDelivered(t testing.TB, st *store.Store, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ds, err := st.HookDeliveries(context.Background(), store.HookDeliveryFilter{Status: StatusDelivered, Limit: n + 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d deliveries delivered before the deadline", len(ds), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRecoverLeavesQueuedJobsAlone checks that maintenance does not take a
// long queue for lost jobs: a delivery whose River job still waits is left
// alone however overdue, and is recovered once River has given up on it.
func TestRecoverLeavesQueuedJobsAlone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		b := setup(t, st)
		q, err := queue.New(st, queue.Config{}) // inserts only: nothing works the jobs
		if err != nil {
			t.Fatal(err)
		}
		b.svc.SetQueue(q)
		b.addHook(t, "backlogged", "https://example.com/hook")
		b.publish(t, sampleEvent())
		d := b.only(t)
		if d.JobID == 0 {
			t.Fatal("the delivery does not know its job")
		}
		b.clock.Add(time.Hour)
		if _, n, err := b.svc.Maintain(ctx); err != nil || n != 0 {
			t.Fatalf("Maintain recovered %d deliveries whose job is queued (%v)", n, err)
		}
		if _, err := st.DB().ExecContext(ctx, `UPDATE river_job SET state = 'discarded', finalized_at = created_at WHERE id = $1`, d.JobID); err != nil {
			t.Fatal(err)
		}
		if _, n, err := b.svc.Maintain(ctx); err != nil || n != 1 {
			t.Fatalf("Maintain recovered %d deliveries whose job was discarded, want 1 (%v)", n, err)
		}
		if got := b.only(t); got.Generation != 2 || got.JobID == d.JobID || got.JobID == 0 {
			t.Errorf("recovered delivery: generation %d, job %d (was %d)", got.Generation, got.JobID, d.JobID)
		}
	})
}

func TestQueueDelivers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		// The first request to each event fails: the job snoozes and River
		// runs it again on the (shortened) schedule.
		var mu sync.Mutex
		seen := map[string]bool{}
		rc := newReceiver(t, nil)
		rc.setRespond(func(_ int, w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get("webhook-id") + r.URL.Path
			mu.Lock()
			first := !seen[id]
			seen[id] = true
			mu.Unlock()
			if first {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		})
		svc := startQueue(t, st, Config{Schedule: []time.Duration{50 * time.Millisecond}})
		b := &bundle{st: st, svc: svc}
		b.addHook(t, "a", rc.URL+"/a")
		b.addHook(t, "b", rc.URL+"/b")

		// A rolled-back change publishes nothing.
		b.publishRolledBack(t)
		const events = 25
		var evs []event.Event
		for range events {
			ev := sampleEvent()
			evs = append(evs, ev)
			b.publish(t, ev)
		}
		waitDelivered(t, st, 2*events)
		checkRequestsEach(t, rc, evs, 2) // one 503, one 204
		if ds, _ := st.HookDeliveries(ctx, store.HookDeliveryFilter{Limit: 1000}); len(ds) != 2*events {
			t.Errorf("%d deliveries stored, want %d (the rolled-back event has none)", len(ds), 2*events)
		}
	})
}
