// Package queuetest runs a job queue's workers for the length of a test.
package queuetest

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/queue"
)

// Start starts q's workers and stops them when the test ends, giving
// running jobs up to 10 s to finish.
func Start(t testing.TB, q *queue.Queue) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if err := q.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = q.Stop(sctx)
		cancel()
	})
}
