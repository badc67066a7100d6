package flows

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// backlogRefresh is how often a flow's backlog is counted in the
// database; between counts it moves with the starts and ends seen here.
const backlogRefresh = time.Second

// backlogCounter keeps each flow's number of unfinished executions
// without a COUNT per invocation: it counts the rows at most once per
// backlogRefresh and adds the starts and ends this node saw since, so the
// figure never drifts for longer than that, whichever node ran them.
type backlogCounter struct {
	mu    sync.Mutex
	flows map[string]*flowBacklog
}

type flowBacklog struct {
	n      int
	readAt time.Time
}

func (b *backlogCounter) started(flowID string) { b.add(flowID, 1) }
func (b *backlogCounter) ended(flowID string)   { b.add(flowID, -1) }

func (b *backlogCounter) add(flowID string, d int) {
	b.mu.Lock()
	if fb := b.flows[flowID]; fb != nil {
		fb.n = max(0, fb.n+d)
	}
	b.mu.Unlock()
}

// Backlog returns a flow's number of unfinished executions, counted in the
// database at most once per second and kept up to date in between.
func (s *Service) Backlog(ctx context.Context, flowID string) (int, error) {
	b := &s.backlog
	now := time.Now()
	b.mu.Lock()
	if fb := b.flows[flowID]; fb != nil && now.Sub(fb.readAt) < backlogRefresh {
		n := fb.n
		b.mu.Unlock()
		return n, nil
	}
	b.mu.Unlock()
	n, err := s.st.UnfinishedFlowExecutions(ctx, flowID)
	if err != nil {
		return 0, fmt.Errorf("count the unfinished executions of flow %s: %w", flowID, err)
	}
	b.mu.Lock()
	if b.flows == nil {
		b.flows = map[string]*flowBacklog{}
	}
	b.flows[flowID] = &flowBacklog{n: n, readAt: now}
	b.mu.Unlock()
	return n, nil
}
