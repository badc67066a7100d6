package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"time"
)

// maxBatch bounds the writes one batch commits together.
const maxBatch = 256

// batchLinger is how long a batch waits for more writes when the one
// before it held several. Each commit writes a page of every index it
// touched and the database's first page, whatever the batch's size: with
// 64 callers invoking a flow at once the batches held about two writes,
// and those pages were most of what SQLite wrote (about 11 of every 14
// pages in the WAL) and then copied back at each checkpoint. Waiting this
// little lets a batch gather the writers already on their way. A caller
// writing alone never waits: its batches hold one write.
const batchLinger = 200 * time.Microsecond

// States of a batchOp.
const (
	opQueued int32 = iota
	opStarted
	opAbandoned
)

// batcher groups the writes of concurrent callers into shared SQLite
// transactions. SQLite has one writer at a time and a commit costs about
// as much as the writes it holds, so under load most of the time went to
// committing and to writers sleeping in SQLite's busy handler (up to
// 100 ms at a time) while another held the lock. One goroutine takes
// every write waiting, runs each in a savepoint of one transaction, so
// that one that fails is undone alone, commits once, and answers each
// caller only then: a write a caller saw succeed is durable as before.
// Writes run one after another, so their isolation is that of separate
// transactions run in turn.
type batcher struct {
	db      *sql.DB
	d       Dialect
	timeout conn
	ops     chan *batchOp
	stop    chan struct{}
	stopped chan struct{}
	// linger is batchLinger; tests set it longer.
	linger time.Duration
}

type batchOp struct {
	// state is opQueued until the batcher starts the op (opStarted), or
	// its caller gave up waiting first (opAbandoned).
	state atomic.Int32
	ctx   context.Context
	fn    func(tx *Tx) error
	done  chan batchResult
	err   error
	// panicked carries a panic of fn to its caller.
	panicked any
}

type batchResult struct {
	err      error
	panicked any
}

func newBatcher(db *sql.DB, c conn) *batcher {
	b := &batcher{db: db, d: c.d, timeout: c, ops: make(chan *batchOp, maxBatch), stop: make(chan struct{}), stopped: make(chan struct{}),
		linger: batchLinger}
	go b.loop()
	return b
}

// do runs fn in the next batch and returns once the batch committed (or
// fn failed). A panic in fn is raised again here.
func (b *batcher) do(ctx context.Context, fn func(tx *Tx) error) error {
	op := &batchOp{ctx: ctx, fn: fn, done: make(chan batchResult, 1)}
	qctx, cancel := b.timeout.ctx(ctx)
	defer cancel()
	select {
	case b.ops <- op:
	case <-qctx.Done():
		return qctx.Err()
	case <-b.stopped:
		return fmt.Errorf("the database is closed")
	}
	var r batchResult
	select {
	case r = <-op.done:
	case <-qctx.Done():
		if op.state.CompareAndSwap(opQueued, opAbandoned) {
			// Never started: a write made from inside another batched
			// write (which waits for itself) ends here, as SQLite's busy
			// timeout ended it before.
			return qctx.Err()
		}
		r = <-op.done
	}
	if r.panicked != nil {
		panic(r.panicked)
	}
	return r.err
}

func (b *batcher) close() {
	close(b.stop)
	<-b.stopped
}

func (b *batcher) loop() {
	defer close(b.stopped)
	batch := make([]*batchOp, 0, maxBatch)
	var linger *time.Timer
	for {
		prev := len(batch)
		select {
		case <-b.stop:
			return
		case op := <-b.ops:
			batch = append(batch[:0], op)
		}
	more:
		for len(batch) < maxBatch {
			select {
			case op := <-b.ops:
				batch = append(batch, op)
			default:
				break more
			}
		}
		if prev > 1 && len(batch) < maxBatch {
			// Writers are concurrent: wait a moment for those on their way.
			if linger == nil {
				linger = time.NewTimer(b.linger)
			} else {
				linger.Reset(b.linger)
			}
		wait:
			for len(batch) < maxBatch {
				select {
				case op := <-b.ops:
					batch = append(batch, op)
				case <-linger.C:
					break wait
				case <-b.stop: // answer what it holds, then stop
					break wait
				}
			}
			linger.Stop()
		}
		b.run(batch)
	}
}

