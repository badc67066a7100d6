package hooks

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-ispm/vigil/internal/crashtest"
	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/logtest"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/queue"
	"github.com/vigil-ispm/vigil/internal/secret"
	"github.com/vigil-ispm/vigil/internal/store"
)

// The crash test re-executes the test binary as a small Vigil node that
// works delivery jobs; the prefix names what tells it what to open.
var crash = crashtest.Harness{Prefix: "VIGIL_HOOKS_CRASH"}

func TestMain(m *testing.M) { crash.Main(m, crashChild) }

// crashChild runs the delivery workers until it is killed.
func crashChild(ctx context.Context, st *store.Store, box *secret.Box) error {
	svc := New(st, box, Config{
		Client:         netguard.NewClient(netguard.Config{Allow: loopback}),
		Allow:          loopback,
		RequestTimeout: 500 * time.Millisecond, // a lease of 1 s
		RecoverAfter:   2 * time.Second,
		MaxInFlight:    10,
		RatePerSecond:  1000,
	})
	// Maintenance as the application runs it at start and then
	// periodically; here often, so recovery after the crash is quick. (The
	// periodic job alone would wait for the killed node's leadership to
	// expire.)
	return crashtest.Node{
		Register: svc.Register,
		SetQueue: func(q *queue.Queue) { svc.SetQueue(q) },
		Maintain: func(ctx context.Context) error {
			_, _, err := svc.Maintain(ctx)
			return err
		},
		Queue: queue.Config{PeriodicJobs: svc.PeriodicJobs(), FetchPollInterval: 20 * time.Millisecond,
			Queues: map[string]int{river.QueueDefault: 10}},
	}.Run(ctx, st)
}

// crashReceiver records, per webhook-id, the hashes of the bodies received.
type crashReceiver struct {
	mu     sync.Mutex
	bodies map[string]map[[32]byte]int
	total  int
	badIDs []string
}

func (c *crashReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	buf.ReadFrom(r.Body)
	var ev event.Event
	json.Unmarshal(buf.Bytes(), &ev)
	id := r.Header.Get("webhook-id")
	time.Sleep(2 * time.Millisecond) // keep a few deliveries in flight
	c.mu.Lock()
	if ev.ID != id {
		c.badIDs = append(c.badIDs, id)
	}
	if c.bodies[id] == nil {
		c.bodies[id] = map[[32]byte]int{}
	}
	c.bodies[id][sha256.Sum256(buf.Bytes())]++
	c.total++
	c.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (c *crashReceiver) distinct() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.bodies)
}

// TestCrashRecovery kills (SIGKILL) a node while it delivers 200 events
// and restarts it: every event arrives, and the only duplicates are
// re-sends of the same event under the same webhook-id. The size proves
// recovery (the kill lands mid-stream) while finishing well inside the
// safety timeout on a busy machine; throughput is the benchmarks' job.
func TestCrashRecovery(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) { crashRecovery(t, dialect) })
	}
}

func crashRecovery(t *testing.T, dialect string) {
	ctx := context.Background()
	run := crash.Run(t, dialect)
	st := run.St
	svc := New(st, run.Box, Config{Allow: loopback})
	rc := &crashReceiver{bodies: map[string]map[[32]byte]int{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	hook, _, err := svc.Create(ctx, Input{Name: "crash", URL: srv.URL + "/hook"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetAutomation(ctx, hook.ID, AutomationInput{AllTitles: true}); err != nil {
		t.Fatal(err)
	}

	// The events and their jobs, committed before any worker runs.
	const total = 200
	published := map[string]bool{}
	q, err := queue.New(st, queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	svc.SetQueue(q)
	const batchSize = 50
	for batch := 0; batch < total/batchSize; batch++ {
		err := st.InTx(ctx, func(tx *store.Tx) error {
			for range batchSize {
				ev := sampleEvent()
				published[ev.ID] = true
				if err := svc.Publish(ctx, tx, ev); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	// waitFor polls cond; the deadline is a safety net against a hang,
	// not a measure of speed.
	waitFor := func(what string, stderr *logtest.Buffer, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Minute)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("gave up waiting for %s; %d of %d events received; child said: %s", what, rc.distinct(), total, stderr.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	first, stderr := run.Start(t)
	waitFor("the first deliveries", stderr, func() bool { return rc.distinct() >= total/4 })
	crashtest.Kill(t, first)
	atKill := rc.distinct()
	if atKill >= total {
		t.Fatalf("all %d events were delivered before the kill; the test proves nothing", total)
	}

	second, stderr := run.Start(t)
	defer func() { second.Process.Signal(syscall.SIGKILL); second.Wait() }()
	waitFor("every event", stderr, func() bool { return rc.distinct() >= total })
	waitFor("every delivery recorded", stderr, func() bool {
		n, _ := st.HookDeliveryCounts(ctx, hook.ID)
		return n[StatusDelivered] == total
	})

	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.badIDs) > 0 {
		t.Errorf("%d requests whose webhook-id is not their event's id, e.g. %q", len(rc.badIDs), rc.badIDs[0])
	}
	for id, bodies := range rc.bodies {
		if !published[id] {
			t.Errorf("received an event that was never published: %s", id)
		}
		if len(bodies) != 1 {
			t.Errorf("webhook-id %s arrived with %d different bodies", id, len(bodies))
		}
	}
	if len(rc.bodies) != total {
		t.Errorf("%d distinct events received, want %d", len(rc.bodies), total)
	}
	t.Logf("%s: killed after %d of %d events; %d requests in all, so %d duplicates (same webhook-id, same body)",
		dialect, atKill, total, rc.total, rc.total-total)
}
