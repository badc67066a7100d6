// Package flows keeps flows as stored things and runs them durably.
//
// Flows live in folders. A flow has a stable id, is named by its
// document's namespace and name (unique per folder), and is on or off;
// every save is a new version holding the full document, and every
// execution records which version ran. Tables belong to folders too.
//
// An execution is a row plus a River job inserted in the same transaction
// (Start), so an execution exists if and only if its job does. The worker
// runs the engine with a journal kept in the database: every completed
// task with an effect is committed before the next one starts, with the
// tasks without effect before it, so when a process dies the execution is
// queued again (its lease runs out and maintenance notices) and resumes
// from its last committed task. A task interrupted mid-way runs again:
// side effects are at least once.
//
// Helper flows are flows without a trigger, called by flows of the same
// folder with run: workflow. They must be on, as in Okta Workflows. A
// helper started without waiting (await: false) is an execution of its
// own, started through the same durable path.
package flows

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/queue"
	"github.com/vigil-ispm/vigil/internal/secret"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Defaults of Config.
const (
	DefaultRetention        = 30 * 24 * time.Hour
	DefaultRetentionEvery   = time.Hour
	DefaultLease            = time.Minute
	DefaultMaintenanceEvery = time.Minute
	DefaultMaxAttempts      = 10
	DefaultMaxDuration      = time.Hour
	// DefaultMaxInput bounds an execution's input, measured as JSON.
	DefaultMaxInput = 1 << 20
)

// JobInserter inserts River jobs in a store transaction: the
// application's *queue.Queue, or a test's wrapper of one.
type JobInserter = queue.TxInserter

// Checker tells whether the connections a flow names exist, so that a
// flow that could not run is not turned on. The connections package
// provides it; without one every flow may be turned on.
type Checker interface {
	// CheckConnections returns an error naming the first connection of
	// refs that is not set, such as `connection "Okta" (okta) is not set;
	// add it with vigil connections add okta --name Okta`.
	CheckConnections(ctx context.Context, folderID string, refs []ConnectionRef) error
}

// FaultWatcher is told of every execution that faults, inside the
// transaction that records the fault, so that what it starts (a failure
// notification's job) commits with the fault or not at all.
type FaultWatcher interface {
	ExecutionFaulted(ctx context.Context, tx *store.Tx, e *store.FlowExecution) error
}

