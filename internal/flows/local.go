package flows

import (
	"context"
	"fmt"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/pool"
	"github.com/vigil-ispm/vigil/internal/store"
)

// localPool runs executions on the node that started them, at once and
// in-process, instead of leaving them to the next poll of the job queue.
// Such an execution is stored already claimed (running, with a lease) in
// the transaction that creates it, and has no job: if this node dies, its
// lease runs out (or, on PostgreSQL, its node lock goes) and Recover
// queues it again on whichever node runs maintenance, which resumes it
// from its journal. At most slots run at once; a bounded line of others
// waits here for a slot, since going through the job queue costs each
// execution several more writes (its job's insert, fetch and completion,
// a claim, reads of its row and journal), which made the queue the limit
// of a burst. Beyond the line, Start falls back to the queue.
//
// The line has two classes. An execution someone waits for (a
// synchronous invocation, a start from the API or a flow) is urgent and
// takes the next free slot. One accepted with 202 (an asynchronous
// invocation) is background: it waits while the intake is saturated,
// so that under a burst the node keeps accepting (each acceptance
// durable) and runs the backlog with the CPU the intake leaves, instead
// of sharing the CPU and SQLite's one writer evenly with it, which held
// acceptance to the pace of the executions. It waits at most half a
// lease; then it starts whatever the intake does.
type localPool struct {
	// slots bounds the executions running at once.
	slots int
	// maxWaiting bounds the executions admitted that wait for a slot.
	maxWaiting int
	// ran counts the executions run here since the pool started.
	ran atomic.Int64
	// lease is the service's execution lease, which the line renews.
	lease time.Duration

	mu sync.Mutex
	// running counts the slots taken.
	running int
	// urgent and background are the line, each oldest first.
	urgent, background fifo
	// closed is set when the pool stops: nothing starts any more.
	closed bool
	// wake re-dispatches when the intake's hold on the background ends;
	// wakeAt is when it fires, zero when not armed.
	wake   *time.Timer
	wakeAt time.Time

	intake intakeGauge

	// Pool admits the executions running or waiting. Its context ends
	// when the pool stops: running executions stop at their next task
	// boundary and are queued again. When StopLocal begins, waiting
	// executions are queued instead of started.
	*pool.Pool
}

// localRun is an execution admitted to the pool: running, or waiting in
// line.
type localRun struct {
	// e is the execution's row as created, with input its input, opened;
	// deep in line, only the sealed input, which its run opens (light).
	e          *store.FlowExecution
	w          *dsl.Workflow
	input      any
	light      bool
	background bool
	// queued is when it joined the line; leaseUntil is when its lease
	// ends, renewed while it waits; cancelled marks one cancelled on this
	// node while it waited, which must not start (all three guarded by
	// the pool's mu).
	queued     time.Time
	leaseUntil time.Time
	cancelled  bool
}

// fifo is a line of runs, oldest first.
type fifo struct {
	runs []*localRun
	head int
}

func (q *fifo) push(r *localRun) { q.runs = append(q.runs, r) }
func (q *fifo) len() int         { return len(q.runs) - q.head }

func (q *fifo) front() *localRun {
	if q.len() == 0 {
		return nil
	}
	return q.runs[q.head]
}

func (q *fifo) pop() *localRun {
	r := q.front()
	if r == nil {
		return nil
	}
	q.runs[q.head] = nil
	q.head++
	if q.head == len(q.runs) {
		q.runs, q.head = q.runs[:0], 0
	} else if q.head >= 1024 && q.head*2 >= len(q.runs) {
		// Give back the space of the runs taken.
		q.runs = append([]*localRun(nil), q.runs[q.head:]...)
		q.head = 0
	}
	return r
}

// take empties the line and returns what it held.
func (q *fifo) take() []*localRun {
	runs := q.runs[q.head:]
	q.runs, q.head = nil, 0
	return runs
}

// localKeepFactor is how many executions per slot wait in line with
// their input opened; those behind them keep it sealed, a string the
// garbage collector does not scan, and their run opens it: a routing
// flow's event of 2.8 KB took some 10 KB of heap in line, opened and
// sealed, 4 KB sealed alone. (Reading the row back instead would cost a
// run more than the run itself.)
const localKeepFactor = 16

// localWaitFactor sizes the line of executions waiting for a slot, as a
// multiple of the slots: a burst of background executions accepted
// faster than they run waits here by the ten thousand (about their
// sealed input's size each), since the job queue, beyond it, costs each
// several writes more, and more CPU than accepting it.
const localWaitFactor = 1024

// Timing of the intake's hold on background executions.
const (
	// intakeQuiet is how long the intake counts as busy after an
	// acceptance began with another in flight: it spans the pauses
	// between group commits.
	intakeQuiet = 20 * time.Millisecond
	// saturatedFor is how long a sample that found every processor taken
	// counts.
	saturatedFor = 100 * time.Millisecond
	// intakeSample spaces the samples of the scheduler.
	intakeSample = time.Millisecond
)

