package store

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStmts bounds the statements a stmtCache keeps. Queries built with
// a variable number of placeholders (an IN list) are many strings; past the
// bound they run unprepared, as before.
const maxCachedStmts = 256

// stmtCache keeps SQLite's statements prepared outside transactions. The
// pure-Go SQLite compiles a statement on every call otherwise, and for the
// short reads of the invocation path (an endpoint's flow, an execution's
// row) compiling costs as much as running: about 40 % of a synchronous
// invocation's server time in vigil bench's CPU profile. database/sql
// prepares each statement again on every connection it runs on, once.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache { return &stmtCache{db: db, m: map[string]*sql.Stmt{}} }

// get returns q prepared, or nil when the cache is full or q does not
// prepare (the caller then runs q as it is, and gets its error there).
func (s *stmtCache) get(ctx context.Context, q string) *sql.Stmt {
	s.mu.Lock()
	st, full := s.m[q], len(s.m) >= maxCachedStmts
	s.mu.Unlock()
	if st != nil || full {
		return st
	}
	st, err := s.db.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.m[q]; old != nil {
		st.Close()
		return old
	}
	s.m[q] = st
	return st
}

// close closes every kept statement.
func (s *stmtCache) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for q, st := range s.m {
		st.Close()
		delete(s.m, q)
	}
}

// txStmts keeps the statements prepared in one SQLite transaction, so that
// a statement run again in it (a scan's inserts, one per issue and event; a
// batch's writes of the same kind from many callers) is compiled once:
// compiling was about a fifth of the server's CPU in vigil bench's chain.
// They are prepared on the transaction's own connection, never waiting for
// another, and database/sql closes them when the transaction ends.
type txStmts struct {
	tx *sql.Tx
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func newTxStmts(tx *sql.Tx) *txStmts { return &txStmts{tx: tx, m: map[string]*sql.Stmt{}} }

// get returns q prepared in the transaction, or nil when too many are kept
// or q does not prepare (the caller then runs q as it is).
func (t *txStmts) get(ctx context.Context, q string) *sql.Stmt {
	t.mu.Lock()
	defer t.mu.Unlock()
	if st := t.m[q]; st != nil {
		return st
	}
	if len(t.m) >= maxCachedStmts {
		return nil
	}
	st, err := t.tx.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	t.m[q] = st
	return st
}
