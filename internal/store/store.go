// Package store owns Vigil's SQL: it opens SQLite or PostgreSQL, applies the
// embedded migrations, and runs the queries of every aggregate (one file each).
//
// Both databases run the same schema and the same statements. Statements are
// written with PostgreSQL's $1 placeholders, which SQLite accepts too; the few
// differences (column types, time encoding) are handled here so that no other
// package needs to know which database it is talking to.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Dialect says which database a Store talks to.
type Dialect int

const (
	// SQLite is the embedded default: one file in the data directory.
	SQLite Dialect = iota
	// Postgres is PostgreSQL 13 or later, for several nodes sharing the work.
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// ErrNotFound is returned when a query by id or name matches no row. Callers
// test for it with errors.Is.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a write would break a uniqueness rule, such as a
// second user with the same name.
var ErrConflict = errors.New("already exists")

// Config says which database to open. Its zero value is not usable: URL is required.
type Config struct {
	// URL is "sqlite:///path/to/vigil.db" (or "sqlite://relative/path") or
	// "postgres://user:pass@host:port/db?…". A plain file path is taken as SQLite.
	URL string
	// Schema, for PostgreSQL only, puts every table (Vigil's and River's) in
	// this schema instead of the connection's default. Tests use it to get a
	// throwaway schema each.
	Schema string
	// QueryTimeout bounds every statement run outside a caller's deadline.
	// Zero means 30 seconds.
	QueryTimeout time.Duration
}

// Store is an open database with Vigil's queries attached.
type Store struct {
	*Queries
	db      *sql.DB
	pool    *pgxpool.Pool // PostgreSQL only: River's worker driver needs pgx.
	dialect Dialect
	schema  string
	// batch groups writes on SQLite (see batcher); nil on PostgreSQL.
	batch *batcher
	// stmts keeps SQLite statements prepared for transactions (nil on
	// PostgreSQL).
	stmts *stmtCache
	// commits counts the write transactions committed (see Commits).
	commits atomic.Int64
	// reads, on SQLite, are the connections that statements outside a
	// transaction run on, with readStmts their prepared statements (see
	// openSQLite).
	reads     *sql.DB
	readStmts *stmtCache
}

// Commits counts the write transactions the store has committed: each
// InTx that succeeded and each write statement run outside one. On SQLite
// concurrent ones share a physical commit, yet each counts: a caller waits
// for each of its own in turn. Tests use it to count what an operation
// commits.
func (s *Store) Commits() int64 { return s.commits.Load() }

// Open connects to the database cfg names and checks that it answers. It does
// not migrate: call Migrate.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	dialect, dsn, err := parseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	timeout := cfg.QueryTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	s := &Store{dialect: dialect, schema: cfg.Schema}
	switch dialect {
	case SQLite:
		if err := os.MkdirAll(filepath.Dir(dsn), 0o700); err != nil {
			return nil, fmt.Errorf("cannot create the directory for the SQLite database %s: %w", dsn, err)
		}
		if err := s.openSQLite(dsn); err != nil {
			return nil, err
		}
	case Postgres:
		pcfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			return nil, fmt.Errorf("the PostgreSQL URL is not valid: %w", redactErr(err, dsn))
		}
		if cfg.Schema != "" {
			pcfg.ConnConfig.RuntimeParams["search_path"] = cfg.Schema
		}
		if pcfg.ConnConfig.ConnectTimeout == 0 {
			pcfg.ConnConfig.ConnectTimeout = 5 * time.Second
		}
		pool, err := pgxpool.NewWithConfig(ctx, pcfg)
		if err != nil {
			return nil, fmt.Errorf("cannot connect to PostgreSQL: %w", redactErr(err, dsn))
		}
		s.pool = pool
		s.db = stdlib.OpenDBFromPool(pool)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err = s.db.PingContext(pctx)
	if err == nil && s.reads != nil {
		err = s.reads.PingContext(pctx)
	}
	if err != nil {
		s.Close()
		if dialect == Postgres {
			return nil, fmt.Errorf("cannot reach PostgreSQL at %s: %w; check that the server is running and the URL is right", hostOf(dsn), redactErr(err, dsn))
		}
		return nil, fmt.Errorf("cannot open the SQLite database %s: %w; check that the data directory is writable", dsn, err)
	}
	c := conn{c: s.db, d: dialect, timeout: timeout, commits: &s.commits}
	if dialect == SQLite {
		s.stmts = newStmtCache(s.db)
		c.stmts = s.stmts
		s.batch = newBatcher(s.db, c)
		s.readStmts = newStmtCache(s.reads)
		c.c, c.stmts, c.b = s.reads, s.readStmts, s.batch
	}
	s.Queries = &Queries{c: c, d: dialect, owner: &leaseOwner{}}
	return s, nil
}

