package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Login checks a user name and password, subject to the sign-in
// limits of the name and of clientIP (which may be empty when there is no
// client address, as on the command line). It returns ErrInvalidCredentials
// for an unknown name, a wrong password and a disabled account alike, and
// a *LockedError while either key is locked out. Neither the password nor
// whether the name exists ever reaches the log.
func (s *Service) Login(ctx context.Context, name, password, clientIP string) (*User, error) {
	name = normalizeName(name)
	keyName := name
	if len(keyName) > 64 { // longer than any valid name; bound the stored key
		keyName = keyName[:64]
	}
	keys := []throttleKey{{key: "user:" + keyName, limit: s.cfg.Limits.UserFailures}}
	if clientIP != "" {
		keys = append(keys, throttleKey{key: "ip:" + clientIP, limit: s.cfg.Limits.IPFailures})
	}
	// Taking the slot before reading the locks means that at most
	// MaxConcurrentHashes attempts can race past a lock-out being set.
	if err := s.acquireHashSlot(ctx); err != nil {
		return nil, err
	}
	defer s.releaseHashSlot()

	row, err := s.st.UserByName(ctx, name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("read user: %w", err)
	}
	// A name that matches no user is not logged: people sometimes type
	// their password into the name field.
	logUser := "(unknown)"
	if row != nil {
		logUser = row.Name
	}

	now := s.cfg.Now()
	for _, k := range keys {
		t, err := s.st.LoginThrottle(ctx, k.key)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read sign-in failures: %w", err)
		}
		if t.LockedUntil.After(now) {
			s.log.Warn("sign-in refused: locked out", "user", logUser, "client_ip", clientIP, "key", k.kind(), "until", t.LockedUntil)
			s.audit.Record(ctx, audit.Entry{Action: "auth.signin.failed", Outcome: audit.Failure,
				Actor: &audit.Actor{Kind: audit.ActorAnonymous, Address: clientIP}, Target: loginTarget(row),
				Details: map[string]any{"reason": "locked out"}})
			return nil, &LockedError{RetryAfter: t.LockedUntil.Sub(now)}
		}
	}

	ok, reason := false, "unknown user"
	if row != nil && row.PasswordHash != "" {
		ok, err = VerifyPassword(row.PasswordHash, password)
		switch {
		case err != nil:
			s.log.Error("stored password hash is unreadable; reset the password", "user", logUser, "user_id", row.ID)
			ok, reason = false, "unreadable hash"
		case !ok:
			reason = "wrong password"
		case row.Disabled:
			ok, reason = false, "account disabled"
		}
	} else {
		if row != nil {
			reason = "no password set"
		}
		// Take as long as a real check, so that timing does not tell
		// whether the name exists.
		_, _ = VerifyPassword(s.dummyHash(), password)
	}
	if !ok {
		if err := s.recordFailure(ctx, keys, now); err != nil {
			return nil, err
		}
		s.log.Warn("sign-in failed", "user", logUser, "client_ip", clientIP, "reason", reason)
		s.audit.Record(ctx, audit.Entry{Action: "auth.signin.failed", Outcome: audit.Failure,
			Actor: &audit.Actor{Kind: audit.ActorAnonymous, Address: clientIP}, Target: loginTarget(row),
			Details: map[string]any{"reason": reason}})
		return nil, ErrInvalidCredentials
	}

	if err := s.st.ClearLoginFailures(ctx, keys[0].key); err != nil {
		return nil, fmt.Errorf("clear sign-in failures: %w", err)
	}
	if needsRehash(row.PasswordHash, s.cfg.Hash) {
		if h, err := HashPassword(password, s.cfg.Hash); err == nil {
			if err := s.st.ReplacePasswordHash(ctx, row.ID, row.PasswordHash, h); err != nil {
				s.log.Warn("could not upgrade the password hash", "user_id", row.ID, "error", err)
			}
		}
	}
	s.log.Info("signed in", "user", logUser, "user_id", row.ID, "client_ip", clientIP)
	s.audit.Record(ctx, audit.Entry{Action: "auth.signin", Actor: signInActor(row, clientIP), Target: loginTarget(row),
		Details: map[string]any{"method": "password"}})
	return userFromRow(row), nil
}

// loginTarget names the account a sign-in tried. A name that matches no
// user is not recorded, as it is not logged: people sometimes type their
// password into the name field.
func loginTarget(row *store.User) audit.Target {
	if row == nil {
		return userTarget("", "(unknown)")
	}
	return userTarget(row.ID, row.Name)
}

// throttleKey is one thing sign-in failures are counted against.
type throttleKey struct {
	key   string
	limit int
}

func (k throttleKey) kind() string {
	if k.key[0] == 'u' {
		return "user"
	}
	return "ip"
}

// recordFailure counts a failure against every key and locks out those over
// their limit, for Lockout doubled per failure beyond it, up to MaxLockout.
func (s *Service) recordFailure(ctx context.Context, keys []throttleKey, now time.Time) error {
	l := s.cfg.Limits
	for _, k := range keys {
		n, err := s.st.AddLoginFailure(ctx, k.key, now, now.Add(-l.Forget))
		if err != nil {
			return fmt.Errorf("record sign-in failure: %w", err)
		}
		if n < k.limit {
			continue
		}
		d := lockoutFor(n-k.limit, l.Lockout, l.MaxLockout)
		if err := s.st.LockLogin(ctx, k.key, now.Add(d)); err != nil {
			return fmt.Errorf("record sign-in lock-out: %w", err)
		}
	}
	return nil
}

// lockoutFor is base doubled over times, capped at max.
func lockoutFor(over int, base, max time.Duration) time.Duration {
	d := base
	for range over {
		if d >= max/2 {
			return max
		}
		d *= 2
	}
	return min(d, max)
}

// dummyHash is a hash of a random password made with the current
// parameters, checked in place of a missing user's.
func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() {
		s.dummy, _ = HashPassword(GeneratePassword(), s.cfg.Hash)
	})
	return s.dummy
}
