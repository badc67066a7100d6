package store

import (
	"context"
	"database/sql"
	"time"
)

// APIToken is a credential sent as "Authorization: Bearer". TokenHash is
// the hex SHA-256 of the token; the token itself is never stored.
type APIToken struct {
	ID        string
	UserID    string
	Name      string
	TokenHash string
	CreatedAt time.Time
	// LastUsedAt is the zero time for a token never used.
	LastUsedAt time.Time
	// ExpiresAt is the zero time for a token that lasts until revoked.
	ExpiresAt time.Time
}

const apiTokenCols = `id, user_id, name, token_hash, created_at, last_used_at, expires_at` //nolint:gosec // G101: column names

func scanAPIToken(scan func(...any) error) (*APIToken, error) {
	var t APIToken
	if err := scan(&t.ID, &t.UserID, &t.Name, &t.TokenHash, scanTime(&t.CreatedAt), scanTime(&t.LastUsedAt), scanTime(&t.ExpiresAt)); err != nil {
		return nil, err
	}
	return &t, nil
}

func (q *Queries) oneAPIToken(ctx context.Context, where string, arg any) (*APIToken, error) {
	var t *APIToken
	err := q.c.query(ctx, `SELECT `+apiTokenCols+` FROM vigil_api_token WHERE `+where, []any{arg}, func(r *sql.Rows) error {
		var err error
		t, err = scanAPIToken(r.Scan)
		return err
	})
	if err == nil && t == nil {
		err = ErrNotFound
	}
	return t, err
}

// APIToken returns the token with the given id, or ErrNotFound.
func (q *Queries) APIToken(ctx context.Context, id string) (*APIToken, error) {
	return q.oneAPIToken(ctx, `id = $1`, id)
}

// APITokenByHash returns the token whose value hashes to tokenHash, or
// ErrNotFound.
func (q *Queries) APITokenByHash(ctx context.Context, tokenHash string) (*APIToken, error) {
	return q.oneAPIToken(ctx, `token_hash = $1`, tokenHash)
}

// APITokens lists the tokens of one user, or of every user when userID is
// empty, newest first.
func (q *Queries) APITokens(ctx context.Context, userID string) ([]*APIToken, error) {
	where, args := `user_id = $1`, []any{userID}
	if userID == "" {
		where, args = `1 = 1`, nil
	}
	var out []*APIToken
	err := q.c.query(ctx, `SELECT `+apiTokenCols+` FROM vigil_api_token WHERE `+where+` ORDER BY created_at DESC, id DESC`, args,
		func(r *sql.Rows) error {
			t, err := scanAPIToken(r.Scan)
			if err == nil {
				out = append(out, t)
			}
			return err
		})
	return out, err
}

// CreateAPIToken inserts t.
func (q *Queries) CreateAPIToken(ctx context.Context, t *APIToken) error {
	_, err := q.c.exec(ctx, `INSERT INTO vigil_api_token (`+apiTokenCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		t.ID, t.UserID, t.Name, t.TokenHash, t.CreatedAt, t.LastUsedAt, t.ExpiresAt)
	return err
}

// TouchAPIToken records that a token was used at now, unless it was already
// recorded as used since notBefore: at most one write per interval, however
// busy the token. It reports whether it wrote.
func (q *Queries) TouchAPIToken(ctx context.Context, id string, now, notBefore time.Time) (bool, error) {
	res, err := q.c.exec(ctx, `UPDATE vigil_api_token SET last_used_at = $1
		WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)`, now, id, notBefore)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// DeleteAPIToken revokes a token, or returns ErrNotFound.
func (q *Queries) DeleteAPIToken(ctx context.Context, id string) error {
	res, err := q.c.exec(ctx, `DELETE FROM vigil_api_token WHERE id = $1`, id)
	return touchedOne(res, err)
}