// run runs a batch in one transaction and answers its callers.
func (b *batcher) run(batch []*batchOp) {
	// The transaction lives as long as its batch. A context on BeginTx
	// would roll it back when it ends, so a long batch on a loaded machine
	// lost its writes; each statement gets its own timeout instead.
	stx, err := b.db.BeginTx(context.Background(), nil)
	if err != nil {
		for _, op := range batch {
			op.done <- batchResult{err: fmt.Errorf("begin transaction: %w", err)}
		}
		return
	}
	c := conn{c: stx, d: b.d, timeout: b.timeout.timeout, stmts: b.timeout.stmts, tx: stx, txStmts: &txStmts{}}
	tx := &Tx{tx: stx, Queries: &Queries{c: c, d: b.d}}
	ok := 0
	// Each write starts only at its turn: a caller that gives up while an
	// earlier write of the batch runs (a big scan's, for seconds) is let
	// go, and its write skipped, rather than held to the batch's commit.
	// batch[:started] are the writes started so far.
	started := 0
	for i, op := range batch {
		if !op.state.CompareAndSwap(opQueued, opStarted) {
			continue // abandoned: no one waits for its answer
		}
		batch[started] = op
		started++
		if err := op.ctx.Err(); err != nil {
			op.err = err
			continue
		}
		if _, err := b.exec(c, "SAVEPOINT vigil_write"); err != nil {
			op.err = fmt.Errorf("begin transaction: %w", err)
			continue
		}
		mark := len(tx.after)
		op.panicked, op.err = call(op.fn, tx)
		if op.err != nil || op.panicked != nil {
			tx.after = tx.after[:mark] // undone with the write
			_, rerr := b.exec(c, "ROLLBACK TO SAVEPOINT vigil_write")
			if rerr != nil {
				// The transaction cannot be trusted any more: undo it all
				// (every writer gets rerr; a failed rollback ends it too),
				// and answer the writes not started yet with it as well.
				_ = stx.Rollback()
				for _, o := range batch[i+1:] {
					if o.state.CompareAndSwap(opQueued, opStarted) {
						batch[started] = o
						started++
					}
				}
				for _, o := range batch[:started] {
					if o.err == nil && o.panicked == nil {
						o.err = fmt.Errorf("roll back: %w", rerr)
					}
					o.done <- batchResult{err: o.err, panicked: o.panicked}
				}
				return
			}
		}
		if _, err := b.exec(c, "RELEASE SAVEPOINT vigil_write"); err != nil && op.err == nil {
			op.err = fmt.Errorf("commit transaction: %w", err)
			tx.after = tx.after[:mark]
		}
		if op.err == nil && op.panicked == nil {
			ok++
		}
	}
	var cerr error
	if ok > 0 {
		if err := stx.Commit(); err != nil {
			cerr = fmt.Errorf("commit transaction: %w", err)
		} else {
			// Counted before the AfterCommit functions run, as InTx
			// counts, so that a caller they wake sees its own commit
			// counted.
			if b.timeout.commits != nil {
				b.timeout.commits.Add(int64(ok))
			}
			tx.committed()
		}
	} else {
		_ = stx.Rollback() // nothing was written; a failed rollback ends the transaction too
	}
	for _, op := range batch[:started] {
		err := op.err
		if err == nil && op.panicked == nil {
			err = cerr
		}
		op.done <- batchResult{err: err, panicked: op.panicked}
	}
}

// exec runs one of the batch's own savepoint statements, prepared. They
// run without a deadline: each only marks or releases a point of the
// transaction, which already holds the write lock, and the driver watches
// a statement with a deadline from a goroutine of its own, two per write
// otherwise.
func (b *batcher) exec(c conn, q string) (sql.Result, error) {
	return c.execRaw(context.Background(), q, nil)
}

// call runs fn, turning a panic into a value for its caller.
func call(fn func(tx *Tx) error, tx *Tx) (panicked any, err error) {
	defer func() {
		if p := recover(); p != nil {
			panicked = p
		}
	}()
	return nil, fn(tx)
}
