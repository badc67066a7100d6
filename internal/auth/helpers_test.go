package auth

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/clocktest"
	"github.com/vigil-ispm/vigil/internal/logtest"
	"github.com/vigil-ispm/vigil/internal/store"
)

// testHash keeps tests fast: the cost parameters do not change the logic.
var testHash = HashParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

type testBundle struct {
	svc   *Service
	st    *store.Store
	clock *clocktest.Clock
	logs  *logtest.Buffer
	ctx   context.Context
}

// setup returns a Service over st with a hand-moved clock, cheap hashing and
// a captured debug log; mod may change the configuration.
func setup(t *testing.T, st *store.Store, mod func(*Config)) *testBundle {
	t.Helper()
	b := &testBundle{st: st, clock: clocktest.New(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)), logs: &logtest.Buffer{}, ctx: context.Background()}
	cfg := Config{
		Logger: slog.New(slog.NewTextHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    b.clock.Now,
		Hash:   testHash,
	}
	if mod != nil {
		mod(&cfg)
	}
	b.svc = New(st, cfg)
	return b
}

// user creates a user or fails the test.
func (b *testBundle) user(t *testing.T, name string, role Role, password string) *User {
	t.Helper()
	u, err := b.svc.CreateUser(b.ctx, name, role, password)
	if err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
	return u
}

// whileWriterBusy runs write in a transaction and, while that holds the
// write (on SQLite the one writer, on PostgreSQL the rows it changed), as
// a long scan does, makes two requests with use, which must succeed. Once
// the transaction has committed, it checks that the request gave up on
// recording what once, logged at debug, and the second did not try again.
func (b *testBundle) whileWriterBusy(t *testing.T, st *store.Store, what string, write func(tx *store.Tx) error, use func() error) {
	t.Helper()
	held, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- st.InTx(b.ctx, func(tx *store.Tx) error {
			if err := write(tx); err != nil {
				return err
			}
			close(held)
			<-release
			return nil
		})
	}()
	select {
	case <-held:
	case err := <-done:
		t.Fatalf("the write to hold failed: %v", err)
	}
	for range 2 {
		if err := use(); err != nil {
			close(release)
			t.Fatalf("a request while the writer is busy: %v", err)
		}
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	logs := b.logs.String()
	if n := strings.Count(logs, what+" not recorded"); n != 1 || strings.Contains(logs, "could not record "+what) {
		t.Fatalf("want one try given up on while the writer was busy, logged at debug; logs:\n%s", logs)
	}
}
