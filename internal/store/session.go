package store

import (
	"context"
	"database/sql"
	"time"
)

// Session is a signed-in browser. TokenHash is the hex SHA-256 of the cookie
// value; the value itself is never stored.
type Session struct {
	TokenHash string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CreateSession inserts s.
func (q *Queries) CreateSession(ctx context.Context, s *Session) error {
	_, err := q.c.exec(ctx, `INSERT INTO vigil_session (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		s.TokenHash, s.UserID, s.CreatedAt, s.ExpiresAt)
	return err
}

// Session returns the session whose token hashes to tokenHash, or
// ErrNotFound. Expired sessions are returned too: the caller decides.
func (q *Queries) Session(ctx context.Context, tokenHash string) (*Session, error) {
	var s *Session
	err := q.c.query(ctx, `SELECT token_hash, user_id, created_at, expires_at FROM vigil_session WHERE token_hash = $1`,
		[]any{tokenHash}, func(r *sql.Rows) error {
			var v Session
			if err := r.Scan(&v.TokenHash, &v.UserID, scanTime(&v.CreatedAt), scanTime(&v.ExpiresAt)); err != nil {
				return err
			}
			s = &v
			return nil
		})
	if err == nil && s == nil {
		err = ErrNotFound
	}
	return s, err
}

// ExtendSession moves a session's expiry to expiresAt, the sliding idle
// timeout. It never shortens a session and reports ErrNotFound when the
// session is gone.
func (q *Queries) ExtendSession(ctx context.Context, tokenHash string, expiresAt time.Time) error {
	res, err := q.c.exec(ctx, `UPDATE vigil_session SET expires_at = $1 WHERE token_hash = $2 AND expires_at < $1`,
		expiresAt, tokenHash)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	var one int
	return q.c.queryRow(ctx, `SELECT 1 FROM vigil_session WHERE token_hash = $1`, []any{tokenHash}, &one)
}

// DeleteSession removes one session (sign-out). Removing a session that is
// already gone is not an error.
func (q *Queries) DeleteSession(ctx context.Context, tokenHash string) error {
	_, err := q.c.exec(ctx, `DELETE FROM vigil_session WHERE token_hash = $1`, tokenHash)
	return err
}

// DeleteUserSessions signs a user out everywhere, for example after a
// password change or when the account is disabled.
func (q *Queries) DeleteUserSessions(ctx context.Context, userID string) (int64, error) {
	res, err := q.c.exec(ctx, `DELETE FROM vigil_session WHERE user_id = $1`, userID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// DeleteExpiredSessions removes sessions that ended before now and reports how many.
func (q *Queries) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := q.c.exec(ctx, `DELETE FROM vigil_session WHERE expires_at < $1`, now)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// LoginThrottle counts recent failed sign-ins for one key: "user:NAME" or
// "ip:ADDR".
type LoginThrottle struct {
	Key           string
	Failures      int
	LastFailureAt time.Time
	// LockedUntil is the zero time when the key is not locked out.
	LockedUntil time.Time
}

// LoginThrottle returns the failures recorded for key, or ErrNotFound when
// there are none.
func (q *Queries) LoginThrottle(ctx context.Context, key string) (*LoginThrottle, error) {
	var t LoginThrottle
	err := q.c.queryRow(ctx, `SELECT key, failures, last_failure_at, locked_until FROM vigil_login_throttle WHERE key = $1`,
		[]any{key}, &t.Key, &t.Failures, scanTime(&t.LastFailureAt), scanTime(&t.LockedUntil))
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// AddLoginFailure counts one more failed sign-in for key at now, atomically,
// and returns the new count. Failures older than forgetBefore are forgotten
// first, so the count restarts at 1 after a quiet period.
func (q *Queries) AddLoginFailure(ctx context.Context, key string, now, forgetBefore time.Time) (int, error) {
	var n int
	err := q.c.queryRow(ctx, `INSERT INTO vigil_login_throttle (key, failures, last_failure_at) VALUES ($1, 1, $2)
		ON CONFLICT (key) DO UPDATE SET
			failures = CASE WHEN vigil_login_throttle.last_failure_at < $3 THEN 1 ELSE vigil_login_throttle.failures + 1 END,
			last_failure_at = excluded.last_failure_at
		RETURNING failures`, []any{key, now, forgetBefore}, &n)
	return n, err
}

// LockLogin locks key out until the given time. A later lock already in
// place is kept.
func (q *Queries) LockLogin(ctx context.Context, key string, until time.Time) error {
	_, err := q.c.exec(ctx, `UPDATE vigil_login_throttle SET locked_until = $1
		WHERE key = $2 AND (locked_until IS NULL OR locked_until < $1)`, until, key)
	return err
}

// ClearLoginFailures forgets the failures of key, after a successful sign-in.
func (q *Queries) ClearLoginFailures(ctx context.Context, key string) error {
	_, err := q.c.exec(ctx, `DELETE FROM vigil_login_throttle WHERE key = $1`, key)
	return err
}

// DeleteStaleLoginThrottles removes keys whose last failure is older than
// before and whose lock-out (if any) has ended, and reports how many.
func (q *Queries) DeleteStaleLoginThrottles(ctx context.Context, before, now time.Time) (int64, error) {
	res, err := q.c.exec(ctx, `DELETE FROM vigil_login_throttle
		WHERE last_failure_at < $1 AND (locked_until IS NULL OR locked_until < $2)`, before, now)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
