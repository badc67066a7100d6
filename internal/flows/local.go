package flows

import (
	"context"
	"fmt"
	"sync"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/store"
)

// localPool runs executions on the node that started them, at once and
// in-process, instead of leaving them to the next poll of the job queue.
// Such an execution is stored already claimed (running, with a lease) in
// the transaction that creates it, and has no job: if this node dies, its
// lease runs out and Recover queues it again on whichever node runs
// maintenance, which resumes it from its journal. The pool is bounded;
// when every slot is taken, Start falls back to the queue.
type localPool struct {
	slots chan struct{}
	// ctx ends when the pool stops: running executions stop at their
	// next task boundary and are queued again.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	stopped bool
	wg      sync.WaitGroup
}

// RunLocally makes the executions this node starts (Start, helper flows
// started without waiting) run at once in-process, at most n at a time;
// beyond that they wait for the job queue as before. It is meant to be
// called once, before serving; StopLocal ends it.
func (s *Service) RunLocally(n int) {
	if n <= 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &localPool{slots: make(chan struct{}, n), ctx: ctx, cancel: cancel}
	s.mu.Lock()
	s.local = p
	s.mu.Unlock()
}

// StopLocal stops starting executions in-process and waits until ctx ends
// for the running ones to finish; those still running then are stopped at
// their next task boundary and queued again, so another node (or this one
// after a restart) resumes them.
func (s *Service) StopLocal(ctx context.Context) error {
	s.mu.Lock()
	p := s.local
	s.mu.Unlock()
	if p == nil {
		return nil
	}
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		p.cancel()
		return nil
	case <-ctx.Done():
	}
	p.cancel()
	<-done
	return nil
}

// LocalRunning counts the executions running in-process on this node now.
func (s *Service) LocalRunning() int {
	s.mu.Lock()
	p := s.local
	s.mu.Unlock()
	if p == nil {
		return 0
	}
	return len(p.slots)
}

// acquire takes a slot of the pool without waiting; it reports false
// when there is no pool, the pool stopped, or every slot is taken.
func (s *Service) acquire() bool {
	s.mu.Lock()
	p := s.local
	s.mu.Unlock()
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return false
	}
	select {
	case p.slots <- struct{}{}:
		p.wg.Add(1)
		return true
	default:
		return false
	}
}

// releaseSlot gives back a slot taken by acquire whose execution was not
// started.
func (s *Service) releaseSlot() {
	p := s.local
	<-p.slots
	p.wg.Done()
}

// claimNew marks a new execution as claimed by this node, for an insert
// that both creates and claims it.
func (s *Service) claimNew(e *store.FlowExecution) {
	e.Status = StatusRunning
	e.Attempts = 1
	e.StartedAt = e.CreatedAt
	e.LeaseUntil = e.CreatedAt.Add(s.cfg.Lease)
}

// runLocal runs an execution that this node created claimed, in a slot
// taken by acquire. The input is the one sealed in the row, passed on to
// save opening it again; the journal of a new execution is empty.
func (s *Service) runLocal(e *store.FlowExecution, w *dsl.Workflow, input any) {
	p := s.local
	go func() {
		defer func() {
			<-p.slots
			p.wg.Done()
		}()
		ctx := p.ctx
		j := &dbJournal{s: s, execID: e.ID, steps: map[string]*engine.Step{}}
		if e.SaveAllData {
			j.red = s.redactorFor(ctx, w)
		}
		err := s.execute(ctx, e, w, input, j, 0) // a new execution has not waited
		if err == nil {
			return
		}
		// What a retry may cure (a database error, a shutdown) goes to the
		// queue in a new generation, which retries it on any node.
		bg := context.WithoutCancel(ctx)
		if _, qerr := s.requeue(bg, e.ID, e.Generation); qerr != nil {
			s.cfg.Logger.Error("cannot queue an execution again; maintenance will once its lease runs out",
				"execution", e.ID, "err", fmt.Errorf("%w (after: %w)", qerr, err))
		}
	}()
}
