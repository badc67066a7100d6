package flows

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-ispm/vigil/internal/queue"
	"github.com/vigil-ispm/vigil/internal/store"
)

// maintenanceArgs is the periodic job that queues again the executions
// whose worker died (their lease ran out) and expires the approval
// requests whose time is up.
type maintenanceArgs struct{}

// Kind names the job in River's job table.
func (maintenanceArgs) Kind() string { return "flow_maintenance" }

// maintain is the maintenance job's work: it queues again the executions
// whose lease ran out and expires the approval requests whose time is
// up, reporting both failures.
func (s *Service) maintain(ctx context.Context) error {
	_, err := s.Recover(ctx)
	if _, xerr := s.ExpireApprovals(ctx); xerr != nil {
		err = errors.Join(err, xerr)
	}
	return err
}

// retentionArgs is the periodic job that deletes the history of
// executions older than Config.Retention.
type retentionArgs struct{}

// Kind names the job in River's job table.
func (retentionArgs) Kind() string { return "flow_retention" }

// Register adds the flows' job kinds (flow_execution, flow_maintenance,
// flow_retention) to workers. The application also schedules
// PeriodicJobs.
func (s *Service) Register(workers *river.Workers) {
	river.AddWorker(workers, &runWorker{s: s})
	// A minute is ample for maintenance's few statements.
	river.AddWorker(workers, &queue.FuncWorker[maintenanceArgs]{Run: s.maintain, Limit: time.Minute})
	// Retention leaves ten minutes for a large first backlog of old
	// executions.
	river.AddWorker(workers, &queue.FuncWorker[retentionArgs]{Run: queue.Discard(s.Prune), Limit: 10 * time.Minute})
}

// PeriodicJobs returns maintenance (every Config.MaintenanceEvery and at
// start, so that executions cut short by a crash resume soon after a
// restart) and retention (every Config.RetentionEvery).
func (s *Service) PeriodicJobs() []*river.PeriodicJob {
	opts := &river.InsertOpts{Queue: s.cfg.QueueName}
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(s.cfg.MaintenanceEvery),
			func() (river.JobArgs, *river.InsertOpts) { return maintenanceArgs{}, opts },
			&river.PeriodicJobOpts{RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(s.cfg.RetentionEvery),
			func() (river.JobArgs, *river.InsertOpts) { return retentionArgs{}, opts },
			&river.PeriodicJobOpts{RunOnStart: true}),
	}
}

// Recover queues again, in a new generation, every running execution
// whose worker's lease ran out: the worker died, and its River job will
// not run again before River's own rescue, much later. The new job
// resumes the execution from its journal; the old job, if it ever runs,
// finds a newer generation and does nothing. It returns how many
// executions it queued, and is safe to run on several nodes at once and
// worth running at start-up.
func (s *Service) Recover(ctx context.Context) (int, error) {
	return s.recoverLeases(ctx, s.now())
}

// RecoverAtStart is Recover for a server that starts, before its workers
// do. With exclusive set (a server alone on its database: SQLite's data
// directory lock) every running execution was the dead process's, so each
// is queued again at once instead of when its lease runs out.
func (s *Service) RecoverAtStart(ctx context.Context, exclusive bool) (int, error) {
	leaseBefore := s.now()
	if exclusive {
		leaseBefore = leaseBefore.Add(100 * 365 * 24 * time.Hour)
	}
	return s.recoverLeases(ctx, leaseBefore)
}

// recoverBatch is how many executions recoverLeases reads at a time.
const recoverBatch = 500

// recoverLeases queues again the running executions whose lease ends before
// leaseBefore, or whose node died: all of them, a batch at a time, since a
// node that died may have held tens of thousands waiting in its line. An
// execution a worker claims meanwhile is not found again: its lease is
// new (Recover), or no worker of this node runs yet (RecoverAtStart).
func (s *Service) recoverLeases(ctx context.Context, leaseBefore time.Time) (int, error) {
	if s.queue == nil {
		return 0, ErrNoQueue
	}
	n := 0
	for {
		expired, err := s.st.ExpiredFlowExecutions(ctx, leaseBefore, recoverBatch)
		if err != nil {
			return n, fmt.Errorf("find executions whose worker died: %w", err)
		}
		queued, err := s.requeueAll(ctx, expired)
		if err != nil {
			return n, err
		}
		for _, id := range queued {
			s.cfg.Logger.Info("execution queued again after its worker died", "execution", id)
		}
		batch := len(queued)
		n += batch
		// A batch that queued none again (each moved on meanwhile) ends
		// it too, so that it cannot read the same rows for ever.
		if len(expired) < recoverBatch || batch == 0 {
			return n, nil
		}
	}
}

// requeueAll is requeue of each of es in one transaction, and returns the
// ids of those it queued again: a transaction each made recovering a dead
// node's line of ten thousand take several seconds.
func (s *Service) requeueAll(ctx context.Context, es []*store.FlowExecution) ([]string, error) {
	if s.queue == nil {
		return nil, ErrNoQueue
	}
	var queued []string
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		queued = queued[:0]
		var jobs []river.InsertManyParams
		now := s.now()
		for _, e := range es {
			gen, err := tx.RequeueFlowExecution(ctx, e.ID, e.Generation, now)
			if err != nil {
				return fmt.Errorf("queue execution %s again: %w", e.ID, err)
			}
			if gen == 0 {
				continue // it ended or moved on meanwhile
			}
			jobs = append(jobs, river.InsertManyParams{Args: runArgs{ExecutionID: e.ID, Generation: gen}, InsertOpts: s.insertOpts()})
			queued = append(queued, e.ID)
		}
		_, err := queue.InsertAll(ctx, s.queue, tx, jobs)
		return err
	})
	if err != nil {
		return nil, err
	}
	return queued, nil
}

// requeue makes an unfinished execution of the given generation pending
// in a new generation with a new job, in one transaction. It reports
// false when the execution had ended or moved on.
func (s *Service) requeue(ctx context.Context, execID string, generation int) (bool, error) {
	if s.queue == nil {
		return false, ErrNoQueue
	}
	queued := false
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		gen, err := tx.RequeueFlowExecution(ctx, execID, generation, s.now())
		if err != nil || gen == 0 {
			return err
		}
		_, err = s.queue.InsertTx(ctx, tx, runArgs{ExecutionID: execID, Generation: gen}, s.insertOpts())
		queued = err == nil
		return err
	})
	return queued, err
}

// Prune deletes the history of executions that ended longer than
// Config.Retention (or what Config.RetentionSetting says now) ago, in
// batches, and returns how many it deleted.
func (s *Service) Prune(ctx context.Context) (int64, error) {
	keep := s.cfg.Retention
	if s.cfg.RetentionSetting != nil {
		if d := s.cfg.RetentionSetting(ctx); d > 0 {
			keep = d
		}
	}
	before := s.now().Add(-keep)
	var total int64
	for {
		n, err := s.st.DeleteFlowExecutionsEndedBefore(ctx, before, 500)
		total += n
		if err != nil {
			return total, fmt.Errorf("delete old executions: %w", err)
		}
		if n < 500 {
			return total, nil
		}
	}
}
