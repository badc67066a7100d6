package queue

import (
	"context"
	"database/sql"
	"errors"
	"sync"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/vigil-ispm/vigil/internal/store"
)

// SQLite has no LISTEN/NOTIFY, so River's SQLite driver writes each
// notification (a job inserted, a job cancelled, a leader resigning) to a
// table that its listener reads every 50 ms: twenty queries a second on
// an idle server, and a row written with every insert. A SQLite database
// is worked by one server process, so its River clients can hand their
// notifications to each other in memory instead: localDriver is River's
// SQLite driver with its notifications carried by a notifyHub.
//
// A notification sent in a transaction is held until that transaction
// commits, as PostgreSQL does, so that a worker woken by it finds the job:
// River's own transactions are begun through the driver, whose Commit
// sends them; Vigil's are the store's, where Queue.InsertTx asks for them
// with store.Tx.AfterCommit. Jobs inserted by another process (the CLI)
// wake no one: the workers find them by polling, every FetchPollInterval.
type localDriver struct {
	*riversqlite.Driver
	hub *notifyHub
}

func newLocalDriver(db *sql.DB) *localDriver {
	return &localDriver{Driver: riversqlite.New(db), hub: &notifyHub{listeners: map[*localListener]struct{}{}}}
}

// GetExecutor returns the SQLite executor with local notifications.
func (d *localDriver) GetExecutor() riverdriver.Executor {
	return &localExecutor{Executor: d.Driver.GetExecutor(), hub: d.hub}
}

// GetListener returns a listener of the hub.
func (d *localDriver) GetListener(params *riverdriver.GetListenenerParams) riverdriver.Listener {
	return &localListener{hub: d.hub, schema: params.Schema, wake: make(chan struct{}, 1)}
}

// UnwrapExecutor wraps a transaction of the caller, which the caller
// commits: its notifications go out when the store says it committed.
func (d *localDriver) UnwrapExecutor(tx *sql.Tx) riverdriver.ExecutorTx {
	return &localExecutorTx{ExecutorTx: d.Driver.UnwrapExecutor(tx), hub: d.hub}
}

// UnwrapTx returns the transaction under an executor this driver made.
func (d *localDriver) UnwrapTx(execTx riverdriver.ExecutorTx) *sql.Tx {
	if l, ok := execTx.(*localExecutorTx); ok {
		execTx = l.ExecutorTx
	}
	return d.Driver.UnwrapTx(execTx)
}

// notifyHub hands notifications to every connected listener of the
// process that listens to their topic.
type notifyHub struct {
	mu        sync.Mutex
	listeners map[*localListener]struct{}
}

func (h *notifyHub) publish(p *riverdriver.NotifyManyParams) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for l := range h.listeners {
		l.deliver(p)
	}
}

// localExecutor sends its notifications at once: outside a transaction a
// write is committed when it returns.
type localExecutor struct {
	riverdriver.Executor
	hub *notifyHub
}

// Begin begins a transaction whose notifications wait for its commit.
func (e *localExecutor) Begin(ctx context.Context) (riverdriver.ExecutorTx, error) {
	tx, err := e.Executor.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &localExecutorTx{ExecutorTx: tx, hub: e.hub, owned: true}, nil
}

// NotifyMany hands the notifications to the hub at once: outside a
// transaction there is nothing to wait for.
func (e *localExecutor) NotifyMany(_ context.Context, p *riverdriver.NotifyManyParams) error {
	if len(p.Payload) > 0 {
		e.hub.publish(p)
	}
	return nil
}

// localExecutorTx holds the notifications of a transaction until it
// commits. A transaction River began (owned) sends them on Commit, a
// savepoint hands them to its parent, and a caller's transaction sends
// them when the store.Tx that Queue.InsertTx put in the context commits.
type localExecutorTx struct {
	riverdriver.ExecutorTx
	hub    *notifyHub
	owned  bool
	parent *localExecutorTx

	mu      sync.Mutex
	pending []*riverdriver.NotifyManyParams
}

// Begin begins a savepoint whose notifications go to this transaction.
func (t *localExecutorTx) Begin(ctx context.Context) (riverdriver.ExecutorTx, error) {
	tx, err := t.ExecutorTx.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &localExecutorTx{ExecutorTx: tx, hub: t.hub, owned: true, parent: t}, nil
}

