package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// Concurrent writers on SQLite share transactions: each one's writes are
// there when it returns, a failing one is undone alone, and a panic
// reaches its own caller. PostgreSQL runs the same checks without sharing.
func TestConcurrentWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now()
		errBoom := errors.New("boom")
		var wg sync.WaitGroup
		errs := make([]error, 200)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key := fmt.Sprintf("k%03d", i)
				switch i % 4 {
				case 0: // a statement on its own
					errs[i] = st.PutSetting(ctx, key, "v", now)
				case 1: // a transaction of two writes
					errs[i] = st.InTx(ctx, func(tx *store.Tx) error {
						if err := tx.PutSetting(ctx, key, "v", now); err != nil {
							return err
						}
						return tx.PutSetting(ctx, key+"-second", "v", now)
					})
				case 2: // a transaction that fails after writing
					errs[i] = st.InTx(ctx, func(tx *store.Tx) error {
						if err := tx.PutSetting(ctx, key, "v", now); err != nil {
							return err
						}
						return errBoom
					})
				case 3: // a transaction that panics after writing
					defer func() {
						if p := recover(); p != errBoom { //nolint:errorlint // the writer's own panic value must come back, not a wrapper
							errs[i] = fmt.Errorf("recovered %v; want the panic of this writer", p)
						}
					}()
					errs[i] = st.InTx(ctx, func(tx *store.Tx) error {
						if err := tx.PutSetting(ctx, key, "v", now); err != nil {
							return err
						}
						panic(errBoom)
					})
					errs[i] = errors.New("InTx returned instead of panicking")
				}
				if i%4 == 2 {
					if !errors.Is(errs[i], errBoom) {
						errs[i] = fmt.Errorf("failing transaction returned %v", errs[i]) //nolint:errorlint // errs[i] may be nil, which %v prints plainly
					} else {
						errs[i] = nil
					}
				}
				// A caller's own writes are visible once it returns.
				if errs[i] == nil && i%4 < 2 {
					if _, err := st.Setting(ctx, key); err != nil {
						errs[i] = fmt.Errorf("read back %s: %w", key, err)
					}
				}
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
		}
		for i := range errs {
			key := fmt.Sprintf("k%03d", i)
			_, err := st.Setting(ctx, key)
			if ok := i%4 < 2; ok != (err == nil) {
				t.Errorf("%s stored = %v (%v); want %v", key, err == nil, err, ok)
			}
			if i%4 == 1 {
				if _, err := st.Setting(ctx, key+"-second"); err != nil {
					t.Errorf("%s-second: %v", key, err)
				}
			}
		}
	})
}

// A write made from inside a transaction on SQLite (which waits for the
// transaction it runs in) ends with the caller's deadline instead of
// hanging.
func TestWriteInsideTransactionEnds(t *testing.T) {
	st := storetest.SQLite(t)
	ctx := context.Background()
	err := st.InTx(ctx, func(tx *store.Tx) error {
		wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		return st.PutSetting(wctx, "inner", "v", time.Now())
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("inner write: %v; want the deadline", err)
	}
	if err := st.PutSetting(ctx, "after", "v", time.Now()); err != nil {
		t.Fatalf("write after: %v", err)
	}
	if _, err := st.Setting(ctx, "inner"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("inner write stored: %v", err)
	}
}

// AfterCommit runs for every write that committed, after its commit (the
// write is visible to another connection then), and never for one that
// failed, also when concurrent writers share a transaction on SQLite.
func TestAfterCommit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now()
		errBoom := errors.New("boom")
		var mu sync.Mutex
		ran := map[string]error{}
		var wg sync.WaitGroup
		for i := range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key := fmt.Sprintf("after%03d", i)
				err := st.InTx(ctx, func(tx *store.Tx) error {
					if err := tx.PutSetting(ctx, key, "v", now); err != nil {
						return err
					}
					tx.AfterCommit(func() {
						// Read outside the transaction: the write must be visible.
						_, err := st.Setting(ctx, key)
						if errors.Is(err, store.ErrNotFound) {
							err = errors.New("the write is not visible after commit")
						}
						mu.Lock()
						ran[key] = err
						mu.Unlock()
					})
					if i%2 == 1 {
						return errBoom
					}
					return nil
				})
				if (i%2 == 1) != errors.Is(err, errBoom) {
					t.Errorf("writer %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		for i := range 100 {
			key := fmt.Sprintf("after%03d", i)
			err, called := ran[key]
			switch {
			case i%2 == 1 && called:
				t.Errorf("%s: AfterCommit ran for a write that was rolled back", key)
			case i%2 == 0 && !called:
				t.Errorf("%s: AfterCommit did not run for a committed write", key)
			case err != nil:
				t.Errorf("%s: %v", key, err)
			}
		}
	})
}