// intakeGauge tells whether the node's intake of background executions
// saturates it: acceptances overlap (several in flight at once, or one
// beginning while another is in flight within intakeQuiet) while the Go
// scheduler had goroutines waiting for a processor within saturatedFor.
// One caller at a time never saturates it, so that an execution accepted
// on an otherwise idle node starts at once, nor does a node with
// processors to spare.
type intakeGauge struct {
	inFlight atomic.Int32
	// lastOverlap is when an acceptance last began with another in
	// flight; sampledAt when the scheduler was last sampled;
	// saturatedUntil when the last sample that found it saturated stops
	// counting. All in Unix nanoseconds.
	lastOverlap    atomic.Int64
	sampledAt      atomic.Int64
	saturatedUntil atomic.Int64
	// saturated reports whether the processors are all taken now.
	saturated func() bool
}

// begin counts an acceptance in flight at now; end must follow.
func (g *intakeGauge) begin(now time.Time) {
	if g.inFlight.Add(1) < 2 {
		return
	}
	ns := now.UnixNano()
	g.lastOverlap.Store(ns)
	last := g.sampledAt.Load()
	if ns-last < int64(intakeSample) || !g.sampledAt.CompareAndSwap(last, ns) {
		return
	}
	if g.saturated() {
		// A sample extends the window, never shortens one that is longer.
		until := ns + int64(saturatedFor)
		for {
			old := g.saturatedUntil.Load()
			if old >= until || g.saturatedUntil.CompareAndSwap(old, until) {
				break
			}
		}
	}
}

func (g *intakeGauge) end() { g.inFlight.Add(-1) }

// busy reports whether the intake saturates the node at now, and if so
// when to look again.
func (g *intakeGauge) busy(now time.Time) (time.Time, bool) {
	ns := now.UnixNano()
	if ns >= g.saturatedUntil.Load() {
		return time.Time{}, false
	}
	if g.inFlight.Load() < 2 && ns >= g.lastOverlap.Load()+int64(intakeQuiet) {
		return time.Time{}, false
	}
	return now.Add(intakeQuiet), true
}

// runnableMetric counts the goroutines ready to run but waiting for a
// processor.
const runnableMetric = "/sched/goroutines/runnable:goroutines"

// schedulerSaturated reports whether goroutines wait for a processor:
// every one is busy. A runtime without the metric never reports it.
func schedulerSaturated() bool {
	s := []metrics.Sample{{Name: runnableMetric}}
	metrics.Read(s)
	return s[0].Value.Kind() == metrics.KindUint64 && s[0].Value.Uint64() > 0
}

// RunLocally makes the executions this node starts (Start, helper flows
// started without waiting) run at once in-process, at most n at a time,
// and up to 1024n more wait here for a slot, background ones while the
// intake is saturated; beyond that they wait for the job queue as
// before. It is meant to be called once, before serving; StopLocal ends
// it.
func (s *Service) RunLocally(n int) {
	if n <= 0 {
		return
	}
	p := &localPool{slots: n, maxWaiting: localWaitFactor * n, lease: s.cfg.Lease, Pool: pool.New()}
	p.intake.saturated = schedulerSaturated
	s.local.Store(p)
	go s.tendLine(p)
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
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running
}

// acquire admits an execution to the pool without waiting: to a free slot
// or to the line for one. It reports false when there is no pool, the
// pool stopped, or the slots and the line are full.
func (s *Service) acquire() bool {
	p := s.local.Load()
	if p == nil {
		return false
	}
	return p.Admit(p.slots + p.maxWaiting)
}

// releaseSlot gives back an admission of acquire whose execution was not
// started.
func (s *Service) releaseSlot() {
	s.local.Load().Done()
}

// intakeBegin counts a background acceptance in flight; the returned
// function ends it.
func (s *Service) intakeBegin() func() {
	p := s.local.Load()
	if p == nil {
		return func() {}
	}
	p.intake.begin(s.now())
	return p.intake.end
}

// claimNew marks a new execution as claimed by this node, for an insert
// that both creates and claims it.
func (s *Service) claimNew(e *store.FlowExecution) {
	e.Status = StatusRunning
	e.Attempts = 1
	e.StartedAt = e.CreatedAt
	e.LeaseUntil = e.CreatedAt.Add(s.cfg.Lease)
}

// inputUnread stands for an input sealed without being read back
// (sealInputFor): the run opens it from the row's sealed input, as a run
// deep in line does. subject is the input's, which its start stores.
type inputUnread struct{ subject Subject }

