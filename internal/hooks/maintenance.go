package hooks

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-ispm/vigil/internal/queue"
	"github.com/vigil-ispm/vigil/internal/store"
)

// maintenanceArgs is the periodic job that pauses integrations failing for
// too long and queues again the deliveries whose worker died mid-attempt.
type maintenanceArgs struct{}

// Kind names the job in River's job table.
func (maintenanceArgs) Kind() string { return "hook_maintenance" }

// Register adds the hooks' job kinds (hook_delivery, hook_maintenance,
// hook_retention) to workers. The application also schedules
// PeriodicJobs.
func (s *Service) Register(workers *river.Workers) {
	river.AddWorker(workers, &deliveryWorker{s: s})
	// A minute is ample for maintenance's few statements.
	river.AddWorker(workers, &queue.FuncWorker[maintenanceArgs]{Limit: time.Minute,
		Run: func(ctx context.Context) error {
			_, _, err := s.Maintain(ctx)
			return err
		}})
	// Retention leaves room for a large first backlog: each batch is its
	// own short transaction, so a long run holds no lock for long.
	river.AddWorker(workers, &queue.FuncWorker[retentionArgs]{Run: queue.Discard(s.Prune), Limit: 10 * time.Minute})
}

// PeriodicJobs returns the maintenance job, every Config.MaintenanceEvery
// and once at start, so that attempts cut short by a crash are resumed
// soon after a restart; and, when Config.Retention is set, the retention
// job, every Config.RetentionEvery and once at start.
func (s *Service) PeriodicJobs() []*river.PeriodicJob {
	opts := &river.InsertOpts{Queue: s.cfg.QueueName}
	jobs := []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(s.cfg.MaintenanceEvery),
		func() (river.JobArgs, *river.InsertOpts) { return maintenanceArgs{}, opts },
		&river.PeriodicJobOpts{RunOnStart: true})}
	if s.cfg.Retention > 0 {
		jobs = append(jobs, river.NewPeriodicJob(river.PeriodicInterval(s.cfg.RetentionEvery),
			func() (river.JobArgs, *river.InsertOpts) { return retentionArgs{}, opts },
			&river.PeriodicJobOpts{RunOnStart: true}))
	}
	return jobs
}

// Maintain pauses the active integrations that have failed without a
// success for longer than AutoPauseAfter, and queues again the pending
// deliveries whose job was lost: their lease ran out (the worker died during
// the attempt), or they have been overdue for RecoverAfter with no worker
// holding them and their River job gone or stuck. It returns how many integrations it paused and deliveries
// it queued. It is safe to run on several nodes at once, and worth running
// once at start-up: the periodic job runs on the leader only, which after a
// crash is elected again only when the dead leader's term runs out.
func (s *Service) Maintain(ctx context.Context) (paused, requeued int, err error) {
	now := s.now()
	failing, err := s.st.HooksFailingSince(ctx, now.Add(-s.cfg.AutoPauseAfter))
	if err != nil {
		return 0, 0, fmt.Errorf("find failing integrations: %w", err)
	}
	for _, h := range failing {
		err := s.st.InTx(ctx, func(tx *store.Tx) error {
			return s.pauseTx(ctx, tx, h.ID, autoPauseReason(h.FailingSince, s.cfg.AutoPauseAfter), now)
		})
		if err != nil {
			return paused, 0, fmt.Errorf("pause integration %s: %w", h.Name, err)
		}
		s.cfg.Logger.Warn("integration paused after failing too long", "integration", h.Name, "failing_since", h.FailingSince)
		paused++
	}
	requeued, err = s.recoverDeliveries(ctx, now, now, now.Add(-s.cfg.RecoverAfter))
	return paused, requeued, err
}

// RecoverAtStart queues again, before this server's workers start, the
// deliveries a crashed process left. With exclusive set (a server alone on
// its database: SQLite's data directory lock) every pending delivery that
// no River job waits to run was the dead process's, leased or not, so it
// is recovered at once: one whose job died after River took it but before
// its worker leased the delivery would otherwise wait RecoverAfter, and
// one leased, until its lease runs out. Otherwise only run-out leases (and
// on PostgreSQL those of dead nodes) are, and unleased deliveries once
// they have been overdue for RecoverAfter. It returns how many deliveries
// it queued.
func (s *Service) RecoverAtStart(ctx context.Context, exclusive bool) (int, error) {
	now := s.now()
	if !exclusive {
		return s.recoverDeliveries(ctx, now, now, now.Add(-s.cfg.RecoverAfter))
	}
	later := now.Add(100 * 365 * 24 * time.Hour)
	return s.recoverDeliveries(ctx, now, later, later)
}

// recoverDeliveries queues again the pending deliveries whose lease ends
// before leaseBefore, and the unleased ones untouched since before
// staleBefore whose job no longer waits to run.
func (s *Service) recoverDeliveries(ctx context.Context, now, leaseBefore, staleBefore time.Time) (int, error) {
	if s.queue == nil {
		return 0, nil
	}
	requeued := 0
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		refs, err := tx.RecoverHookDeliveries(ctx, now, leaseBefore, staleBefore)
		if err != nil {
			return err
		}
		requeued = len(refs)
		return s.requeue(ctx, tx, refs, priorityRecovered)
	})
	if err != nil {
		return 0, fmt.Errorf("recover interrupted deliveries: %w", err)
	}
	if requeued > 0 {
		s.cfg.Logger.Info("queued again deliveries whose job was lost", "count", requeued)
	}
	return requeued, nil
}