// openSQLite opens the SQLite database at dsn twice: s.db, whose
// connections the batcher's transactions and River write on, and s.reads,
// whose connections the statements outside a transaction run on. Writers
// wait for SQLite's one write lock holding a connection of their pool, up
// to the busy timeout; with one pool for both, a long write transaction
// (a scan's) with River's writers queued behind it left no connection for
// readers, and a page of the console or the transaction itself, reading
// outside it, waited up to 10 s for a writer to give up. In WAL mode
// readers need no lock, so on a pool of their own they never wait for
// writers.
func (s *Store) openSQLite(dsn string) error {
	if err := os.MkdirAll(filepath.Dir(dsn), 0o700); err != nil {
		return fmt.Errorf("cannot create the directory for the SQLite database %s: %w", dsn, err)
	}
	// WAL lets readers run beside the one writer; busy_timeout makes a
	// writer wait for the lock instead of failing; _txlock=immediate takes
	// the write lock at BEGIN, so two transactions never deadlock while
	// upgrading from read to write.
	//
	// journal_size_limit: SQLite reuses its WAL file from the start after
	// a checkpoint but never shrinks it, so one big transaction (a first
	// scan of 300,000 accounts left a 216 MB WAL beside a 214 MB database)
	// kept that much disk for good. With the limit, the file is cut back
	// to 64 MiB when the WAL starts over.
	q := "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)" +
		"&_pragma=journal_size_limit(" + strconv.Itoa(walSizeLimit) + ")&_txlock=immediate"
	// The writers' connections keep the pages a transaction changes in
	// memory until it commits. Every write runs in a savepoint of the
	// batcher's transaction, so SQLite copies each page it first changes
	// into a statement journal, a temporary file by default: in a scan's
	// transaction (about 100,000 accounts written) those writes, and the
	// dirty pages spilled from the default 2 MB page cache to the WAL
	// before the commit (then read back), were seconds of waiting on
	// pwrite and pread. In memory the journal costs only the copies, and
	// the cache (up to 64 MiB a connection) holds a scan's changes.
	writes := "&_pragma=temp_store(MEMORY)&_pragma=cache_size(-65536)"
	for _, db := range []**sql.DB{&s.db, &s.reads} {
		dq := q
		if db == &s.db {
			dq += writes
		}
		h, err := sql.Open("sqlite", "file:"+dsn+dq)
		if err != nil {
			return fmt.Errorf("cannot open the SQLite database %s: %w", dsn, err)
		}
		// database/sql keeps two idle connections by default: under load
		// the other two were closed as soon as they were put back and
		// opened again on the next query (the driver's open, its pragmas,
		// and every statement prepared again on the new connection).
		h.SetMaxOpenConns(sqliteConns)
		h.SetMaxIdleConns(sqliteConns)
		*db = h
	}
	return nil
}

// walSizeLimit is the size in bytes SQLite cuts its WAL file back to.
const walSizeLimit = 64 << 20

// sqliteConns is how many connections each of the two SQLite pools opens
// at most, and keeps open.
const sqliteConns = 4

// parseURL maps a database URL to its dialect and the driver's connection string.
func parseURL(raw string) (Dialect, string, error) {
	switch {
	case raw == "":
		return 0, "", errors.New("no database URL given; use --database sqlite://PATH or postgres://…")
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		return Postgres, raw, nil
	case strings.HasPrefix(raw, "sqlite://"):
		p := strings.TrimPrefix(raw, "sqlite://")
		if p == "" {
			return 0, "", errors.New("the SQLite URL names no file; use sqlite:///path/to/vigil.db")
		}
		return SQLite, p, nil
	case strings.HasPrefix(raw, "file:"):
		return SQLite, strings.TrimPrefix(raw, "file:"), nil
	case !strings.Contains(raw, "://"):
		return SQLite, raw, nil
	}
	scheme, _, _ := strings.Cut(raw, "://")
	return 0, "", fmt.Errorf("unknown database scheme %q; use sqlite:// or postgres://", scheme)
}

