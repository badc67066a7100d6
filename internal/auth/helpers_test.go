package auth

import (
	"context"
	"log/slog"
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
