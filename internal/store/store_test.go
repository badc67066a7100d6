package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

func TestMigrateIsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if err := st.Migrate(ctx); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		ok, err := st.Migrated(ctx)
		if err != nil || !ok {
			t.Fatalf("Migrated() = %v, %v; want true", ok, err)
		}
	})
}

func TestSettingsRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if _, err := st.Setting(ctx, "public_url"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing setting: err = %v, want ErrNotFound", err)
		}
		now := time.Date(2026, 11, 28, 10, 0, 0, 123456000, time.UTC)
		if err := st.PutSetting(ctx, "public_url", "https://vigil.example.com", now); err != nil {
			t.Fatal(err)
		}
		if err := st.PutSetting(ctx, "public_url", "https://v.example.com", now.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		v, err := st.Setting(ctx, "public_url")
		if err != nil || v != "https://v.example.com" {
			t.Fatalf("Setting = %q, %v", v, err)
		}
	})
}

func TestTxRollsBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := st.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.PutSetting(ctx, "k", "v", time.Now()); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx err = %v", err)
		}
		if _, err := st.Setting(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("rolled-back write is visible: %v", err)
		}
	})
}

// TestTxCommitsWhenCallerGivesUpAfterItsWrites: a caller whose context
// ends once its writes are made (a request whose client went away as its
// transaction committed) is told the truth: committed, nil. Before, on
// PostgreSQL, the commit was cut short and reported failed, and an
// execution it had stored claimed by its node waited out its lease unrun.
func TestTxCommitsWhenCallerGivesUpAfterItsWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		err := st.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.PutSetting(ctx, "k", "v", time.Now()); err != nil {
				return err
			}
			cancel()
			return nil
		})
		if err != nil {
			t.Fatalf("InTx err = %v, want the writes committed", err)
		}
		if v, err := st.Setting(context.Background(), "k"); err != nil || v != "v" {
			t.Fatalf("Setting = %q, %v; want the committed write", v, err)
		}
	})
}

// TestTxStatementsEndWithTheCaller: a caller that gave up before its
// writes still has them refused and nothing committed.
func TestTxStatementsEndWithTheCaller(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := st.InTx(ctx, func(tx *store.Tx) error {
			return tx.PutSetting(ctx, "k", "v", time.Now())
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("InTx err = %v, want context.Canceled", err)
		}
		if _, err := st.Setting(context.Background(), "k"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a write of a caller that gave up is visible: %v", err)
		}
	})
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ url, want string }{
		{"mysql://x", `unknown database scheme "mysql"`},
		{"", "no database URL"},
		{"postgres://nobody:secretpw@127.0.0.1:1/db?connect_timeout=1", "cannot reach PostgreSQL at 127.0.0.1:1"},
	} {
		_, err := store.Open(ctx, store.Config{URL: tc.url})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q) err = %v, want it to contain %q", tc.url, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "secretpw") {
			t.Errorf("Open(%q) leaks the password: %v", tc.url, err)
		}
	}
}

// TestSQLiteReadsDoNotWaitForWriters: on SQLite, a writer waits for the
// write lock holding a connection of the writers' pool; a read outside a
// transaction (a console page, or a scan's transaction reading a setting)
// must still answer while every one of those connections is taken.
func TestSQLiteReadsDoNotWaitForWriters(t *testing.T) {
	st := storetest.SQLite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := st.PutSetting(ctx, "public_url", "https://vigil.example.com", time.Now()); err != nil {
		t.Fatal(err)
	}
	err := st.InTx(ctx, func(tx *store.Tx) error {
		// The transaction holds one connection; take the others, as
		// writers queued for the lock do.
		for range st.DB().Stats().MaxOpenConnections - 1 {
			c, err := st.DB().Conn(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
		}
		v, err := st.Setting(ctx, "public_url")
		if err != nil {
			return fmt.Errorf("read while the writers' connections are taken: %w", err)
		}
		if v != "https://vigil.example.com" {
			return fmt.Errorf("read %q", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestFlowTableByNameNoCount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
		if err := st.CreateFlowFolder(ctx, &store.FlowFolder{ID: "fld_1", Name: "Folder", CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		tbl := &store.FlowTable{ID: "tbl_1", FolderID: "fld_1", Name: "Events", Columns: `[{"name":"A","type":"text"}]`,
			CreatedAt: now, UpdatedAt: now}
		if err := st.CreateFlowTable(ctx, tbl); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			r := &store.FlowTableRow{ID: fmt.Sprintf("row_%d", i), TableID: "tbl_1", Data: `{"A":"x"}`, CreatedAt: now, UpdatedAt: now}
			if err := st.InsertFlowTableRow(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		counted, err := st.FlowTableByName(ctx, "fld_1", "Events")
		if err != nil || counted.Rows != 3 {
			t.Fatalf("FlowTableByName = %+v, %v; want 3 rows", counted, err)
		}
		got, err := st.FlowTableByNameNoCount(ctx, "fld_1", "Events")
		if err != nil {
			t.Fatal(err)
		}
		counted.Rows = 0
		if *got != *counted {
			t.Errorf("FlowTableByNameNoCount = %+v; want %+v", got, counted)
		}
		if _, err := st.FlowTableByNameNoCount(ctx, "fld_1", "Other"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("an unknown table: err = %v; want ErrNotFound", err)
		}
	})
}

// TestSQLiteWALIsCutBack checks that one big transaction does not leave a
// WAL file of its size for good: once the WAL starts over, the file is
// cut back to 64 MiB.
func TestSQLiteWALIsCutBack(t *testing.T) {
	st := storetest.SQLite(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var seq int
	var name, path string
	if err := st.DB().QueryRowContext(ctx, `PRAGMA database_list`).Scan(&seq, &name, &path); err != nil {
		t.Fatal(err)
	}
	walSize := func() int64 {
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	const limit = store.WALSizeLimit
	big := strings.Repeat("x", 1<<20)
	if err := st.InTx(ctx, func(tx *store.Tx) error {
		for i := range 80 {
			if err := tx.PutSetting(ctx, fmt.Sprintf("big%d", i), big, time.Now()); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n := walSize(); n <= limit {
		t.Fatalf("the WAL after an 80 MB transaction is %d bytes; the test needs more than %d", n, int64(limit))
	}
	// Once a checkpoint has copied the WAL whole (SQLite's own after a
	// commit, or this one), the next write starts it over.
	for end := time.Now().Add(time.Minute); walSize() > limit; {
		if time.Now().After(end) {
			t.Fatalf("the WAL is %d bytes a minute after the transaction, want at most %d", walSize(), int64(limit))
		}
		if _, err := st.DB().ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
			t.Fatal(err)
		}
		if err := st.PutSetting(ctx, "small", "1", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
}
