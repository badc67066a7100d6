package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestListenHearsNotifyAcrossALostConnection checks, on PostgreSQL, that
// a listener hears what is sent once Listen returned, and hears again
// after its connection is cut (the database restarted, say): it opens a
// new one by itself.
func TestListenHearsNotifyAcrossALostConnection(t *testing.T) {
	st := storetest.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	heard := make(chan string, 16)
	channel := "vigil_test_" + id.Token(8)
	if err := st.Listen(ctx, channel, func(p string) { heard <- p }); err != nil {
		t.Fatal(err)
	}
	if err := st.Notify(ctx, channel, "one"); err != nil {
		t.Fatal(err)
	}
	if got := <-heard; got != "one" {
		t.Fatalf("heard %q, want one", got)
	}
	var cut int
	if err := st.DB().QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN %' || $1 || '%'`, channel).Scan(&cut); err != nil || cut != 1 {
		t.Fatalf("cut %d listening connections, %v; want 1", cut, err)
	}
	// What is sent while the connection is lost is missed: send until
	// the new connection hears.
	for {
		if err := st.Notify(ctx, channel, "two"); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-heard:
			if got != "two" {
				t.Fatalf("heard %q, want two", got)
			}
			return
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("the listener did not hear again after its connection was cut")
		}
	}
}

// TestNotifyAloneOnSQLite: on SQLite, where a server is alone on its
// database, Notify and Listen do nothing and fail nothing.
func TestNotifyAloneOnSQLite(t *testing.T) {
	st := storetest.SQLite(t)
	ctx := context.Background()
	if err := st.Listen(ctx, store.ExecutionCancelled, func(string) { t.Error("heard a notification on SQLite") }); err != nil {
		t.Fatal(err)
	}
	if err := st.Notify(ctx, store.ExecutionCancelled, "exe_1"); err != nil {
		t.Fatal(err)
	}
}

// TestNotifyStaysInItsSchema: deployments sharing one PostgreSQL database,
// each in a schema of its own, do not hear each other's notifications,
// which span the database.
func TestNotifyStaysInItsSchema(t *testing.T) {
	mine, theirs := storetest.Postgres(t), storetest.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	heard := make(chan string, 16)
	if err := mine.Listen(ctx, store.ExecutionCancelled, func(p string) { heard <- p }); err != nil {
		t.Fatal(err)
	}
	if err := theirs.Notify(ctx, store.ExecutionCancelled, "theirs"); err != nil {
		t.Fatal(err)
	}
	if err := mine.Notify(ctx, store.ExecutionCancelled, "mine"); err != nil {
		t.Fatal(err)
	}
	// Notifications arrive in the order they were committed: "theirs",
	// sent first, would come before "mine".
	if got := <-heard; got != "mine" {
		t.Fatalf("heard %q first, want mine", got)
	}
}
