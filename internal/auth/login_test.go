package auth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

const goodPassword = "purple-otter-harbour-42"

func TestLogin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		alice := b.user(t, "Alice", RoleIssueViewer, goodPassword)
		if alice.Name != "alice" {
			t.Errorf("stored name %q; want lower case", alice.Name)
		}
		off := b.user(t, "off", RoleIssueViewer, goodPassword)
		off2 := true
		if _, err := b.svc.UpdateUser(b.ctx, off.ID, UserUpdate{Disabled: &off2}); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name, user, password string
			ok                   bool
		}{
			{"right password", "alice", goodPassword, true},
			{"name in another case", " ALICE ", goodPassword, true},
			{"wrong password", "alice", goodPassword + "x", false},
			{"empty password", "alice", "", false},
			{"unknown user", "bob", goodPassword, false},
			{"disabled user", "off", goodPassword, false},
		}
		for _, tt := range tests {
			u, err := b.svc.Login(b.ctx, tt.user, tt.password, "")
			if tt.ok {
				if err != nil || u.ID != alice.ID {
					t.Errorf("%s: Login = %v, %v", tt.name, u, err)
				}
				continue
			}
			// One error for every kind of failure: callers cannot tell them apart.
			if !errors.Is(err, ErrInvalidCredentials) || u != nil {
				t.Errorf("%s: Login = %v, %v; want ErrInvalidCredentials", tt.name, u, err)
			}
		}
	})
}

func TestLoginLockout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		b.user(t, "alice", RoleIssueViewer, goodPassword)
		fail := func(n int, ip string) {
			t.Helper()
			for range n {
				if _, err := b.svc.Login(b.ctx, "alice", "wrong password!", ip); !errors.Is(err, ErrInvalidCredentials) {
					t.Fatalf("failed attempt: %v", err)
				}
			}
		}
		locked := func(want time.Duration, ip string) {
			t.Helper()
			_, err := b.svc.Login(b.ctx, "alice", goodPassword, ip)
			var le *LockedError
			if !errors.As(err, &le) || le.RetryAfter != want {
				t.Fatalf("Login with the right password while locked = %v; want a %s lock-out", err, want)
			}
		}
		fail(4, "192.0.2.1")
		// Four failures do not lock; a success clears them.
		if _, err := b.svc.Login(b.ctx, "alice", goodPassword, "192.0.2.1"); err != nil {
			t.Fatalf("after 4 failures: %v", err)
		}
		fail(5, "192.0.2.1")
		locked(30*time.Second, "192.0.2.9") // the name is locked from any address
		b.clock.Add(10 * time.Second)
		locked(20*time.Second, "192.0.2.1")
		b.clock.Add(21 * time.Second)
		// The lock-out is over; one more failure doubles it.
		fail(1, "192.0.2.1")
		locked(time.Minute, "192.0.2.1")
		b.clock.Add(time.Minute)
		fail(1, "192.0.2.1")
		locked(2*time.Minute, "192.0.2.1")
		b.clock.Add(2 * time.Minute)
		if _, err := b.svc.Login(b.ctx, "alice", goodPassword, "192.0.2.1"); err != nil {
			t.Fatalf("after the lock-out: %v", err)
		}
		// The success forgot the failures: five more are needed for a lock.
		fail(4, "192.0.2.1")
		if _, err := b.svc.Login(b.ctx, "alice", goodPassword, "192.0.2.1"); err != nil {
			t.Fatalf("after a success and 4 failures: %v", err)
		}
		if !strings.Contains(b.logs.String(), "sign-in refused: locked out") {
			t.Error("the lock-out was not logged")
		}
	})
}

func TestLoginLockoutCapAndForget(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, func(c *Config) {
			c.Limits = LoginLimits{UserFailures: 2, Lockout: time.Minute, MaxLockout: 3 * time.Minute, Forget: 10 * time.Minute}
		})
		b.user(t, "alice", RoleIssueViewer, goodPassword)
		// retry reads the lock-out without attempting a sign-in, which
		// would change it.
		retry := func() time.Duration {
			th, err := st.LoginThrottle(b.ctx, "user:alice")
			if errors.Is(err, store.ErrNotFound) || th != nil && !th.LockedUntil.After(b.clock.Now()) {
				return 0
			}
			if err != nil {
				t.Fatal(err)
			}
			return th.LockedUntil.Sub(b.clock.Now())
		}
		wrong := func() { b.svc.Login(b.ctx, "alice", "wrong password!", "") }
		wrong()
		b.clock.Add(11 * time.Minute) // the first failure is forgotten
		wrong()
		if got := retry(); got != 0 {
			t.Fatalf("locked after failures 11 minutes apart: %s", got)
		}
		wrong() // two within Forget: locked
		for i, want := range []time.Duration{time.Minute, 2 * time.Minute, 3 * time.Minute, 3 * time.Minute} {
			if got := retry(); got != want {
				t.Fatalf("lock-out %d = %s; want %s", i, got, want)
			}
			b.clock.Add(want)
			wrong()
		}
	})
}

func TestLoginLockoutByAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, func(c *Config) { c.Limits.IPFailures = 6 })
		b.user(t, "alice", RoleIssueViewer, goodPassword)
		// One address tries many names, none more than the per-name limit.
		for i := range 6 {
			name := string(rune('a'+i)) + "-guess"
			if _, err := b.svc.Login(b.ctx, name, "wrong password!", "198.51.100.7"); !errors.Is(err, ErrInvalidCredentials) {
				t.Fatalf("attempt %d: %v", i, err)
			}
		}
		var le *LockedError
		if _, err := b.svc.Login(b.ctx, "alice", goodPassword, "198.51.100.7"); !errors.As(err, &le) {
			t.Fatalf("the address is not locked out: %v", err)
		}
		// Another address is not affected.
		if _, err := b.svc.Login(b.ctx, "alice", goodPassword, "198.51.100.8"); err != nil {
			t.Fatalf("another address: %v", err)
		}
		// Unknown names are not logged (they may be a mistyped password).
		if strings.Contains(b.logs.String(), "-guess") {
			t.Errorf("an unknown user name reached the log:\n%s", b.logs)
		}
		if err := b.svc.Housekeep(b.ctx); err != nil {
			t.Fatal(err)
		}
		b.clock.Add(2 * time.Hour)
		if err := b.svc.Housekeep(b.ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := st.LoginThrottle(b.ctx, "ip:198.51.100.7"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("stale failures were kept: %v", err)
		}
	})
}

func TestLoginRehashesOldParameters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		u := b.user(t, "alice", RoleIssueViewer, goodPassword)
		stronger := testHash
		stronger.Time = 2
		b2 := New(st, Config{Now: b.clock.Now, Hash: stronger})
		if _, err := b2.Login(b.ctx, "alice", goodPassword, ""); err != nil {
			t.Fatal(err)
		}
		row, err := st.User(b.ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(row.PasswordHash, ",t=2,") {
			t.Errorf("hash not upgraded: %s", row.PasswordHash)
		}
		if _, err := b2.Login(b.ctx, "alice", goodPassword, ""); err != nil {
			t.Errorf("login after the upgrade: %v", err)
		}
	})
}

func TestCreateUserValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		b.user(t, "taken", RoleIssueViewer, goodPassword)
		tests := []struct {
			name, user string
			role       Role
			password   string
			field      string
		}{
			{"empty name", "", RoleIssueViewer, goodPassword, "name"},
			{"space in name", "a b", RoleIssueViewer, goodPassword, "name"},
			{"long name", strings.Repeat("a", 65), RoleIssueViewer, goodPassword, "name"},
			{"unknown role", "carol", Role("root"), goodPassword, "role"},
			{"short password", "carol", RoleIssueViewer, "short", "password"},
		}
		for _, tt := range tests {
			_, err := b.svc.CreateUser(b.ctx, tt.user, tt.role, tt.password)
			var inv *InvalidError
			if !errors.As(err, &inv) || inv.Field != tt.field {
				t.Errorf("%s: err = %v; want an InvalidError on %s", tt.name, err, tt.field)
			}
		}
		_, err := b.svc.CreateUser(b.ctx, "TAKEN", RoleIssueViewer, goodPassword)
		var conflict *ConflictError
		if !errors.As(err, &conflict) {
			t.Errorf("duplicate name: %v", err)
		}
	})
}

func TestBootstrap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		pw, err := b.svc.Bootstrap(b.ctx)
		if err != nil || pw == "" {
			t.Fatalf("Bootstrap = %q, %v", pw, err)
		}
		u, err := b.svc.Login(b.ctx, BootstrapName, pw, "")
		if err != nil || u.Role != RoleSuperAdmin {
			t.Fatalf("login as the bootstrap admin: %v, %v", u, err)
		}
		if again, err := b.svc.Bootstrap(b.ctx); err != nil || again != "" {
			t.Errorf("second Bootstrap = %q, %v; want nothing", again, err)
		}
		if strings.Contains(b.logs.String(), pw) {
			t.Error("Bootstrap logged the password itself")
		}
	})
}

func TestLastSuperAdminStays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		root := b.user(t, "root", RoleSuperAdmin, goodPassword)
		yes, viewer := true, RoleIssueViewer
		for name, up := range map[string]UserUpdate{"disable": {Disabled: &yes}, "demote": {Role: &viewer}} {
			if _, err := b.svc.UpdateUser(b.ctx, root.ID, up); err == nil {
				t.Errorf("%s the last super_admin: allowed", name)
			}
		}
		second := b.user(t, "second", RoleSuperAdmin, goodPassword)
		if _, err := b.svc.UpdateUser(b.ctx, root.ID, UserUpdate{Role: &viewer}); err != nil {
			t.Errorf("demote one of two super_admins: %v", err)
		}
		if _, err := b.svc.UpdateUser(b.ctx, second.ID, UserUpdate{Disabled: &yes}); err == nil {
			t.Error("disabled the last super_admin")
		}
		if _, err := b.svc.UpdateUser(b.ctx, "usr_missing", UserUpdate{Role: &viewer}); !errors.Is(err, ErrNotFound) {
			t.Errorf("update a missing user: %v", err)
		}
	})
}

// TestLoginConcurrentGuesses checks that guesses racing each other are
// still stopped at the limit: with one password check at a time, exactly
// UserFailures attempts are checked and the rest are refused unchecked.
func TestLoginConcurrentGuesses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, func(c *Config) { c.MaxConcurrentHashes = 1 })
		b.user(t, "alice", RoleIssueViewer, goodPassword)
		const n = 16
		errs := make(chan error, n)
		for range n {
			go func() {
				_, err := b.svc.Login(b.ctx, "alice", "a wrong guess!", "")
				errs <- err
			}()
		}
		var invalid, locked int
		for range n {
			err := <-errs
			var le *LockedError
			switch {
			case errors.Is(err, ErrInvalidCredentials):
				invalid++
			case errors.As(err, &le):
				locked++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		if invalid != 5 || locked != n-5 {
			t.Errorf("%d guesses checked, %d refused; want 5 and %d", invalid, locked, n-5)
		}
	})
}
