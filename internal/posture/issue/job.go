package issue

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// WakeArgs is the periodic job that ends snoozes whose date has passed.
type WakeArgs struct{}

// Kind names the job kind in River.
func (WakeArgs) Kind() string { return "posture_issue_wake" }

type wakeWorker struct {
	river.WorkerDefaults[WakeArgs]
	svc *Service
}

// Work ends the snoozes that are due, reopening their issues.
func (w *wakeWorker) Work(ctx context.Context, _ *river.Job[WakeArgs]) error {
	n, err := w.svc.WakeSnoozed(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		w.svc.cfg.Logger.Info("snoozes ended", "issues", n)
	}
	return nil
}

// Timeout is the job's interval: a run that takes longer would overlap the next.
func (w *wakeWorker) Timeout(*river.Job[WakeArgs]) time.Duration { return 5 * time.Minute }

// WakeInterval is how often the periodic job looks for snoozes that ended.
const WakeInterval = 5 * time.Minute

// Register adds the issue jobs' workers to workers.
func Register(workers *river.Workers, svc *Service) {
	river.AddWorker(workers, &wakeWorker{svc: svc})
}

// PeriodicJobs returns the periodic jobs of issues: ending snoozes every
// WakeInterval, and once at start.
func PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(WakeInterval),
		func() (river.JobArgs, *river.InsertOpts) { return WakeArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})}
}