// Config tunes a Service. Zero values mean the defaults.
type Config struct {
	// Catalog holds the custom functions flows call. New registers the
	// tables and execution functions on it; connectors register theirs.
	// Default: a new catalog.
	Catalog *catalog.Catalog
	// HTTPClient sends the HTTP requests of flows; it must be the
	// SSRF-guarded client. Without one, HTTP calls fault.
	HTTPClient *http.Client
	// Secrets gives flows their secrets ($secret); none when nil.
	Secrets engine.SecretSource
	// Checker checks connections before a flow is turned on.
	Checker Checker
	// Queue inserts execution jobs; it may be set later with SetQueue.
	Queue JobInserter
	// QueueName is the River queue executions run on. Default "default".
	QueueName string
	// Limits bound each execution (see engine.Limits). MaxDuration bounds
	// an execution from its first start, across resumes (default 1 h).
	Limits engine.Limits
	// MaxInput bounds an execution's input as JSON. Default 1 MiB.
	MaxInput int
	// Retention is how long the history of finished executions is kept.
	// Default 30 days.
	Retention time.Duration
	// RetentionSetting, when set, is asked at each retention run for the
	// retention to use, so that a change an administrator saves applies
	// without a restart; a value of zero or less keeps Retention.
	RetentionSetting func(ctx context.Context) time.Duration
	// RetentionEvery is how often the retention job runs. Default 1 h.
	RetentionEvery time.Duration
	// Lease is how long a worker holds an execution without renewing
	// (it renews every third of it); an execution whose lease ran out
	// is queued again by maintenance. Default 1 min.
	Lease time.Duration
	// MaintenanceEvery is how often maintenance looks for executions
	// whose worker died. Default 1 min.
	MaintenanceEvery time.Duration
	// MaxAttempts bounds how often a job is retried after errors of the
	// database (not faults of the flow). Default 10.
	MaxAttempts int
	// Now is the clock of records and leases. Default time.Now.
	Now func() time.Time
	// Clock is the engine's clock (waits, retries). Default real time.
	Clock engine.Clock
	// RuntimeVersion is reported to flows as $runtime.version.
	RuntimeVersion string
	// Logger receives execution logs. Default: discard.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Catalog == nil {
		c.Catalog = catalog.New()
	}
	if c.QueueName == "" {
		c.QueueName = river.QueueDefault
	}
	if c.Limits.MaxDuration <= 0 {
		c.Limits.MaxDuration = DefaultMaxDuration
	}
	if c.MaxInput <= 0 {
		c.MaxInput = DefaultMaxInput
	}
	if c.Retention <= 0 {
		c.Retention = DefaultRetention
	}
	if c.RetentionEvery <= 0 {
		c.RetentionEvery = DefaultRetentionEvery
	}
	if c.Lease <= 0 {
		c.Lease = DefaultLease
	}
	if c.MaintenanceEvery <= 0 {
		c.MaintenanceEvery = DefaultMaintenanceEvery
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Service manages folders, flows, executions and tables. It is safe for
// concurrent use.
type Service struct {
	st     *store.Store
	box    *secret.Box
	cfg    Config
	queue  JobInserter
	tables *dbTables
	cache  *workflowCache
	rowIDs func() string
	faults FaultWatcher

	mu      sync.Mutex
	waiters map[string][]*waiter
	// running holds the executions this node runs, to stop them when
	// they are cancelled.
	running map[string]*runningHere
	// heard holds, for heardFor, the cancels heard of executions not
	// running here: another node's notice can arrive between an
	// execution's insert and its run on this node, and execute then stops
	// it before its first task.
	heard map[string]time.Time
	// local runs executions in-process; nil until RunLocally.
	local   atomic.Pointer[localPool]
	backlog backlogCounter
	// flows keeps the flow rows invocations read (see cachedFlow).
	flows store.RowCache[store.Flow]
	// flowsByName keeps the helper flows executions start, by folder,
	// namespace and name (see cachedFlowByName).
	flowsByName store.RowCache[store.Flow]
	// early holds the waiters of synchronous invocations, subscribed
	// before their execution started (see invokeFlows.Start).
	early map[string]*earlyWaiter
	// audit records the changes people make to flows and folders.
	audit *audit.Recorder
	// bufs holds the buffers execution data is encoded in (see
	// withJSON): an execution encodes a few kilobytes several times.
	bufs sync.Pool
}

// New returns a Service over st, sealing execution data with box. It
// registers the tables and execution functions on cfg.Catalog unless
// they are there already.
func New(st *store.Store, box *secret.Box, cfg Config) *Service {
	cfg = cfg.withDefaults()
	s := &Service{st: st, box: box, cfg: cfg, queue: cfg.Queue, cache: newWorkflowCache(256),
		flows:       store.RowCache[store.Flow]{Age: flowCacheAge, Size: flowCacheSize},
		flowsByName: store.RowCache[store.Flow]{Age: flowCacheAge, Size: flowCacheSize},
		waiters:     map[string][]*waiter{}, early: map[string]*earlyWaiter{}, running: map[string]*runningHere{}, heard: map[string]time.Time{},
		audit: audit.NewRecorder(st, cfg.Logger, cfg.Now)}
	s.rowIDs = catalog.NewRowIDs(cfg.Now)
	s.tables = &dbTables{s: s}
	if !cfg.Catalog.Lookup("tables.createRow") {
		if err := catalog.RegisterTables(cfg.Catalog, s.tables); err != nil {
			panic(err) // a programming error: the names are fixed
		}
	}
	if !cfg.Catalog.Lookup("approval.request") {
		if err := catalog.RegisterApproval(cfg.Catalog, &dbApprovals{s: s}); err != nil {
			panic(err)
		}
	}
	if !cfg.Catalog.Lookup("execution.setResult") {
		if err := catalog.RegisterExecution(cfg.Catalog); err != nil {
			panic(err)
		}
	}
	return s
}

// SetQueue sets the job inserter (the queue is built after the workers
// are registered).
func (s *Service) SetQueue(q JobInserter) { s.queue = q }

// WatchFaults sets who is told of each execution that faults (the failure
// notifications, built after the service because they send through the
// connector actions). Call it before the queue starts.
func (s *Service) WatchFaults(w FaultWatcher) { s.faults = w }

// Catalog returns the catalog flows call, for connectors to register on.
func (s *Service) Catalog() *catalog.Catalog { return s.cfg.Catalog }

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// Errors callers test with errors.Is.
var (
	// ErrFlowOff is returned when an execution of a flow that is off is
	// asked for.
	ErrFlowOff = errors.New("the flow is off")
	// ErrNotFound is returned when a folder, flow, table or execution
	// does not exist.
	ErrNotFound = store.ErrNotFound
	// ErrExists is returned when a name is taken.
	ErrExists = store.ErrConflict
	// ErrAmbiguous is returned when a flow reference matches flows in
	// several folders.
	ErrAmbiguous = errors.New("the reference matches several flows")
	// ErrNoQueue is returned by Start when no queue was set.
	ErrNoQueue = errors.New("executions cannot be queued: no job queue is configured")
	// ErrInvalid is wrapped by errors about bad input: a document that
	// does not validate, a bad name, a bad table definition.
	ErrInvalid = errors.New("invalid")
)

// invalidError is an error about bad input; errors.Is(err, ErrInvalid).
type invalidError struct{ err error }

func (e *invalidError) Error() string { return e.err.Error() }
func (e *invalidError) Unwrap() error { return e.err }

// Is makes errors.Is(err, ErrInvalid) true for every bad input.
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(err error) error { return &invalidError{err: err} }

// kindError is a message for people that tests as one of the sentinel
// errors with errors.Is, without the sentinel's text appended.
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }

// Is makes errors.Is match the error's kind, while Error shows only msg.
func (e *kindError) Is(target error) bool { return target == e.kind }

func kindErrorf(kind error, format string, args ...any) error {
	return &kindError{msg: fmt.Sprintf(format, args...), kind: kind}
}

// runningHere is a run of an execution on this node, in Service.running:
// a pointer, so that a run ends only its own entry.
type runningHere struct{ stop context.CancelCauseFunc }
