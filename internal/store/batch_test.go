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
						if p := recover(); p != errBoom {
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
						errs[i] = fmt.Errorf("failing transaction returned %v", errs[i])
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

// TestAfterCommit checks that what a transaction registers with
// AfterCommit runs once it committed, before InTx returns, and never when
// it rolled back, also when concurrent writers share one SQLite
// transaction and some of them fail.
func TestAfterCommit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		errBoom := errors.New("boom")
		var wg sync.WaitGroup
		calls := make([]int, 100)
		errs := make([]error, len(calls))
		for i := range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key := fmt.Sprintf("after%03d", i)
				errs[i] = st.InTx(ctx, func(tx *store.Tx) error {
					tx.AfterCommit(func() { calls[i]++ })
					if err := tx.PutSetting(ctx, key, "v", time.Now()); err != nil {
						return err
					}
					if i%2 == 1 {
						return errBoom
					}
					return nil
				})
				if errs[i] == nil {
					// The write is visible once the callback ran.
					if v, err := st.Setting(ctx, key); err != nil || v != "v" || calls[i] != 1 {
						errs[i] = fmt.Errorf("after commit: setting %q %v, %d calls; want it written and 1 call", v, err, calls[i])
					}
				}
			}()
		}
		wg.Wait()
		for i, err := range errs {
			switch {
			case i%2 == 0 && err != nil:
				t.Errorf("writer %d: %v", i, err)
			case i%2 == 1 && !errors.Is(err, errBoom):
				t.Errorf("writer %d: %v; want its own error", i, err)
			case i%2 == 1 && calls[i] != 0:
				t.Errorf("writer %d rolled back, but its AfterCommit ran %d times", i, calls[i])
			}
		}
	})
}