// lineDeep tells whether an execution started now would wait deep in the
// pool's line, where runLocal keeps its input sealed only, or would run
// from the queue (no pool): either way its start need not read back the
// input it seals. It is a guess: runLocal decides, and opens an input
// left unread when the line has emptied since.
func (s *Service) lineDeep() bool {
	p := s.local.Load()
	if p == nil {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.urgent.len()+p.background.len() >= localKeepFactor*p.slots
}

// runLocal puts an execution that this node created claimed, admitted by
// acquire, in the pool's line and starts what may start. The input is the
// one sealed in the row, passed on to save opening it again (inputUnread
// when its start did not read it back); the journal of a new execution is
// empty.
func (s *Service) runLocal(e *store.FlowExecution, w *dsl.Workflow, input any, background bool) {
	p := s.local.Load()
	r := &localRun{e: e, w: w, input: input, background: background, queued: s.now(), leaseUntil: e.LeaseUntil}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		go s.leave(p, r)
		return
	}
	if _, unread := input.(inputUnread); unread || p.urgent.len()+p.background.len() >= localKeepFactor*p.slots {
		r.input, r.light = nil, true
	} else {
		e.InputSealed = nil // stored; the run has it opened
	}
	if background {
		p.background.push(r)
	} else {
		p.urgent.push(r)
	}
	p.mu.Unlock()
	s.dispatch(p)
}

// dispatch starts waiting executions while slots are free: urgent ones
// first, then background ones unless the intake holds them.
func (s *Service) dispatch(p *localPool) {
	for {
		p.mu.Lock()
		r := s.next(p)
		if r != nil {
			p.running++
		}
		p.mu.Unlock()
		if r == nil {
			return
		}
		go s.runInSlot(p, r)
	}
}

// next takes the execution to start in a free slot, or nil; p.mu is held.
// When the intake holds the background, it arms the wake-up for the end
// of the hold.
func (s *Service) next(p *localPool) *localRun {
	if p.closed || p.running >= p.slots {
		return nil
	}
	select {
	case <-p.Stopping():
		return nil // tendLine queues the line again
	default:
	}
	if r := p.urgent.pop(); r != nil {
		return r
	}
	r := p.background.front()
	if r == nil {
		return nil
	}
	now := s.now()
	until, busy := p.intake.busy(now)
	if maxHold := r.queued.Add(p.lease / 2); busy && now.Before(maxHold) {
		if maxHold.Before(until) {
			until = maxHold
		}
		if p.wakeAt.IsZero() || until.Before(p.wakeAt) {
			if p.wake == nil {
				p.wake = time.AfterFunc(until.Sub(now), func() {
					p.mu.Lock()
					p.wakeAt = time.Time{}
					p.mu.Unlock()
					s.dispatch(p)
				})
			} else {
				p.wake.Reset(until.Sub(now))
			}
			p.wakeAt = until
		}
		return nil
	}
	return p.background.pop()
}

// cancel marks execution execID, if it waits in p's line, so that it
// does not start. A run in line renews its lease only when it has waited
// long, so without the mark one cancelled early in its wait would run its
// steps (a remediation's calls among them) before its end refused it.
func (p *localPool) cancel(execID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, q := range []*fifo{&p.urgent, &p.background} {
		for _, r := range q.runs[q.head:] {
			if r.e.ID == execID {
				r.cancelled = true
				return
			}
		}
	}
}

// runInSlot runs r in the slot next took for it, then gives the slot to the
// next in line.
func (s *Service) runInSlot(p *localPool, r *localRun) {
	defer p.Done()
	defer func() {
		p.mu.Lock()
		p.running--
		p.mu.Unlock()
		s.dispatch(p)
	}()
	ctx := p.Context()
	bg := context.WithoutCancel(ctx)
	e := r.e
	now := s.now()
	p.mu.Lock()
	leaseUntil, cancelled := r.leaseUntil, r.cancelled
	p.mu.Unlock()
	if cancelled {
		return // its end is recorded; its steps must not run
	}
	if leaseUntil.Sub(now) < 2*s.cfg.Lease/3 {
		// It waited; its lease is renewed (or found taken from it) before
		// it runs, as a running execution's is every third of a lease.
		ok, err := s.st.RenewFlowExecutionLease(bg, e.ID, e.Generation, now, now.Add(s.cfg.Lease))
		if err == nil && !ok {
			return // cancelled, or queued anew by maintenance
		}
		// On an error the run goes on: its lease is renewed as it runs.
	}
	p.ran.Add(1)
	input := r.input
	if r.light {
		var err error
		if input, err = s.openInput(e.InputSealed, e.ID); err != nil {
			// Sealed here a moment ago: only a corrupt heap fails this.
			_ = s.finish(ctx, e, nil, &engine.Fault{Type: engine.ErrRuntime, Status: 500, Title: "Input unavailable",
				Detail: "the execution's input cannot be opened with this server's master key", Instance: "/"}, 0, nil)
			return
		}
		e.InputSealed = nil
	}
	j := s.newJournal(e.ID)
	j.red = s.redactorFor(ctx, r.w) // as in run: notes are kept either way
	// The time in line does not count against the execution's duration.
	err := s.guard(ctx, e.ID, e.Generation, keepClaimed, func() error {
		return s.execute(ctx, e, r.w, input, j, now.Sub(r.queued), keepClaimed)
	})
	if err == nil {
		return
	}
	// What a retry may cure (a database error, a shutdown) goes to the
	// queue in a new generation, which retries it on any node.
	if _, qerr := s.requeue(bg, e.ID, e.Generation); qerr != nil {
		s.cfg.Logger.Error("cannot queue an execution again; maintenance will once its lease runs out",
			"execution", e.ID, "err", fmt.Errorf("%w (after: %w)", qerr, err))
	}
}

