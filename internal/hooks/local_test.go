package hooks

import (
	"context"
	"encoding/json"
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

// newLocal builds a Service on st with the real clock and a local pool of
// n workers over a queue that only inserts: nothing but the pool sends
// until work is called, which starts River's workers on the same database.
func newLocal(t *testing.T, st *store.Store, n int, cfg Config) (svc *Service, work func()) {
	t.Helper()
	cfg.Client = netguard.NewClient(netguard.Config{Allow: loopback})
	cfg.Allow = loopback
	svc = New(st, secrettest.Box(t), cfg)
	ins, err := queue.New(st, queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	svc.SetQueue(ins)
	svc.RunLocally(n)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		svc.StopLocal(ctx)
	})
	work = func() {
		workers := river.NewWorkers()
		svc.Register(workers)
		q, err := queue.New(st, queue.Config{Workers: workers, FetchPollInterval: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		queuetest.Start(t, q)
	}
	return svc, work
}

// requestsByEvent counts the requests a receiver got per event and path.
func requestsByEvent(t *testing.T, rc *receiver) map[string]int {
	t.Helper()
	got := map[string]int{}
	for _, r := range rc.requests() {
		var ev event.Event
		if err := json.Unmarshal(r.Body, &ev); err != nil {
			t.Fatal(err)
		}
		got[ev.ID+r.Path]++
	}
	return got
}

// checkRequestsEach checks that the receiver got n requests for each
// event on each of the paths /a and /b, and none for other events.
func checkRequestsEach(t *testing.T, rc *receiver, evs []event.Event, n int) {
	t.Helper()
	got := requestsByEvent(t, rc)
	if len(got) != 2*len(evs) {
		t.Errorf("%d (event, integration) pairs reached the receiver, want %d", len(got), 2*len(evs))
	}
	for _, ev := range evs {
		for _, p := range []string{"/a", "/b"} {
			if got[ev.ID+p] != n {
				t.Errorf("event %s to %s: %d requests, want %d", ev.ID, p, got[ev.ID+p], n)
			}
		}
	}
}

// A delivery published on a node with a local pool is sent by that pool
// once its transaction commits, with no job worker running: its job, which
// waited LocalGrace as the recovery path, is deleted then. A rolled-back
// publish sends nothing.
func TestLocalPoolDelivers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		rc := newReceiver(t, status(http.StatusNoContent))
		svc, _ := newLocal(t, st, 4, Config{LocalGrace: time.Hour})
		b := &bundle{st: st, svc: svc}
		b.addHook(t, "a", rc.URL+"/a")
		b.addHook(t, "b", rc.URL+"/b")
		b.publishRolledBack(t)
		const events = 20
		var evs []event.Event
		err := st.InTx(ctx, func(tx *store.Tx) error {
			for range events {
				ev := sampleEvent()
				evs = append(evs, ev)
				if err := svc.Publish(ctx, tx, ev); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		waitDelivered(t, st, 2*events)
		checkRequestsEach(t, rc, evs, 1)
		ds, err := st.HookDeliveries(ctx, store.HookDeliveryFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 2*events {
			t.Errorf("%d deliveries stored, want %d (the rolled-back event has none)", len(ds), 2*events)
		}
		// Each delivery had its job, the recovery path, which the
		// delivered attempt deleted.
		for _, d := range ds {
			if d.JobID == 0 {
				t.Errorf("delivery %s has no job", d.ID)
			}
		}
		var jobs int
		if err := st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = $1`, DeliveryArgs{}.Kind()).Scan(&jobs); err != nil {
			t.Fatal(err)
		}
		if jobs != 0 {
			t.Errorf("%d delivery jobs left, want 0 (each deleted when its delivery was sent)", jobs)
		}
	})
}

// A failed first attempt in the pool leaves its retry to a job on the
// delivery's schedule, however long the first job waits.
func TestLocalPoolRetriesThroughQueue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
			if n == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		})
		svc, work := newLocal(t, st, 2, Config{LocalGrace: time.Hour, Schedule: []time.Duration{50 * time.Millisecond}})
		work()
		b := &bundle{st: st, svc: svc}
		b.addHook(t, "a", rc.URL)
		ev := sampleEvent()
		b.publish(t, ev)
		waitDelivered(t, st, 1)
		if got := requestsByEvent(t, rc); got[ev.ID+"/"] != 2 {
			t.Errorf("%d requests, want 2 (a 503, then the retry's 204)", got[ev.ID+"/"])
		}
		d := b.only(t)
		if d.Attempts != 2 {
			t.Errorf("%d attempts recorded, want 2", d.Attempts)
		}
	})
}

// What the pool has not sent when it stops is not lost: an attempt cut
// short is queued again at once, and a delivery still waiting in the pool
// is sent by its job when LocalGrace has passed.
func TestLocalPoolStopLeavesJobs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var once sync.Once
		hold := make(chan struct{})
		held := make(chan struct{})
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				once.Do(func() { close(held) })
				select {
				case <-hold:
				case <-r.Context().Done():
				}
				return
			}
			w.WriteHeader(http.StatusNoContent)
		})
		t.Cleanup(func() { close(hold) })
		svc, work := newLocal(t, st, 1, Config{LocalGrace: 300 * time.Millisecond})
		b := &bundle{st: st, svc: svc}
		b.addHook(t, "a", rc.URL)
		first, second := sampleEvent(), sampleEvent()
		b.publish(t, first)
		select {
		case <-held:
		case <-time.After(2 * time.Minute):
			t.Fatal("the pool never sent the first delivery")
		}
		b.publish(t, second) // waits behind the first: the pool has one worker
		sctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		if err := svc.StopLocal(sctx); err != nil {
			t.Fatal(err)
		}
		work()
		waitDelivered(t, st, 2)
		got := requestsByEvent(t, rc)
		if got[first.ID+"/"] != 2 || got[second.ID+"/"] != 1 {
			t.Errorf("requests: first event %d (want 2: the one cut short, then its job's), second %d (want 1)",
				got[first.ID+"/"], got[second.ID+"/"])
		}
	})
}