// SQLitePath returns the file an SQLite database URL names; ok is false
// for a PostgreSQL URL. Backup and restore work on the file itself.
func SQLitePath(rawURL string) (path string, ok bool, err error) {
	d, dsn, err := parseURL(rawURL)
	if err != nil {
		return "", false, err
	}
	if d != SQLite {
		return "", false, nil
	}
	return dsn, true, nil
}

// hostOf returns host:port of a PostgreSQL URL, for messages that must not
// show the password.
func hostOf(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		return "the configured address"
	}
	return u.Host
}

// redactErr removes a password that a driver error may quote back.
func redactErr(err error, dsn string) error {
	msg := oneLine(err.Error())
	if u, perr := url.Parse(dsn); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
	}
	if msg == err.Error() {
		return err
	}
	return &cleanError{msg: msg, err: err}
}

// cleanError is an error shown with another message (one line, no
// password) that still unwraps to the driver's error.
type cleanError struct {
	msg string
	err error
}

func (e *cleanError) Error() string { return e.msg }
func (e *cleanError) Unwrap() error { return e.err }

// oneLine joins the lines of a driver's message (pgx lists every address
// it tried on a line of its own, often the same line twice when it tries
// TLS and then plain) into one, without repeats, so that an error reads as
// one sentence.
func oneLine(s string) string {
	if !strings.Contains(s, "\n") {
		return s
	}
	var parts []string
	seen := map[string]bool{}
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimRight(strings.TrimSpace(l), ":")
		if l == "" || seen[l] {
			continue
		}
		seen[l] = true
		parts = append(parts, l)
	}
	return strings.Join(parts, ": ")
}

// Dialect reports which database s talks to.
func (s *Store) Dialect() Dialect { return s.dialect }

// DB returns the database/sql handle, for River's database/sql drivers.
func (s *Store) DB() *sql.DB { return s.db }

// Pool returns the pgx pool on PostgreSQL and nil on SQLite; River's
// PostgreSQL worker driver needs it.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Schema is the PostgreSQL schema the store was opened in ("" for the default).
func (s *Store) Schema() string { return s.schema }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close releases the connections.
func (s *Store) Close() error {
	var err error
	if s.batch != nil {
		s.batch.close()
	}
	if s.stmts != nil {
		s.stmts.close()
	}
	if s.readStmts != nil {
		s.readStmts.close()
	}
	if s.db != nil {
		err = s.db.Close()
	}
	if s.reads != nil {
		err = errors.Join(err, s.reads.Close())
	}
	if s.pool != nil {
		s.pool.Close()
	}
	return err
}

// Tx is a transaction with Vigil's queries attached. Its SQL method exposes the
// underlying *sql.Tx so that River jobs can be inserted in the same transaction
// as the data that causes them: both commit or neither does.
type Tx struct {
	*Queries
	tx *sql.Tx
	// after holds the AfterCommit functions of the writes in tx.
	after []func()
}

// SQL returns the underlying transaction.
func (tx *Tx) SQL() *sql.Tx { return tx.tx }

// AfterCommit runs fn once tx's writes are committed, and never if they
// are rolled back: work that must see them (waking a worker for a job
// just queued) starts at once instead of at a poll. fn runs on the
// committing goroutine, so it must not block.
func (tx *Tx) AfterCommit(fn func()) { tx.after = append(tx.after, fn) }

// committed runs the AfterCommit functions.
func (tx *Tx) committed() {
	for _, fn := range tx.after {
		fn()
	}
	tx.after = nil
}

// InTx runs fn in a transaction, committing if fn returns nil and rolling back
// otherwise (and on panic). Once fn returned nil the commit runs to its end
// even if ctx ends meanwhile: a caller that gives up (a request whose
// client went away) must not be told its write failed when its COMMIT
// reached the database anyway. Such a write was left in place unknown to
// its writer: an execution stored claimed by this node, never run, until
// its lease ran out. fn's own statements still end with ctx.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	if s.batch != nil {
		return s.batch.do(ctx, fn) // the batcher counts the commit
	}
	stx, err := s.db.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	tx := &Tx{tx: stx, Queries: &Queries{c: conn{c: stx, d: s.dialect, timeout: s.c.timeout}, d: s.dialect, owner: s.owner}}
	if s.stmts != nil {
		tx.c.stmts, tx.c.tx, tx.c.txStmts = s.stmts, stx, &txStmts{}
	}
	defer func() {
		if p := recover(); p != nil {
			_ = stx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = stx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = stx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	s.commits.Add(1)
	tx.committed()
	return nil
}
