package queue_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-ispm/vigil/internal/queue"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

type countArgs struct {
	Name string `json:"name"`
}

func (countArgs) Kind() string { return "test_count" }

type countWorker struct {
	river.WorkerDefaults[countArgs]
	runs map[string]*atomic.Int32
	done chan string
}

func (w *countWorker) Work(ctx context.Context, job *river.Job[countArgs]) error {
	w.runs[job.Args.Name].Add(1)
	w.done <- job.Args.Name
	return nil
}

// newCountQueue returns a queue on st, not started, whose worker counts
// the runs of the count jobs of each name.
func newCountQueue(t *testing.T, st *store.Store, names ...string) (*countWorker, *queue.Queue) {
	t.Helper()
	w := &countWorker{runs: map[string]*atomic.Int32{}, done: make(chan string, 10)}
	for _, name := range names {
		w.runs[name] = &atomic.Int32{}
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	q, err := queue.New(st, queue.Config{Workers: workers, FetchPollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return w, q
}

// TestInsertTx checks the promise the rest of Vigil builds on: a job inserted
// in a rolled-back transaction never runs, one inserted in a committed
// transaction runs exactly once.
func TestInsertTx(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w, q := newCountQueue(t, st, "committed", "rolledback")
		boom := errors.New("boom")
		err := st.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.PutSetting(ctx, "a", "1", time.Now()); err != nil {
				return err
			}
			if _, err := q.InsertTx(ctx, tx, countArgs{Name: "rolledback"}, nil); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v", err)
		}
		err = st.InTx(ctx, func(tx *store.Tx) error {
			_, err := q.InsertTx(ctx, tx, countArgs{Name: "committed"}, nil)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case name := <-w.done:
			if name != "committed" {
				t.Fatalf("ran %q", name)
			}
		case <-time.After(2 * time.Minute):
			t.Fatal("committed job did not run")
		}
		// Stop waits for the workers; any further run would have happened by
		// then or never.
		sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		if err := q.Stop(sctx); err != nil {
			t.Fatal(err)
		}
		if n := w.runs["committed"].Load(); n != 1 {
			t.Errorf("committed job ran %d times, want 1", n)
		}
		if n := w.runs["rolledback"].Load(); n != 0 {
			t.Errorf("rolled-back job ran %d times, want 0", n)
		}
	})
}

// TestInsertWakesWorkers checks that an insert wakes the workers once its
// transaction commits, on both databases, with polling all but off (once
// an hour): on PostgreSQL through LISTEN/NOTIFY, on SQLite through the
// process's own notifications. The transaction stays open a while after
// the insert: the job runs once it commits.
// A job inserted outside a transaction wakes them too.
func TestInsertWakesWorkers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := &countWorker{
			runs: map[string]*atomic.Int32{"in-tx": {}, "no-tx": {}},
			done: make(chan string, 10),
		}
		workers := river.NewWorkers()
		river.AddWorker(workers, w)
		q, err := queue.New(st, queue.Config{Workers: workers, FetchPollInterval: time.Hour, FetchCooldown: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer func() {
			sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			if err := q.Stop(sctx); err != nil {
				t.Error(err)
			}
		}()
		waitRun := func(want string) {
			t.Helper()
			select {
			case name := <-w.done:
				if name != want {
					t.Fatalf("ran %q; want %q", name, want)
				}
			case <-time.After(2 * time.Minute):
				t.Fatalf("the job %q inserted after the workers started did not run: nothing woke them", want)
			}
		}
		err = st.InTx(ctx, func(tx *store.Tx) error {
			if _, err := q.InsertTx(ctx, tx, countArgs{Name: "in-tx"}, nil); err != nil {
				return err
			}
			time.Sleep(300 * time.Millisecond)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		waitRun("in-tx")
		if _, err := q.Insert(ctx, countArgs{Name: "no-tx"}, nil); err != nil {
			t.Fatal(err)
		}
		waitRun("no-tx")
	})
}

// TestRescueRunningJobs checks what a server alone on its database does at
// start with the jobs the previous process was running when it died: each
// job with attempts left runs again at once, instead of after River's
// stuck-job timeout, and a job out of attempts is left to River.
func TestRescueRunningJobs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w, q := newCountQueue(t, st, "waiting", "dead", "spent")
		ids := map[string]int64{}
		for _, name := range []string{"waiting", "dead", "spent"} {
			res, err := q.Insert(ctx, countArgs{Name: name}, &river.InsertOpts{MaxAttempts: 3})
			if err != nil {
				t.Fatal(err)
			}
			ids[name] = res.Job.ID
		}
		// The dead process had taken two of them.
		for name, attempt := range map[string]int{"dead": 1, "spent": 3} {
			if _, err := st.DB().ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = $2 WHERE id = $1`, ids[name], attempt); err != nil {
				t.Fatal(err)
			}
		}
		n, err := st.RescueRunningJobs(ctx)
		if err != nil || n != 1 {
			t.Fatalf("RescueRunningJobs = %d, %v; want the one dead job with attempts left", n, err)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		ran := map[string]bool{}
		for len(ran) < 2 {
			select {
			case name := <-w.done:
				ran[name] = true
			case <-time.After(2 * time.Minute):
				t.Fatalf("after two minutes only %v ran; want the waiting job and the rescued one", ran)
			}
		}
		sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		if err := q.Stop(sctx); err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string]int32{"waiting": 1, "dead": 1, "spent": 0} {
			if got := w.runs[name].Load(); got != want {
				t.Errorf("job %q ran %d times, want %d", name, got, want)
			}
		}
		var state string
		if err := st.DB().QueryRowContext(ctx, `SELECT state FROM river_job WHERE id = $1`, ids["spent"]).Scan(&state); err != nil || state != "running" {
			t.Errorf("the job out of attempts is %q (%v); want it left running for River", state, err)
		}
	})
}
