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

func (housekeepingArgs) Kind() string { return "housekeeping" }

type housekeepingWorker struct {
	river.WorkerDefaults[housekeepingArgs]
	auth *auth.Service
}

func (w *housekeepingWorker) Work(ctx context.Context, job *river.Job[housekeepingArgs]) error {
	return w.auth.Housekeep(ctx)
}

func (w *housekeepingWorker) Timeout(*river.Job[housekeepingArgs]) time.Duration { return time.Minute }

func housekeepingJob() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return housekeepingArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}
