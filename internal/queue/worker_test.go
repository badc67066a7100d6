package queue_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-ispm/vigil/internal/queue"
)

type sweepArgs struct{}

func (sweepArgs) Kind() string { return "sweep" }

// A FuncWorker runs its Run within its Limit; Discard keeps the error of
// a work that also counts and drops the count.
func TestFuncWorker(t *testing.T) {
	boom := errors.New("boom")
	calls := 0
	prune := func(context.Context) (int, error) {
		calls++
		return 7, boom
	}
	w := &queue.FuncWorker[sweepArgs]{Run: queue.Discard(prune), Limit: 3 * time.Minute}
	if err := w.Work(context.Background(), &river.Job[sweepArgs]{}); !errors.Is(err, boom) || calls != 1 {
		t.Errorf("Work = %v after %d calls; want boom after 1", err, calls)
	}
	if got := w.Timeout(&river.Job[sweepArgs]{}); got != 3*time.Minute {
		t.Errorf("Timeout = %v, want 3m", got)
	}
}
