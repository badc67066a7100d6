package app

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-ispm/vigil/internal/auth"
)

// housekeepingArgs is the hourly job that removes what has expired (sessions
// and old sign-in failures; other packages' retention jobs are their own).
type housekeepingArgs struct{}

// Kind names the job in River's job table.
func (housekeepingArgs) Kind() string { return "housekeeping" }

type housekeepingWorker struct {
	river.WorkerDefaults[housekeepingArgs]
	auth *auth.Service
}

// Work removes expired sessions and old sign-in failures.
func (w *housekeepingWorker) Work(ctx context.Context, job *river.Job[housekeepingArgs]) error {
	return w.auth.Housekeep(ctx)
}

// Timeout gives a run a minute, far more than its deletes need, so a stuck
// database cannot hold the job for ever.
func (w *housekeepingWorker) Timeout(*river.Job[housekeepingArgs]) time.Duration { return time.Minute }

func housekeepingJob() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return housekeepingArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}
