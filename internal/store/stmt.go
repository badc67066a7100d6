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
	// preparing holds the statements being prepared in the background for
	// transactions (see inTx).
	preparing map[string]bool
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}, preparing: map[string]bool{}}
}

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

// inTx returns q prepared for the transaction tx. SQLite writes all run in
// the batcher's shared transactions, where each statement used to be
// compiled on every call: in vigil bench's CPU profile SQLite's parser was
// 18 % of the whole process. A statement the cache holds is bound to tx's
// connection (database/sql prepares it there once, then reuses it for every
// later transaction on that connection); one it does not hold yet is
// prepared in tx for this transaction, while the cache prepares it in the
// background: preparing it here on the database would need a second
// connection while tx holds one, and could wait for the very writers tx
// holds back. It returns nil when q does not prepare (the caller then runs
// it as it is and gets its error there).
func (s *stmtCache) inTx(ctx context.Context, tx *sql.Tx, local *txStmts, q string) *sql.Stmt {
	local.mu.Lock()
	defer local.mu.Unlock()
	if st := local.m[q]; st != nil {
		return st
	}
	s.mu.Lock()
	st, full := s.m[q], len(s.m)+len(s.preparing) >= maxCachedStmts
	start := st == nil && !full && !s.preparing[q]
	if start {
		s.preparing[q] = true
	}
	s.mu.Unlock()
	if start {
		go func() { //nolint:gosec // G118: the statement is kept for later callers, past this request
			s.get(context.Background(), q)
			s.mu.Lock()
			delete(s.preparing, q)
			s.mu.Unlock()
		}()
	}
	if st != nil {
		st = tx.StmtContext(ctx, st)
	} else {
		var err error
		if st, err = tx.PrepareContext(ctx, q); err != nil {
			return nil
		}
	}
	if local.m == nil {
		local.m = map[string]*sql.Stmt{}
	}
	local.m[q] = st
	return st
}

// txStmts are the statements one transaction has prepared; database/sql
// closes them when it ends.
type txStmts struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
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
