package queue

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// FuncWorker works the jobs of kind A, which carry no arguments, by one
// call of Run, each within Limit: the shape of the periodic maintenance
// and retention jobs, whose work is a method of the service that owns
// them.
type FuncWorker[A river.JobArgs] struct {
	river.WorkerDefaults[A]
	// Run does a job's work.
	Run func(ctx context.Context) error
	// Limit bounds a run, so that a stuck database cannot hold the job
	// for ever.
	Limit time.Duration
}

// Work runs the job.
func (w *FuncWorker[A]) Work(ctx context.Context, _ *river.Job[A]) error { return w.Run(ctx) }

// Timeout is Limit.
func (w *FuncWorker[A]) Timeout(*river.Job[A]) time.Duration { return w.Limit }

// Discard turns a job's work that also reports how much it did, such as
// a Prune returning how many rows it deleted, into a Run.
func Discard[T any](f func(context.Context) (T, error)) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := f(ctx)
		return err
	}
}
