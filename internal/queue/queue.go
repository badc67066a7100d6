// Package queue runs Vigil's background jobs on River, over whichever database
// the store opened.
//
// Jobs are inserted with InsertTx in the same transaction as the data that
// causes them, so a job exists if and only if its cause committed: this is how
// Vigil loses nothing on a crash. The packages that own a kind of job register
// its worker on the Workers value before New is called.
//
// On SQLite one River client both inserts and works jobs, and its
// notifications stay in the process (see localDriver). On PostgreSQL the
// working client uses pgx (LISTEN/NOTIFY, fast fetching), while inserts go
// through a second, insert-only client over database/sql, because the store's
// transactions are database/sql transactions on both databases.
package queue

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/vigil-ispm/vigil/internal/store"
)

// Config tunes the queue. Its zero value means the defaults.
type Config struct {
	// ID names this client; River records it in each job it works
	// (attempted_by). Default: River's own (host name and time).
	ID string
	// Workers holds every registered job kind. Required to work jobs; a nil
	// Workers makes an insert-only queue (the CLI's management commands).
	Workers *river.Workers
	// Queues maps queue names to their worker counts. Default: "default" with 10.
	Queues map[string]int
	// PeriodicJobs are scheduled by the leader node only.
	PeriodicJobs []*river.PeriodicJob
	// Logger receives River's own logs. Default: discard below warnings.
	Logger *slog.Logger
	// FetchPollInterval is how often idle workers look for jobs when no
	// notification arrives. Default: River's (1 s); tests shorten it.
	FetchPollInterval time.Duration
	// FetchCooldown is the shortest time between two fetches, and between
	// two insert notifications of a queue. Default: River's (100 ms), or
	// FetchPollInterval when that is shorter.
	FetchCooldown time.Duration
	// Middleware wraps every job a worker runs (metrics use it).
	Middleware []rivertype.Middleware
	// SoftStop is how long the jobs running when Start's context ends may
	// go on: fetching stops at once, and their contexts end only after
	// SoftStop (or at Stop's deadline). Without it, the end of Start's
	// context cancels them at once, as River does by default.
	SoftStop time.Duration
}

// Queue inserts jobs and, once started, works them.
type Queue struct {
	inserter *river.Client[*sql.Tx]
	worker   interface {
		Start(context.Context) error
		Stop(context.Context) error
		StopAndCancel(context.Context) error
	}
	canWork bool
}

// New builds the River client(s) for st. It does not start working jobs.
func New(st *store.Store, cfg Config) (*Queue, error) {
	rc := &river.Config{
		ID:                cfg.ID,
		Logger:            cfg.Logger,
		Schema:            st.Schema(),
		PeriodicJobs:      cfg.PeriodicJobs,
		FetchPollInterval: cfg.FetchPollInterval,
		Middleware:        cfg.Middleware,
		JobTimeout:        -1, // each worker sets its own timeout
		SoftStopTimeout:   cfg.SoftStop,
	}
	if d := cfg.FetchPollInterval; d > 0 && d < 100*time.Millisecond {
		rc.FetchCooldown = d
	}
	if d := cfg.FetchCooldown; d > 0 && (rc.FetchCooldown == 0 || d < rc.FetchCooldown) {
		rc.FetchCooldown = d
	}
	if rc.Logger == nil {
		rc.Logger = slog.New(slog.DiscardHandler)
	}
	q := &Queue{}
	if cfg.Workers != nil {
		rc.Workers = cfg.Workers
		rc.Queues = map[string]river.QueueConfig{}
		if len(cfg.Queues) == 0 {
			cfg.Queues = map[string]int{river.QueueDefault: 10}
		}
		for name, n := range cfg.Queues {
			rc.Queues[name] = river.QueueConfig{MaxWorkers: n}
		}
		q.canWork = true
	}
	switch st.Dialect() {
	case store.SQLite:
		c, err := river.NewClient(newLocalDriver(st.DB()), rc)
		if err != nil {
			return nil, fmt.Errorf("job queue: %w", err)
		}
		q.inserter, q.worker = c, c
	case store.Postgres:
		ins, err := river.NewClient(riverdatabasesql.New(st.DB()), &river.Config{Logger: rc.Logger, Schema: rc.Schema, FetchCooldown: rc.FetchCooldown})
		if err != nil {
			return nil, fmt.Errorf("job queue: %w", err)
		}
		q.inserter = ins
		if q.canWork {
			var w *river.Client[pgx.Tx]
			w, err = river.NewClient(riverpgxv5.New(st.Pool()), rc)
			if err != nil {
				return nil, fmt.Errorf("job queue: %w", err)
			}
			q.worker = w
		}
	}
	return q, nil
}

// InsertTx adds a job in tx: it becomes visible to workers when tx commits
// and never exists if tx rolls back.
func (q *Queue) InsertTx(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	// On SQLite the insert's notification goes out when tx commits.
	res, err := q.inserter.InsertTx(context.WithValue(ctx, storeTxKey{}, tx), tx.SQL(), args, opts)
	if err != nil {
		return nil, fmt.Errorf("insert %s job: %w", args.Kind(), err)
	}
	return res, nil
}

// InsertManyTx adds jobs in tx as InsertTx does, in one statement: River
// prepares each insert anew, which on SQLite cost a single job's insert
// more than the insert itself.
func (q *Queue) InsertManyTx(ctx context.Context, tx *store.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	res, err := q.inserter.InsertManyTx(context.WithValue(ctx, storeTxKey{}, tx), tx.SQL(), params)
	if err != nil {
		return nil, fmt.Errorf("insert %d jobs: %w", len(params), err)
	}
	return res, nil
}

// TxInserter inserts a job in a store transaction: a *Queue, or a
// caller's wrapper of one.
type TxInserter interface {
	InsertTx(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// InsertAll inserts the jobs of params in tx through ins, in one statement
// when ins can (InsertManyTx, as a *Queue does), one at a time otherwise,
// and returns their results in the order of params.
func InsertAll(ctx context.Context, ins TxInserter, tx *store.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	if len(params) == 0 {
		return nil, nil
	}
	type manyInserter interface {
		InsertManyTx(ctx context.Context, tx *store.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
	}
	if m, ok := ins.(manyInserter); ok {
		return m.InsertManyTx(ctx, tx, params)
	}
	out := make([]*rivertype.JobInsertResult, len(params))
	for i, p := range params {
		res, err := ins.InsertTx(ctx, tx, p.Args, p.InsertOpts)
		if err != nil {
			return nil, err
		}
		out[i] = res
	}
	return out, nil
}

// Insert adds a job outside any transaction of the caller.
func (q *Queue) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	res, err := q.inserter.Insert(ctx, args, opts)
	if err != nil {
		return nil, fmt.Errorf("insert %s job: %w", args.Kind(), err)
	}
	return res, nil
}

// Start begins working jobs. It is an error on an insert-only queue.
func (q *Queue) Start(ctx context.Context) error {
	if !q.canWork {
		return fmt.Errorf("job queue: this queue was built without workers and cannot work jobs")
	}
	return q.worker.Start(ctx)
}

// Stop stops fetching new jobs and waits for running ones to finish until ctx
// ends; then it cancels them, and River hands their jobs back to be retried.
func (q *Queue) Stop(ctx context.Context) error {
	if !q.canWork {
		return nil
	}
	err := q.worker.Stop(ctx)
	if ctx.Err() != nil {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return q.worker.StopAndCancel(cctx)
	}
	return err
}