// NotifyMany holds the notifications until the transaction commits.
func (t *localExecutorTx) NotifyMany(ctx context.Context, p *riverdriver.NotifyManyParams) error {
	if len(p.Payload) == 0 {
		return nil
	}
	if t.owned {
		t.mu.Lock()
		t.pending = append(t.pending, p)
		t.mu.Unlock()
		return nil
	}
	if tx, ok := ctx.Value(storeTxKey{}).(*store.Tx); ok {
		tx.AfterCommit(func() { t.hub.publish(p) })
		return nil
	}
	// A transaction of the caller's that Vigil did not name: sent now, a
	// worker woken early finds nothing and the job waits for its poll.
	t.hub.publish(p)
	return nil
}

// Commit commits and then sends the held notifications (or hands them to
// the parent transaction, for a savepoint).
func (t *localExecutorTx) Commit(ctx context.Context) error {
	if err := t.ExecutorTx.Commit(ctx); err != nil {
		return err
	}
	t.mu.Lock()
	pending := t.pending
	t.pending = nil
	t.mu.Unlock()
	for _, p := range pending {
		if t.parent != nil {
			_ = t.parent.NotifyMany(ctx, p)
		} else {
			t.hub.publish(p)
		}
	}
	return nil
}

// Rollback rolls back and drops the held notifications.
func (t *localExecutorTx) Rollback(ctx context.Context) error {
	t.mu.Lock()
	t.pending = nil
	t.mu.Unlock()
	return t.ExecutorTx.Rollback(ctx)
}

// storeTxKey carries, in the context of an insert, the store transaction
// the insert runs in.
type storeTxKey struct{}

// localListener is one River client's subscription to the hub.
type localListener struct {
	hub    *notifyHub
	schema string
	// wake has room for one signal: a notification is waiting.
	wake chan struct{}

	mu        sync.Mutex
	connected bool
	topics    map[string]bool
	pending   []*riverdriver.Notification
}

var errNotConnected = errors.New("job queue: the listener is not connected")

// Connect subscribes the listener to the hub; there is no connection to open.
func (l *localListener) Connect(context.Context) error {
	l.mu.Lock()
	if l.connected {
		l.mu.Unlock()
		return errors.New("job queue: the listener is already connected")
	}
	l.connected, l.topics = true, map[string]bool{}
	l.mu.Unlock()
	l.hub.mu.Lock()
	l.hub.listeners[l] = struct{}{}
	l.hub.mu.Unlock()
	return nil
}

// Close unsubscribes the listener from the hub.
func (l *localListener) Close(context.Context) error {
	l.hub.mu.Lock()
	delete(l.hub.listeners, l)
	l.hub.mu.Unlock()
	l.mu.Lock()
	l.connected, l.topics, l.pending = false, nil, nil
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return nil
}

// Listen adds topic to what the listener receives.
func (l *localListener) Listen(_ context.Context, topic string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.connected {
		return errNotConnected
	}
	l.topics[topic] = true
	return nil
}

// Unlisten removes topic from what the listener receives.
func (l *localListener) Unlisten(_ context.Context, topic string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.connected {
		return errNotConnected
	}
	delete(l.topics, topic)
	return nil
}

// Ping answers at once: the hub is in this process.
func (l *localListener) Ping(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.connected {
		return errNotConnected
	}
	return nil
}

// Schema is the schema the listener was made for.
func (l *localListener) Schema() string { return l.schema }

// SetAfterConnectExec is for River's own tests of SQL listeners; there is
// no connection here to run anything on.
func (l *localListener) SetAfterConnectExec(string) {}

// deliver queues the notifications of a topic the listener listens to.
func (l *localListener) deliver(p *riverdriver.NotifyManyParams) {
	l.mu.Lock()
	if !l.topics[p.Topic] {
		l.mu.Unlock()
		return
	}
	for _, payload := range p.Payload {
		l.pending = append(l.pending, &riverdriver.Notification{Topic: p.Topic, Payload: payload})
	}
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// WaitForNotification returns the next notification, waiting for one
// without touching the database.
func (l *localListener) WaitForNotification(ctx context.Context) (*riverdriver.Notification, error) {
	for {
		l.mu.Lock()
		if !l.connected {
			l.mu.Unlock()
			return nil, errNotConnected
		}
		if len(l.pending) > 0 {
			n := l.pending[0]
			l.pending[0] = nil
			l.pending = l.pending[1:]
			l.mu.Unlock()
			return n, nil
		}
		l.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-l.wake:
		}
	}
}
