package store

import (
	"context"
	"database/sql"
	"time"
)

// User is an account of the console and API. PasswordHash is an encoded
// argon2id hash (empty for accounts that cannot sign in with a password).
type User struct {
	ID           string
	Name         string
	Role         string
	PasswordHash string
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// ExternalSubject is the identity-provider account the user signs in
	// with ("ISSUER#SUB"), empty for none; two users never share one.
	ExternalSubject string
}

const userCols = `id, name, role, password_hash, disabled, created_at, updated_at, external_subject`

func scanUser(scan func(...any) error) (*User, error) {
	var u User
	var sub sql.NullString
	if err := scan(&u.ID, &u.Name, &u.Role, &u.PasswordHash, &u.Disabled, scanTime(&u.CreatedAt), scanTime(&u.UpdatedAt), &sub); err != nil {
		return nil, err
	}
	u.ExternalSubject = sub.String
	return &u, nil
}

func (q *Queries) oneUser(ctx context.Context, where string, arg any) (*User, error) {
	var u *User
	err := q.c.query(ctx, `SELECT `+userCols+` FROM vigil_user WHERE `+where, []any{arg}, func(r *sql.Rows) error {
		var err error
		u, err = scanUser(r.Scan)
		return err
	})
	if err == nil && u == nil {
		err = ErrNotFound
	}
	return u, err
}

// User returns the user with the given id, or ErrNotFound.
func (q *Queries) User(ctx context.Context, id string) (*User, error) {
	return q.oneUser(ctx, `id = $1`, id)
}

// UserByName returns the user with the given name, or ErrNotFound.
func (q *Queries) UserByName(ctx context.Context, name string) (*User, error) {
	return q.oneUser(ctx, `name = $1`, name)
}

// UserByExternalSubject returns the user bound to an identity-provider
// account, or ErrNotFound.
func (q *Queries) UserByExternalSubject(ctx context.Context, subject string) (*User, error) {
	return q.oneUser(ctx, `external_subject = $1`, subject)
}

// Users lists every user by name.
func (q *Queries) Users(ctx context.Context) ([]*User, error) {
	var out []*User
	err := q.c.query(ctx, `SELECT `+userCols+` FROM vigil_user ORDER BY name`, nil, func(r *sql.Rows) error {
		u, err := scanUser(r.Scan)
		if err == nil {
			out = append(out, u)
		}
		return err
	})
	return out, err
}

// CountUsers reports how many users exist, disabled ones included.
func (q *Queries) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := q.c.queryRow(ctx, `SELECT COUNT(*) FROM vigil_user`, nil, &n)
	return n, err
}

// CountActiveUsersWithRole reports how many enabled users hold role, so that
// the last administrator cannot be demoted or disabled.
func (q *Queries) CountActiveUsersWithRole(ctx context.Context, role string) (int, error) {
	var n int
	err := q.c.queryRow(ctx, `SELECT COUNT(*) FROM vigil_user WHERE role = $1 AND disabled = $2`, []any{role, false}, &n)
	return n, err
}

// CreateUser inserts u; a taken name or external subject gives
// ErrConflict.
func (q *Queries) CreateUser(ctx context.Context, u *User) error {
	_, err := q.c.exec(ctx, `INSERT INTO vigil_user (`+userCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		u.ID, u.Name, u.Role, u.PasswordHash, u.Disabled, u.CreatedAt, u.UpdatedAt, nullString(u.ExternalSubject))
	return err
}

// UpdateUser writes u's role, password hash, disabled flag, external
// subject and update time, or returns ErrNotFound (ErrConflict when another
// user holds the subject). The name and id never change.
func (q *Queries) UpdateUser(ctx context.Context, u *User) error {
	res, err := q.c.exec(ctx, `UPDATE vigil_user SET role = $1, password_hash = $2, disabled = $3, updated_at = $4, external_subject = $5 WHERE id = $6`,
		u.Role, u.PasswordHash, u.Disabled, u.UpdatedAt, nullString(u.ExternalSubject), u.ID)
	return touchedOne(res, err)
}

// ReplacePasswordHash swaps a user's password hash for one with new cost
// parameters, only if the hash is still old: a password changed meanwhile
// is left alone. It does not move updated_at, since nothing the user can
// see has changed.
func (q *Queries) ReplacePasswordHash(ctx context.Context, id, old, new string) error {
	_, err := q.c.exec(ctx, `UPDATE vigil_user SET password_hash = $1 WHERE id = $2 AND password_hash = $3`, new, id, old)
	return err
}

// touchedOne turns an UPDATE or DELETE that touched no row into ErrNotFound.
func touchedOne(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