// leave queues again an execution that waited in line when the pool
// stopped, and ends its admission. Once the pool's context ended (the
// stop's deadline passed) it is left as it is, claimed: recovery queues it
// again when its lease runs out, or at the next start.
func (s *Service) leave(p *localPool, r *localRun) {
	defer p.Done()
	if p.Context().Err() != nil {
		return
	}
	if _, err := s.requeue(context.WithoutCancel(p.Context()), r.e.ID, r.e.Generation); err != nil {
		s.cfg.Logger.Error("cannot queue an execution again; maintenance will once its lease runs out",
			"execution", r.e.ID, "err", err)
	}
}

// leaveAll is leave for each of runs, in one transaction: a line of ten
// thousand queued again one transaction each outlasted a shutdown's
// deadline.
func (s *Service) leaveAll(p *localPool, runs []*localRun) {
	defer func() {
		for range runs {
			p.Done()
		}
	}()
	if p.Context().Err() != nil {
		return
	}
	es := make([]*store.FlowExecution, len(runs))
	for i, r := range runs {
		es[i] = r.e
	}
	queued, err := s.requeueAll(context.WithoutCancel(p.Context()), es)
	if err != nil {
		s.cfg.Logger.Error("cannot queue the executions waiting in line again; maintenance will once their leases run out",
			"executions", len(es), "err", err)
		return
	}
	s.cfg.Logger.Info("executions waiting in line queued again as the server stops", "executions", len(queued))
}

// tendLine renews, every quarter of a lease, the leases of the
// executions waiting in line that would end within half a lease, so that
// a long line does not outlive them (maintenance would queue each
// again), and when the pool stops it queues the line again.
func (s *Service) tendLine(p *localPool) {
	t := time.NewTicker(p.lease / 4)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.renewLine(p)
		case <-p.Stopping():
			p.mu.Lock()
			p.closed = true
			if p.wake != nil {
				p.wake.Stop()
			}
			runs := append(p.urgent.take(), p.background.take()...)
			p.mu.Unlock()
			for len(runs) > 0 {
				n := min(len(runs), recoverBatch)
				s.leaveAll(p, runs[:n])
				runs = runs[n:]
			}
			return
		}
	}
}

// renewLine renews the leases of the waiting executions whose lease ends
// within half a lease.
func (s *Service) renewLine(p *localPool) {
	now := s.now()
	soon := now.Add(p.lease / 2)
	var due []*localRun
	var ids []string
	p.mu.Lock()
	for _, q := range []*fifo{&p.urgent, &p.background} {
		for _, r := range q.runs[q.head:] {
			// A new execution waits in its first generation; one that
			// did not (none yet) renews its own lease when it starts.
			if r.leaseUntil.Before(soon) && r.e.Generation == 1 {
				due, ids = append(due, r), append(ids, r.e.ID)
			}
		}
	}
	p.mu.Unlock()
	if len(due) == 0 {
		return
	}
	until := now.Add(p.lease)
	renewed, err := s.st.RenewFlowExecutionLeases(p.Context(), ids, 1, now, until)
	if err != nil {
		s.cfg.Logger.Error("cannot renew the leases of executions waiting for a slot; each renews its own when it starts",
			"err", err)
		// Those it renewed before the error are marked below.
	}
	// One cancelled or queued anew meanwhile is not renewed, and keeps
	// the lease it had: its run, seeing it end soon, reads the row when
	// it starts and does not run. Marked renewed, it would run its steps
	// beside the queue's run of its new generation, or after its cancel.
	ok := make(map[string]bool, len(renewed))
	for _, id := range renewed {
		ok[id] = true
	}
	p.mu.Lock()
	for _, r := range due {
		if ok[r.e.ID] {
			r.leaseUntil = until
		}
	}
	p.mu.Unlock()
}
