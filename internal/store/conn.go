package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// rawConn is what *sql.DB and *sql.Tx have in common.
type rawConn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Queries carries every aggregate's statements. A Store's Queries run on the
// database; a Tx's run inside the transaction.
type Queries struct {
	c conn
	d Dialect
	// owner is the node that leases taken through these queries name.
	owner *leaseOwner
}

// conn runs statements on a database or transaction, encoding arguments the
// same way for both dialects.
type conn struct {
	c       rawConn
	d       Dialect
	timeout time.Duration
	// b, on SQLite outside a transaction, runs each write in a batch.
	b *batcher
	// stmts, on SQLite, keeps statements prepared: reads outside a
	// transaction, and with tx every statement of the transaction.
	stmts *stmtCache
	// tx and txStmts, on SQLite in a transaction, are the transaction and
	// the statements it prepared.
	tx      *sql.Tx
	txStmts *txStmts
	// commits, outside a transaction, counts the writes run (Store.Commits).
	commits *atomic.Int64
}

// timeFormat is fixed-width so that SQLite, which stores times as text,
// compares and sorts them correctly.
const timeFormat = "2006-01-02T15:04:05.000000Z"

func (c conn) args(args []any) []any {
	for i, a := range args {
		switch v := a.(type) {
		case time.Time:
			args[i] = encodeTime(c.d, v)
		case *time.Time:
			if v == nil {
				args[i] = nil
			} else {
				args[i] = encodeTime(c.d, *v)
			}
		}
	}
	return args
}

func encodeTime(d Dialect, t time.Time) any {
	if t.IsZero() {
		return nil
	}
	t = t.UTC().Truncate(time.Microsecond)
	if d == SQLite {
		return t.Format(timeFormat)
	}
	return t
}

func (c conn) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, c.timeout)
}

func (c conn) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	if c.b != nil {
		var res sql.Result
		err := c.b.do(ctx, func(tx *Tx) error {
			var err error
			res, err = tx.c.execRaw(ctx, q, c.args(args))
			return err
		}) // the batcher counts the commit
		return res, mapErr(err)
	}
	res, err := c.execRaw(ctx, q, c.args(args))
	c.committed(err)
	return res, mapErr(err)
}

// committed counts a write run outside a transaction that succeeded.
func (c conn) committed(err error) {
	if err == nil && c.commits != nil {
		c.commits.Add(1)
	}
}

// execRaw runs q on c's database or transaction, prepared when c keeps
// statements for its transaction.
func (c conn) execRaw(ctx context.Context, q string, args []any) (sql.Result, error) {
	if c.tx != nil && c.stmts != nil {
		if st := c.stmts.inTx(ctx, c.tx, c.txStmts, q); st != nil {
			return st.ExecContext(ctx, args...)
		}
	}
	return c.c.ExecContext(ctx, q, args...)
}

// query runs q and calls scan for each row.
func (c conn) query(ctx context.Context, q string, args []any, scan func(*sql.Rows) error) error {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	var rows *sql.Rows
	var err error
	if st := c.stmt(ctx, q); st != nil {
		rows, err = st.QueryContext(ctx, c.args(args)...)
	} else {
		rows, err = c.c.QueryContext(ctx, q, c.args(args)...)
	}
	if err != nil {
		return mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return mapErr(rows.Err())
}

// queryWrite is query for a statement that writes and returns rows (an
// UPDATE … RETURNING). On SQLite outside a transaction it runs in the
// batcher's next transaction, as exec's writes do, not on a connection for
// reads, where it would hold that connection while it waits for the write
// lock in SQLite's busy handler.
func (c conn) queryWrite(ctx context.Context, q string, args []any, scan func(*sql.Rows) error) error {
	if c.b == nil {
		return c.query(ctx, q, args, scan)
	}
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	return c.b.do(ctx, func(tx *Tx) error { return tx.c.query(ctx, q, args, scan) }) // the batcher counts the commit
}

// queryRow runs q and scans its single row into dest, returning ErrNotFound
// when there is none.
func (c conn) queryRow(ctx context.Context, q string, args []any, dest ...any) error {
	ctx, cancel := c.ctx(ctx)
	defer cancel()
	var row *sql.Row
	if st := c.stmt(ctx, q); st != nil {
		row = st.QueryRowContext(ctx, c.args(args)...)
	} else {
		row = c.c.QueryRowContext(ctx, q, c.args(args)...)
	}
	return mapErr(row.Scan(dest...))
}

// stmt returns q prepared when this conn keeps statements, else nil.
func (c conn) stmt(ctx context.Context, q string) *sql.Stmt {
	switch {
	case c.stmts == nil:
		return nil
	case c.tx != nil:
		return c.stmts.inTx(ctx, c.tx, c.txStmts, q)
	}
	return c.stmts.get(ctx, q)
}

// mapErr turns each driver's "no rows" and "unique violation" into the
// package's sentinels.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return errors.Join(ErrConflict, err)
	}
	if strings.Contains(err.Error(), "UNIQUE constraint failed") {
		return errors.Join(ErrConflict, err)
	}
	return err
}

// Time scans a timestamp column of either dialect; NULL scans as the zero time.
type Time struct{ T *time.Time }

// Scan implements sql.Scanner.
func (t Time) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*t.T = time.Time{}
	case time.Time:
		*t.T = v.UTC()
	case string:
		return t.parse(v)
	case []byte:
		return t.parse(string(v))
	default:
		return errors.New("store: cannot scan a timestamp from this column type")
	}
	return nil
}

func (t Time) parse(s string) error {
	for _, layout := range []string{timeFormat, time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05"} {
		if v, err := time.Parse(layout, s); err == nil {
			*t.T = v.UTC()
			return nil
		}
	}
	return errors.New("store: cannot parse timestamp " + s)
}

// scanTime returns a scanner destination for a time.Time field.
func scanTime(t *time.Time) Time { return Time{T: t} }
