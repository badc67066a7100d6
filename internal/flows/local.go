package flows

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/pool"
	"github.com/vigil-ispm/vigil/internal/store"
)

// localPool runs executions on the node that started them, at once and
// in-process, instead of leaving them to the next poll of the job queue.
// Such an execution is stored already claimed (running, with a lease) in
// the transaction that creates it, and has no job: if this node dies, its
// lease runs out and Recover queues it again on whichever node runs
// maintenance, which resumes it from its journal. At most cap(slots) run
// at once; a bounded line of others waits here for a slot, since going
// through the job queue costs each execution several more writes (its
// job's insert, fetch and completion, a claim, reads of its row and
// journal), which made the queue the limit of a burst. Beyond the line,
// Start falls back to the queue.
type localPool struct {
	slots chan struct{}
	// maxWaiting bounds the executions admitted that wait for a slot.
	maxWaiting int
	// ran counts the executions run here since the pool started.
	ran atomic.Int64
	// Pool admits the executions running or waiting. Its context ends
	// when the pool stops: running executions stop at their next task
	// boundary and are queued again. When StopLocal begins, waiting
	// executions are queued instead of started.
	*pool.Pool
}

// localWaitFactor sizes the line of executions waiting for a slot, as a
// multiple of the slots.
const localWaitFactor = 16

// RunLocally makes the executions this node starts (Start, helper flows
// started without waiting) run at once in-process, at most n at a time,
// and up to 16n more wait here for a slot; beyond that they wait for the
// job queue as before. It is meant to be called once, before serving;
// StopLocal ends it.
func (s *Service) RunLocally(n int) {
	if n <= 0 {
		return
	}
	p := &localPool{slots: make(chan struct{}, n), maxWaiting: localWaitFactor * n, Pool: pool.New()}
	s.local.Store(p)
}

// StopLocal stops starting executions in-process and waits until ctx ends
// for the running ones to finish; those still running then are stopped at
// their next task boundary and queued again, so another node (or this one
// after a restart) resumes them. Executions waiting for a slot are queued
// again at once.
func (s *Service) StopLocal(ctx context.Context) error {
	if p := s.local.Load(); p != nil {
		p.Stop(ctx)
	}
	return nil
}

// LocalRuns counts the executions this node has run in-process since
// RunLocally, so that the work a node did can be told without the job
// queue, which such runs bypass.
func (s *Service) LocalRuns() int64 {
	p := s.local.Load()
	if p == nil {
		return 0
	}
	return p.ran.Load()
}

// LocalRunning counts the executions running in-process on this node now.
func (s *Service) LocalRunning() int {
	p := s.local.Load()
	if p == nil {
		return 0
	}
	return len(p.slots)
}

// acquire admits an execution to the pool without waiting: to a free slot
// or to the line for one. It reports false when there is no pool, the
// pool stopped, or the slots and the line are full.
func (s *Service) acquire() bool {
	p := s.local.Load()
	if p == nil {
		return false
	}
	return p.Admit(cap(p.slots) + p.maxWaiting)
}

// releaseSlot gives back an admission of acquire whose execution was not
// started.
func (s *Service) releaseSlot() {
	s.local.Load().Done()
}

// take waits for a slot for the execution e, admitted by acquire. It
// reports false when e is not to run here: the pool stopped first (e is
// queued again), or e, after waiting longer than a third of its lease,
// was no longer this node's to run when its lease was renewed.
func (s *Service) take(p *localPool, e *store.FlowExecution) bool {
	select {
	case p.slots <- struct{}{}:
		return true
	default:
	}
	got := false
	select {
	case p.slots <- struct{}{}:
		got = true
	case <-p.Stopping():
	}
	bg := context.WithoutCancel(p.Context())
	select {
	case <-p.Stopping():
		if got {
			<-p.slots
		}
		if _, err := s.requeue(bg, e.ID, e.Generation); err != nil {
			s.cfg.Logger.Error("cannot queue an execution again; maintenance will once its lease runs out",
				"execution", e.ID, "err", err)
		}
		return false
	default:
	}
	now := s.now()
	if now.Sub(e.CreatedAt) < s.cfg.Lease/3 {
		return true
	}
	ok, err := s.st.RenewFlowExecutionLease(bg, e.ID, e.Generation, now, now.Add(s.cfg.Lease))
	if err == nil && !ok {
		<-p.slots
		return false // cancelled, or queued anew by maintenance
	}
	// On an error the run goes on: its lease is renewed as it runs.
	return true
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
	p := s.local.Load()
	go func() {
		defer p.Done()
		if !s.take(p, e) {
			return
		}
		defer func() { <-p.slots }()
		p.ran.Add(1)
		ctx := p.Context()
		j := s.newJournal(e.ID)
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