// A write whose caller gives up while an earlier write of the same batch
// runs (as a big scan's does, for seconds) returns at once, and is not
// made.
func TestWriteGivenUpInItsBatch(t *testing.T) {
	st := storetest.SQLite(t)
	ctx := context.Background()
	holdFirst, holdLong := make(chan struct{}), make(chan struct{})
	firstIn, longIn := make(chan struct{}), make(chan struct{})
	errs := make(chan error, 2)
	go func() {
		errs <- st.InTx(ctx, func(*store.Tx) error { close(firstIn); <-holdFirst; return nil })
	}()
	<-firstIn
	// While the batcher runs the first write, two wait for the next
	// batch: a long one, then one whose caller gives up.
	go func() {
		errs <- st.InTx(ctx, func(tx *store.Tx) error {
			close(longIn)
			<-holdLong
			return tx.PutSetting(ctx, "long", "v", time.Now())
		})
	}()
	waitFor(t, "the long write to be queued", func() bool { return st.QueuedWrites() == 1 })
	short, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- st.PutSetting(short, "short", "v", time.Now()) }()
	waitFor(t, "the short write to be queued", func() bool { return st.QueuedWrites() == 2 })
	close(holdFirst)
	<-longIn // the next batch runs the long write; the short one waits its turn
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("short write: %v; want its caller's cancel", err)
		}
	case <-time.After(time.Minute):
		close(holdLong) // so that the store can close
		t.Fatal("the short write waited for the long write of its batch")
	}
	close(holdLong)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Setting(ctx, "short"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the write given up on was made: %v", err)
	}
	if v, err := st.Setting(ctx, "long"); err != nil || v != "v" {
		t.Errorf("long write = %q, %v", v, err)
	}
}

// Once a batch held several writes, the next one waits a moment for more
// before it commits, so that the writers on their way share its commit:
// each commit writes a page of every index it touched. The wait is made an
// hour here, so the batch ends only when it is full (MaxBatch writes) and
// every write in it must have run in one transaction. (Should it never
// fill, closing the store ends the wait.)
func TestBatchWaitsForConcurrentWriters(t *testing.T) {
	st := storetest.SQLite(t)
	ctx := context.Background()
	now := time.Now()
	hold, in := make(chan struct{}), make(chan struct{})
	errs := make(chan error, store.MaxBatch)
	go func() { errs <- st.InTx(ctx, func(*store.Tx) error { close(in); <-hold; return nil }) }()
	<-in
	// The batcher runs the held write: what is queued now makes the next
	// batch, two writes, after which batches wait.
	st.SetBatchLinger(time.Hour)
	for i := range 2 {
		go func() { errs <- st.PutSetting(ctx, fmt.Sprintf("pair%d", i), "v", now) }()
	}
	waitFor(t, "two writes to be queued", func() bool { return st.QueuedWrites() == 2 })
	close(hold)
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	txs := map[*store.Tx]int{}
	write := func(i int) {
		errs <- st.InTx(ctx, func(tx *store.Tx) error {
			mu.Lock()
			txs[tx]++
			mu.Unlock()
			return tx.PutSetting(ctx, fmt.Sprintf("w%03d", i), "v", now)
		})
	}
	// Without the wait, the batcher would commit whatever it holds when
	// it has taken the writes already queued: a few at a time.
	for i := range store.MaxBatch {
		go write(i)
	}
	for range store.MaxBatch {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if len(txs) != 1 {
		t.Errorf("%d concurrent writes ran in %d transactions; want one batch", store.MaxBatch, len(txs))
	}
}

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(time.Minute); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("waited a minute for %s", what)
		}
	}
}
