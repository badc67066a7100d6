package auth

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

func TestSessionExpiry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil) // 12 h idle, 7 days absolute
		u := b.user(t, "alice", RoleIssueViewer, goodPassword)
		valid := func(token string) bool {
			t.Helper()
			got, err := b.svc.SessionUser(b.ctx, token)
			if err != nil && !errors.Is(err, errNoSession) {
				t.Fatal(err)
			}
			if err == nil && got.ID != u.ID {
				t.Fatalf("session of %s; want %s", got.ID, u.ID)
			}
			return err == nil
		}

		token, end, err := b.svc.StartSession(b.ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if want := b.clock.Now().Add(7 * 24 * time.Hour); !end.Equal(want) {
			t.Errorf("absolute end %s; want %s", end, want)
		}
		row, _ := st.Session(b.ctx, hashToken(token))
		if row == nil || row.TokenHash == token || len(row.TokenHash) != 64 {
			t.Fatalf("stored session %+v: want only the SHA-256 of the token", row)
		}
		// Use every 11 hours: the idle timeout slides, up to the absolute end.
		for elapsed := time.Duration(0); elapsed+11*time.Hour < 7*24*time.Hour; elapsed += 11 * time.Hour {
			b.clock.Add(11 * time.Hour)
			if !valid(token) {
				t.Fatalf("session ended after %s of regular use", elapsed+11*time.Hour)
			}
		}
		b.clock.Add(11 * time.Hour)
		if valid(token) {
			t.Fatal("session outlived its absolute end")
		}

		idle, _, _ := b.svc.StartSession(b.ctx, u)
		b.clock.Add(12*time.Hour - time.Second)
		if !valid(idle) {
			t.Fatal("session ended before its idle timeout")
		}
		b.clock.Add(12 * time.Hour)
		if valid(idle) {
			t.Fatal("session outlived 12 idle hours")
		}
		if _, err := st.Session(b.ctx, hashToken(idle)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expired session kept: %v", err)
		}
	})
}

func TestSessionEnds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		u := b.user(t, "alice", RoleIssueViewer, goodPassword)
		second := b.user(t, "root", RoleSuperAdmin, goodPassword)
		start := func() string {
			tok, _, err := b.svc.StartSession(b.ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		tests := []struct {
			name string
			end  func(token string) error
		}{
			{"sign out", func(tok string) error { return b.svc.EndSession(b.ctx, tok) }},
			{"password change", func(string) error {
				pw := "another long password"
				_, err := b.svc.UpdateUser(b.ctx, u.ID, UserUpdate{Password: &pw})
				return err
			}},
			{"disabled", func(string) error {
				yes := true
				_, err := b.svc.UpdateUser(b.ctx, u.ID, UserUpdate{Disabled: &yes})
				return err
			}},
		}
		for _, tt := range tests {
			tok := start()
			other, _, _ := b.svc.StartSession(b.ctx, second)
			if err := tt.end(tok); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if _, err := b.svc.SessionUser(b.ctx, tok); !errors.Is(err, errNoSession) {
				t.Errorf("%s: session still valid (%v)", tt.name, err)
			}
			if _, err := b.svc.SessionUser(b.ctx, other); err != nil {
				t.Errorf("%s: another user's session ended too: %v", tt.name, err)
			}
		}
		for _, junk := range []string{"", "x", "UPPERCASE" + string(make([]byte, 43)), "'; DROP TABLE vigil_session; --"} {
			if _, err := b.svc.SessionUser(b.ctx, junk); !errors.Is(err, errNoSession) {
				t.Errorf("SessionUser(%q) = %v", junk, err)
			}
		}
	})
}

// TestSessionWhileWriterBusy holds a write on the session's row (on
// SQLite the one writer, on PostgreSQL the row's lock) as a long scan
// does: a page asked for with the session is answered without sliding its
// expiry, does not try again on every request, and slides it once the
// writer is free and a minute has passed.
func TestSessionWhileWriterBusy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		u := b.user(t, "alice", RoleIssueViewer, goodPassword)
		token, _, err := b.svc.StartSession(b.ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		h := hashToken(token)
		b.clock.Add(10 * time.Minute) // the expiry is due to slide
		b.whileWriterBusy(t, st, "session activity", func(tx *store.Tx) error {
			sess, err := tx.Session(b.ctx, h)
			if err != nil {
				return err
			}
			return tx.ExtendSession(b.ctx, h, sess.ExpiresAt.Add(time.Second))
		}, func() error {
			got, err := b.svc.SessionUser(b.ctx, token)
			if err == nil && got.ID != u.ID {
				err = fmt.Errorf("the session is %s's", got.ID)
			}
			return err
		})
		b.clock.Add(touchInterval)
		if _, err := b.svc.SessionUser(b.ctx, token); err != nil {
			t.Fatal(err)
		}
		if sess, err := st.Session(b.ctx, h); err != nil || !sess.ExpiresAt.Equal(b.clock.Now().Add(12*time.Hour)) {
			t.Fatalf("session = %+v, %v; want it to expire at %s", sess, err, b.clock.Now().Add(12*time.Hour))
		}
	})
}
