package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

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

// heldReceiver is a receiver that answers 204, except to its first
// request, which it holds until release is called or the request is cut
// short. waitHeld returns once that request has arrived.
func heldReceiver(t *testing.T) (rc *receiver, waitHeld, release func()) {
	t.Helper()
	hold := make(chan struct{})
	held := make(chan struct{})
	var heldOnce, holdOnce sync.Once
	rc = newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			heldOnce.Do(func() { close(held) })
			select {
			case <-hold:
			case <-r.Context().Done():
			}
		}
		w.WriteHeader(http.StatusNoContent)
	})
	release = func() { holdOnce.Do(func() { close(hold) }) }
	t.Cleanup(release)
	waitHeld = func() {
		t.Helper()
		select {
		case <-held:
		case <-time.After(2 * time.Minute):
			t.Fatal("the pool never sent the first delivery")
		}
	}
	return rc, waitHeld, release
}

// A delivery published on a node with a local pool is sent by that pool
// once its transaction commits, with no job worker running: it is created
// leased by the node, without a job, so that nothing but the pool sends it
// and no job is left once it is delivered. A rolled-back publish sends
// nothing.
func TestLocalPoolDelivers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		rc := newReceiver(t, status(http.StatusNoContent))
		svc, _ := newLocal(t, st, 4, Config{})
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
		for _, d := range ds {
			if d.JobID != 0 || !d.LeasedUntil.IsZero() || d.Attempts != 1 {
				t.Errorf("delivery %s: job %d, leased until %v, %d attempts; want no job, no lease, 1 attempt", d.ID, d.JobID, d.LeasedUntil, d.Attempts)
			}
		}
		var jobs int
		if err := st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = $1`, DeliveryArgs{}.Kind()).Scan(&jobs); err != nil {
			t.Fatal(err)
		}
		if jobs != 0 {
			t.Errorf("%d delivery jobs, want 0 (the pool sent each delivery without one)", jobs)
		}
	})
}

// The pool keeps the integrations its deliveries go to for a moment, but
// a change made on this node is seen by the next delivery: one published
// right after its address changed goes to the new address. Deliveries
// sent between the two read the integration from the cache.
func TestLocalPoolSeesAChangeAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		rc := newReceiver(t, status(http.StatusNoContent))
		svc, _ := newLocal(t, st, 2, Config{})
		// Kept for the whole test, however slow the machine: only the
		// change, not the cache's age, may make the pool read it again.
		svc.hookRows.Age = time.Hour
		b := &bundle{st: st, svc: svc}
		in, _ := b.addHook(t, "a", rc.URL+"/a")
		first := sampleEvent()
		b.publish(t, first)
		waitDelivered(t, st, 1)
		if found, _ := svc.hookRows.Kept(in.ID); !found {
			t.Fatal("the integration a delivery went to is not kept")
		}
		if _, err := svc.Update(ctx, in.ID, Input{Name: "a", URL: rc.URL + "/b"}); err != nil {
			t.Fatal(err)
		}
		second := sampleEvent()
		b.publish(t, second)
		waitDelivered(t, st, 2)
		got := requestsByEvent(t, rc)
		if got[first.ID+"/a"] != 1 || got[second.ID+"/b"] != 1 || len(got) != 2 {
			t.Errorf("requests by event and path %v; want the first event to /a and the second to /b", got)
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
		svc, work := newLocal(t, st, 2, Config{Schedule: []time.Duration{50 * time.Millisecond}})
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
// is handed to the job queue.
func TestLocalPoolStopHandsBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		rc, waitHeld, _ := heldReceiver(t)
		svc, work := newLocal(t, st, 1, Config{})
		b := &bundle{st: st, svc: svc}
		b.addHook(t, "a", rc.URL)
		first, second := sampleEvent(), sampleEvent()
		b.publish(t, first)
		waitHeld()
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

// A delivery waiting in the pool of a node that dies has no job, only the
// lease the node took when it published it. It is not lost: a server alone
// on its database (SQLite) queues it again at start, and on PostgreSQL any
// node does as soon as the dead node's lock is gone, long before the lease
// ends. What the dead node's pool still held sends nothing afterwards.
func TestLocalPoolLostWithItsNode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		rc, waitHeld, _ := heldReceiver(t)
		var lock *store.NodeLock
		if st.Dialect() == store.Postgres {
			var err error
			if lock, err = st.HoldNodeLock(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { lock.Release(ctx) })
		}
		// A lease of two hours: recovery must not wait for it to end.
		dead, _ := newLocal(t, st, 1, Config{RequestTimeout: time.Hour})
		db := &bundle{st: st, svc: dead}
		db.addHook(t, "a", rc.URL)
		first, second := sampleEvent(), sampleEvent()
		db.publish(t, first)
		waitHeld()
		db.publish(t, second) // waits behind the first: the pool has one worker
		ds, err := st.HookDeliveries(ctx, store.HookDeliveryFilter{EventID: second.ID})
		if err != nil || len(ds) != 1 {
			t.Fatalf("deliveries of the second event: %d, %v", len(ds), err)
		}
		if ds[0].JobID != 0 || ds[0].LeasedUntil.IsZero() {
			t.Fatalf("the waiting delivery: job %d, leased until %v; want no job and a lease", ds[0].JobID, ds[0].LeasedUntil)
		}

		// The node dies: it neither sends nor hands back what it holds, and
		// on PostgreSQL its lock goes with it.
		lock.Release(ctx)
		live := setup(t, st, func(c *Config) { c.Now = time.Now })
		live.svc.box = dead.box // another node of the same deployment: the same master key
		// PostgreSQL drops the lock once it sees the connection closed.
		requeued := 0
		for deadline := time.Now().Add(time.Minute); requeued < 2 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			n, err := live.svc.RecoverAtStart(ctx, st.Dialect() == store.SQLite)
			if err != nil {
				t.Fatal(err)
			}
			requeued += n
		}
		if requeued != 2 {
			t.Fatalf("%d deliveries queued again, want both of the dead node's", requeued)
		}
		live.runJobs(t)
		waitDelivered(t, st, 2)
		stopped, cancel := context.WithCancel(ctx)
		cancel()
		if err := dead.StopLocal(stopped); err != nil {
			t.Fatal(err)
		}
		got := requestsByEvent(t, rc)
		if got[first.ID+"/"] != 2 || got[second.ID+"/"] != 1 {
			t.Errorf("requests: first event %d (want 2: the one the node died in, then its job's), second %d (want 1)",
				got[first.ID+"/"], got[second.ID+"/"])
		}
	})
}

// A delivery that waited in the pool's line for a third of its lease has
// its lease renewed before it is sent; one whose lease ran out meanwhile,
// and which maintenance queued again, is left to its new job rather than
// sent a second time by the pool.
func TestLocalPoolRenewsOrLeavesWaitingDeliveries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		rc, waitHeld, release := heldReceiver(t)
		clock := newFakeClock()
		svc, work := newLocal(t, st, 1, Config{Now: clock.Now})
		b := &bundle{st: st, svc: svc}
		b.addHook(t, "a", rc.URL)
		first, recovered, renewed := sampleEvent(), sampleEvent(), sampleEvent()
		b.publish(t, first)
		waitHeld()
		b.publish(t, recovered) // waits behind the first: the pool has one worker
		clock.Add(svc.lease() + time.Second)
		if n, err := svc.RecoverAtStart(ctx, false); err != nil || n != 2 {
			t.Fatalf("RecoverAtStart after the leases ran out: %d, %v; want the first two deliveries queued again", n, err)
		}
		b.publish(t, renewed)
		clock.Add(svc.lease() / 2)
		release()
		waitDelivered(t, st, 1)
		work()
		waitDelivered(t, st, 3)
		got := requestsByEvent(t, rc)
		if got[first.ID+"/"] != 2 || got[recovered.ID+"/"] != 1 || got[renewed.ID+"/"] != 1 {
			t.Errorf("requests: first %d (want 2: the pool's, then its new job's), recovered %d (want 1: its job's), renewed %d (want 1)",
				got[first.ID+"/"], got[recovered.ID+"/"], got[renewed.ID+"/"])
		}
		ds, err := st.HookDeliveries(ctx, store.HookDeliveryFilter{EventID: renewed.ID})
		if err != nil || len(ds) != 1 {
			t.Fatalf("deliveries of the renewed event: %d, %v", len(ds), err)
		}
		if ds[0].JobID != 0 || ds[0].Attempts != 1 || ds[0].Generation != 1 {
			t.Errorf("the renewed delivery: job %d, %d attempts, generation %d; want sent by the pool: no job, 1 attempt, generation 1",
				ds[0].JobID, ds[0].Attempts, ds[0].Generation)
		}
	})
}

// refusingQueue is a job queue that refuses every job while refuse is
// set, counting what it refused.
type refusingQueue struct {
	JobInserter
	refuse  atomic.Bool
	refused atomic.Int32
}

func (q *refusingQueue) InsertTx(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	if q.refuse.Load() {
		q.refused.Add(1)
		return nil, errors.New("the queue refuses jobs (test)")
	}
	return q.JobInserter.InsertTx(ctx, tx, args, opts)
}

// What the pool leaves to a job (a retry after a failed attempt, a
// delivery over its integration's limits) is released and queued in one
// transaction. With the queue refusing the job, as when the node dies
// between the two, the delivery keeps its lease and is recovered once the
// lease ends, rather than staying pending with neither a lease nor a job,
// where maintenance looks only after RecoverAfter.
func TestLocalPoolLeavesNoDeliveryWithoutLeaseOrJob(t *testing.T) {
	for _, tc := range []struct {
		name string
		// overLimits holds the first request, the integration's only one
		// in flight, so that the second event's delivery waits for the
		// limit longer than the pool does; else the first request fails
		// and its retry is left to a job.
		overLimits bool
		events     int
		requests   int // the receiver's, the recovered job's included
	}{
		{name: "retry", events: 1, requests: 2},
		{name: "over limits", overLimits: true, events: 2, requests: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) {
				ctx := context.Background()
				rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
					w.WriteHeader(map[bool]int{true: http.StatusServiceUnavailable, false: http.StatusNoContent}[n == 1])
				})
				maxInFlight, release := 0, func() {}
				if tc.overLimits {
					rc, _, release = heldReceiver(t)
					maxInFlight = 1
				}
				svc, _ := newLocal(t, st, 2, Config{})
				q := &refusingQueue{JobInserter: svc.queue}
				q.refuse.Store(true)
				svc.SetQueue(q)
				in, _, err := svc.Create(ctx, Input{Name: "a", URL: rc.URL, MaxInFlight: maxInFlight})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := svc.SetAutomation(ctx, in.ID, AutomationInput{AllTitles: true}); err != nil {
					t.Fatal(err)
				}
				b := &bundle{st: st, svc: svc}
				for range tc.events {
					b.publish(t, sampleEvent())
				}
				for deadline := time.Now().Add(2 * time.Minute); q.refused.Load() == 0; time.Sleep(10 * time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatal("the pool never queued a job")
					}
				}
				if tc.overLimits {
					release()
					waitDelivered(t, st, 1) // the first, sent by the pool
				}

				// Another node, once the lease has ended, finds the delivery.
				live := setup(t, st, func(c *Config) { c.Now = func() time.Time { return time.Now().Add(svc.lease() + time.Second) } })
				live.svc.box = svc.box // the same deployment: the same master key
				_, n, err := live.svc.Maintain(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if n != 1 {
					ds, _ := st.HookDeliveries(ctx, store.HookDeliveryFilter{})
					for _, d := range ds {
						t.Logf("delivery %s: %s, leased until %v, job %d", d.ID, d.Status, d.LeasedUntil, d.JobID)
					}
					t.Fatalf("maintenance queued %d deliveries once the lease ended, want the one the pool left", n)
				}
				// Its job runs until it is sent: on PostgreSQL the limit is the
				// cluster's, so it may wait for the first request to end.
				for _, j := range live.jobs.take() {
					for deadline := time.Now().Add(2 * time.Minute); ; {
						again, err := live.svc.deliver(ctx, j.DeliveryID, j.Generation)
						if err != nil {
							t.Fatal(err)
						}
						if again == done {
							break
						}
						if time.Now().After(deadline) {
							t.Fatal("the recovered delivery's job never sent it")
						}
						time.Sleep(50 * time.Millisecond)
					}
				}
				waitDelivered(t, st, tc.events)
				if got := len(rc.requests()); got != tc.requests {
					t.Errorf("the receiver got %d requests, want %d", got, tc.requests)
				}
			})
		})
	}
}
