package store

import (
	"context"
	"database/sql"
	"time"
)

// Connection is a saved vendor connection. CredentialsSealed holds
// secret.Box output; this package never sees the plaintext.
type Connection struct {
	ID                string
	Name              string
	Kind              string
	SettingsJSON      string
	CredentialsSealed string
	DryRun            bool
	// LastTestAt is zero until the connection is first tested.
	LastTestAt      time.Time
	LastTestOK      bool
	LastTestMessage string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

const connectionCols = `id, name, kind, settings, credentials_sealed, dry_run, last_test_at, last_test_ok,
	last_test_message, created_at, updated_at`

func scanConnection(scan func(...any) error) (*Connection, error) {
	var c Connection
	err := scan(&c.ID, &c.Name, &c.Kind, &c.SettingsJSON, &c.CredentialsSealed, &c.DryRun, scanTime(&c.LastTestAt),
		&c.LastTestOK, &c.LastTestMessage, scanTime(&c.CreatedAt), scanTime(&c.UpdatedAt))
	if err != nil {
		return nil, err
	}
	return &c, nil
}

func (q *Queries) connections(ctx context.Context, where string, args ...any) ([]*Connection, error) {
	var out []*Connection
	err := q.c.query(ctx, `SELECT `+connectionCols+` FROM vigil_connection `+where+` ORDER BY lower(name), id`, args,
		func(r *sql.Rows) error {
			c, err := scanConnection(r.Scan)
			if err == nil {
				out = append(out, c)
			}
			return err
		})
	return out, err
}

// Connections lists every connection by name.
func (q *Queries) Connections(ctx context.Context) ([]*Connection, error) {
	return q.connections(ctx, "")
}

// ConnectionByName returns the connection with that name, compared without
// case (names are unique that way), or ErrNotFound.
func (q *Queries) ConnectionByName(ctx context.Context, name string) (*Connection, error) {
	out, err := q.connections(ctx, `WHERE lower(name) = lower($1)`, name)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, ErrNotFound
	}
	return out[0], nil
}

// ConnectionByID returns the connection with that id, or ErrNotFound.
func (q *Queries) ConnectionByID(ctx context.Context, id string) (*Connection, error) {
	out, err := q.connections(ctx, `WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, ErrNotFound
	}
	return out[0], nil
}

// CreateConnection inserts c; a name already taken (in any case) gives
// ErrConflict.
func (q *Queries) CreateConnection(ctx context.Context, c *Connection) error {
	_, err := q.c.exec(ctx, `INSERT INTO vigil_connection (id, name, kind, settings, credentials_sealed, dry_run,
		created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		c.ID, c.Name, c.Kind, c.SettingsJSON, c.CredentialsSealed, c.DryRun, c.CreatedAt, c.UpdatedAt)
	return err
}

// UpdateConnection saves c's name, settings, credentials and dry-run switch,
// or returns ErrNotFound. The kind never changes. A name already taken by
// another connection gives ErrConflict.
func (q *Queries) UpdateConnection(ctx context.Context, c *Connection) error {
	res, err := q.c.exec(ctx, `UPDATE vigil_connection SET name = $1, settings = $2, credentials_sealed = $3,
		dry_run = $4, updated_at = $5 WHERE id = $6`,
		c.Name, c.SettingsJSON, c.CredentialsSealed, c.DryRun, c.UpdatedAt, c.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// SetConnectionTest records the outcome of a Test connection, or returns
// ErrNotFound.
func (q *Queries) SetConnectionTest(ctx context.Context, id string, at time.Time, ok bool, message string) error {
	res, err := q.c.exec(ctx, `UPDATE vigil_connection SET last_test_at = $1, last_test_ok = $2, last_test_message = $3
		WHERE id = $4`, at, ok, message, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteConnection removes the connection, or returns ErrNotFound.
func (q *Queries) DeleteConnection(ctx context.Context, id string) error {
	res, err := q.c.exec(ctx, `DELETE FROM vigil_connection WHERE id = $1`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
