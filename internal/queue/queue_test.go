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

// TestInsertTx checks the promise the rest of Vigil builds on: a job inserted
// in a rolled-back transaction never runs, one inserted in a committed
// transaction runs exactly once.
func TestInsertTx(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := &countWorker{
			runs: map[string]*atomic.Int32{"committed": {}, "rolledback": {}},
			done: make(chan string, 10),
		}
		workers := river.NewWorkers()
		river.AddWorker(workers, w)
		q, err := queue.New(st, queue.Config{Workers: workers, FetchPollInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		err = st.InTx(ctx, func(tx *store.Tx) error {
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
