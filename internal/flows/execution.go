package flows

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Execution statuses.
const (
	StatusPending   = store.FlowPending
	StatusRunning   = store.FlowRunning
	StatusWaiting   = store.FlowWaiting
	StatusSucceeded = store.FlowSucceeded
	StatusFaulted   = store.FlowFaulted
	StatusCancelled = store.FlowCancelled
)

// Execution is one run of one version of a flow. Its JSON form is stable.
type Execution struct {
	ID        string `json:"id"`
	FlowID    string `json:"flowId"`
	FlowTitle string `json:"flowTitle"`
	FolderID  string `json:"folderId"`
	// Version is the flow version that ran.
	Version int    `json:"version"`
	Status  string `json:"status"`
	// Result is a short note on how the execution ended, set by the flow
	// with execution.setResult ("no matching route").
	Result string `json:"result,omitempty"`
	// Error is the fault that ended the execution.
	Error *engine.Fault `json:"error,omitempty"`
	// Input and Output are shown when the flow saves all data, and
	// Output always by Wait.
	Input    any    `json:"input,omitempty"`
	Output   any    `json:"output,omitempty"`
	ParentID string `json:"parentId,omitempty"`
	// Test marks executions started by a test request (X-Vigil-Test).
	Test        bool       `json:"test,omitempty"`
	DryRun      bool       `json:"dryRun,omitempty"`
	SaveAllData bool       `json:"saveAllData"`
	Steps       int        `json:"steps"`
	Attempts    int        `json:"attempts"`
	CreatedAt   time.Time  `json:"createdAt"`
	StartedAt   *time.Time `json:"startedAt,omitempty"`
	EndedAt     *time.Time `json:"endedAt,omitempty"`
	DurationMS  int64      `json:"durationMs"`
	// Subject is what the execution is about, read from its trigger
	// event; Flow history shows and searches it.
	Subject Subject `json:"-"`
}

// Done tells whether the execution has ended.
func (e *Execution) Done() bool { return final(e.Status) }

func final(status string) bool {
	return status == StatusSucceeded || status == StatusFaulted || status == StatusCancelled
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// executionOf converts a row; withData opens the input and output (the
// caller decides whether they may be shown).
func (s *Service) executionOf(r *store.FlowExecution, withInput, withOutput bool) (*Execution, error) {
	e := &Execution{ID: r.ID, FlowID: r.FlowID, FlowTitle: r.FlowTitle, FolderID: r.FolderID, Version: r.Version,
		Status: r.Status, Result: r.Result, ParentID: r.ParentID, Test: r.Test, DryRun: r.DryRun, SaveAllData: r.SaveAllData,
		Steps: r.Steps, Attempts: r.Attempts, CreatedAt: r.CreatedAt, StartedAt: timePtr(r.StartedAt), EndedAt: timePtr(r.EndedAt),
		DurationMS: r.Duration.Milliseconds(), Subject: r.Subject}
	if r.Error != "" {
		var f engine.Fault
		if err := json.Unmarshal([]byte(r.Error), &f); err == nil {
			e.Error = &f
		}
	}
	var err error
	if withInput {
		if e.Input, err = s.openInput(r.InputSealed, r.ID); err != nil {
			return nil, err
		}
	}
	if withOutput && r.OutputSealed != "" {
		if e.Output, err = s.open(r.OutputSealed, purposeOutput, r.ID); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Purposes of sealed execution data, bound to the execution id so that a
// sealed value cannot be moved to another execution.
const (
	purposeInput  = "flows.input/"
	purposeOutput = "flows.output/"
	purposeStep   = "flows.step/"
)

func (s *Service) seal(v any, purpose, execID string) (sealed string, err error) {
	err = s.withJSON(v, func(b []byte) error {
		sealed, err = s.box.Seal(string(b), purpose+execID)
		return err
	})
	return sealed, err
}

// withJSON calls f with v as json.Marshal writes it, written without
// reflection when v is plain (engine.AppendJSON), as an execution's data
// nearly always is, in a buffer that f must not keep.
func (s *Service) withJSON(v any, f func([]byte) error) error {
	buf := s.getBuf()
	defer s.putBuf(buf)
	b, ok := engine.AppendJSON((*buf)[:0], v)
	if !ok {
		var err error
		if b, err = json.Marshal(v); err != nil {
			return fmt.Errorf("encode execution data: %w", err)
		}
	} else {
		*buf = b
	}
	return f(b)
}

// getBuf returns a buffer from s.bufs.
func (s *Service) getBuf() *[]byte {
	if buf, ok := s.bufs.Get().(*[]byte); ok {
		return buf
	}
	b := make([]byte, 0, 4096)
	return &b
}

// putBuf returns buf to s.bufs unless a large value grew it: the pool
// keeps the size of a typical execution's data, not of the largest.
func (s *Service) putBuf(buf *[]byte) {
	if cap(*buf) <= 64<<10 {
		s.bufs.Put(buf)
	}
}

func (s *Service) open(sealed, purpose, execID string) (any, error) {
	if sealed == "" {
		return nil, nil
	}
	plain, err := s.box.Open(sealed, purpose+execID)
	if err != nil {
		return nil, fmt.Errorf("open the data of execution %s: %w", execID, err)
	}
	return engine.DecodeJSON([]byte(plain))
}

// openInput opens an execution's sealed input (sealInput).
func (s *Service) openInput(sealed []byte, execID string) (any, error) {
	if len(sealed) == 0 {
		return nil, nil
	}
	plain, err := s.box.OpenBytes(sealed, purposeInput+execID)
	if err != nil {
		return nil, fmt.Errorf("open the input of execution %s: %w", execID, err)
	}
	return engine.DecodeJSON(plain)
}

// StartOptions tune Start.
type StartOptions struct {
	// ExecutionID is the new execution's id; default a new "exe_…" id.
	// The invoke endpoint chooses it so that it can answer before the
	// execution runs.
	ExecutionID string
	// Version runs this version instead of the current one.
	Version int
	// Test marks an execution started by a test request (X-Vigil-Test).
	Test bool
	// DryRun asks connectors to record what they would send instead.
	DryRun bool
	// AllowOff starts the flow even when it is off (a manual test run).
	AllowOff bool
	// InTx runs in the transaction that stores the execution and its
	// job, for callers that record something with it atomically.
	InTx func(ctx context.Context, tx *store.Tx) error
	// Background marks an execution nobody waits for (an asynchronous
	// invocation, answered 202): in this node's pool it yields to those
	// someone waits for, and to the intake while that saturates the node.
	Background bool
}

// runArgs is the River job that runs (or resumes) an execution.
type runArgs struct {
	ExecutionID string `json:"execution_id"`
	Generation  int    `json:"generation"`
}

// Kind names the job in River's job table.
func (runArgs) Kind() string { return "flow_execution" }

func (s *Service) insertOpts() *river.InsertOpts {
	return &river.InsertOpts{Queue: s.cfg.QueueName, MaxAttempts: s.cfg.MaxAttempts}
}

// Start stores a new execution of a flow and its job in one transaction
// and returns the execution's id: the execution exists if and only if its
// job does. A flow that is off is refused with ErrFlowOff unless
// opts.AllowOff is set.
func (s *Service) Start(ctx context.Context, flowID string, input any, opts StartOptions) (string, error) {
	if s.queue == nil {
		return "", ErrNoQueue
	}
	f, err := s.st.Flow(ctx, flowID)
	if err = flowErr(flowID, err); err != nil {
		return "", err
	}
	return s.start(ctx, f, input, opts)
}

// start is Start of the flow whose row is f.
func (s *Service) start(ctx context.Context, f *store.Flow, input any, opts StartOptions) (string, error) {
	if !f.On && !opts.AllowOff {
		return "", kindErrorf(ErrFlowOff, "flow %q is off; turn it on to run it", f.Title)
	}
	version := f.Version
	if opts.Version != 0 {
		version = opts.Version
	}
	w, err := s.workflow(ctx, f.ID, version)
	if err != nil {
		return "", err
	}
	now := s.now()
	execID := opts.ExecutionID
	if execID == "" {
		execID = id.NewAt("exe", now)
	}
	// Under load an execution waits deep in line with its input sealed
	// only: reading the input back as it is sealed would be thrown away.
	sealed, value, err := s.sealInputFor(input, execID, !s.lineDeep())
	if err != nil {
		return "", err
	}
	e := &store.FlowExecution{ID: execID, FlowID: f.ID, Version: version, Status: StatusPending, InputSealed: sealed,
		Test: opts.Test, DryRun: opts.DryRun, SaveAllData: w.SaveAllData(), CreatedAt: now, UpdatedAt: now,
		FlowTitle: f.Title, FolderID: f.FolderID}
	if u, unread := value.(inputUnread); unread {
		// begin reads the subject from the value otherwise.
		e.Subject = u.subject
	}
	if err := s.begin(ctx, e, w, value, opts.InTx, opts.Background); err != nil {
		return "", fmt.Errorf("start an execution of flow %q: %w", f.Title, err)
	}
	return execID, nil
}

// begin stores a new execution e, pending, with input the value read back
// from its sealed input (sealInput). With a free slot in the local pool it
// stores e already claimed by this node, without a job, and runs it at
// once on input (a background one when the intake leaves it room);
// otherwise it stores e's job with it, for the queue to run. inTx, when
// set, runs in the same transaction.
func (s *Service) begin(ctx context.Context, e *store.FlowExecution, w *dsl.Workflow, input any,
	inTx func(ctx context.Context, tx *store.Tx) error, background bool) error {
	if sub := subjectOf(input); sub != (Subject{}) {
		e.Subject = sub
	}
	if background {
		defer s.intakeBegin()()
	}
	local := s.acquire()
	if local {
		s.claimNew(e)
	}
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateFlowExecution(ctx, e); err != nil {
			return err
		}
		if inTx != nil {
			if err := inTx(ctx, tx); err != nil {
				return err
			}
		}
		if local {
			return nil
		}
		_, err := s.queue.InsertTx(ctx, tx, runArgs{ExecutionID: e.ID, Generation: 1}, s.insertOpts())
		return err
	})
	if err != nil {
		if local {
			s.releaseSlot()
		}
		return err
	}
	s.backlog.started(e.FlowID)
	if local {
		s.startedHere(e.ID)
		s.runLocal(e, w, input, background)
	}
	return nil
}

// sealInput seals input for execID, as bytes (secret.Box.SealBytes), and
// returns it sealed and the value read back from the JSON it sealed, which
// a run gets, as a run from the queue gets it from the row. The JSON of a
// plain value is written and read back in one walk (engine.EncodeJSON);
// other values are marshalled and decoded.
func (s *Service) sealInput(input any, execID string) ([]byte, any, error) {
	return s.sealInputFor(input, execID, true)
}

// sealInputFor is sealInput; without read, for a plain input, it writes
// the JSON alone, a walk without copies, and returns inputUnread with the
// input's subject for the value.
func (s *Service) sealInputFor(input any, execID string, read bool) ([]byte, any, error) {
	buf := s.getBuf()
	defer s.putBuf(buf)
	var b []byte
	var value any
	var ok bool
	if read {
		b, value, ok = engine.EncodeJSON((*buf)[:0], input)
	} else if b, ok = engine.AppendJSON((*buf)[:0], input); ok && !bytes.Contains(b, []byte(`\ufffd`)) {
		// The subject begin would read from the value read back. An
		// input whose text the JSON changed (invalid UTF-8, written as
		// \ufffd) is read back instead.
		value = inputUnread{subject: subjectOf(input)}
	}
	if ok {
		*buf = b
	} else {
		in, err := engine.Normalize(input)
		if err != nil {
			return nil, nil, invalid(fmt.Errorf("the input is not JSON: %w", err))
		}
		if b, err = json.Marshal(in); err != nil {
			return nil, nil, invalid(fmt.Errorf("the input is not JSON: %w", err))
		}
	}
	if len(b) > s.cfg.MaxInput {
		return nil, nil, invalid(fmt.Errorf("the input is larger than %d bytes", s.cfg.MaxInput))
	}
	if !ok || value == nil {
		var err error
		if value, err = engine.DecodeJSON(b); err != nil {
			return nil, nil, fmt.Errorf("decode the input of execution %s: %w", execID, err)
		}
	}
	sealed, err := s.box.SealBytes(nil, b, purposeInput+execID)
	return sealed, value, err
}

// Wait blocks until the execution ends and returns it with its output, or
// until ctx is done, returning the execution as it stands and ctx's
// error. It is woken by the end of an execution this node runs; for one
// run by another node it reads the row again with a backoff.
func (s *Service) Wait(ctx context.Context, execID string) (*Execution, error) {
	return s.wait(ctx, execID, false)
}

// pollFloor and pollCeiling bound the backoff of Wait's fallback reads,
// which only an execution run by another node needs.
const (
	pollFloor   = 100 * time.Millisecond
	pollCeiling = time.Second
)

// wait is Wait; with ended it returns at once what this node recorded of
// an execution that ended here (status, output and fault) instead of
// reading the row again.
func (s *Service) wait(ctx context.Context, execID string, ended bool) (*Execution, error) {
	// A waiter subscribed before the execution started has missed no
	// end: the first read waits for the timer, and an execution that ends
	// on this node before it is never read at all.
	wt, here := s.takeEarly(execID)
	read := wt == nil
	if read {
		wt = s.subscribe(execID)
	}
	defer s.unsubscribe(execID, wt)
	delay := pollFloor
	if here {
		// It runs in this node's pool, whose end wakes wt; the reads are
		// only for one that went to the queue after an error, on the
		// ceiling's period: under load a run outlasts the floor, and
		// every caller read its row two or three times.
		delay = pollCeiling
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	var last *store.FlowExecution
	for {
		if read {
			r, err := s.st.FlowExecution(ctx, execID)
			switch {
			case errors.Is(err, store.ErrNotFound):
				return nil, kindErrorf(ErrNotFound, "no execution has id %s", execID)
			case err != nil && ctx.Err() == nil:
				return nil, fmt.Errorf("read execution %s: %w", execID, err)
			case err == nil:
				last = r
				if final(r.Status) {
					return s.executionOf(r, false, true)
				}
			}
		}
		read = true
		if ctx.Err() != nil {
			break
		}
		timer.Reset(delay)
		select {
		case <-wt.done:
			if ended && wt.end != nil {
				return wt.end, nil
			}
			// Read the row once more, then wait on the timer alone.
			wt = s.subscribe(execID)
			defer s.unsubscribe(execID, wt)
			continue
		case <-timer.C:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		delay = min(delay*2, pollCeiling)
	}
	if last == nil {
		// The caller's deadline came before any read finished (a busy
		// database): read once more without it, so that the caller still
		// learns the state it waited on.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		r, err := s.st.FlowExecution(rctx, execID)
		cancel()
		if err != nil {
			return nil, ctx.Err()
		}
		last = r
	}
	e, err := s.executionOf(last, false, false)
	if err != nil {
		return nil, err
	}
	return e, ctx.Err()
}

// waiter is a caller of Wait; end is set, before done closes, to what
// this node recorded when the execution ended here (nil on a cancel).
type waiter struct {
	done chan struct{}
	end  *Execution
}

func (s *Service) subscribe(execID string) *waiter {
	wt := &waiter{done: make(chan struct{})}
	s.mu.Lock()
	s.waiters[execID] = append(s.waiters[execID], wt)
	s.mu.Unlock()
	return wt
}

// earlyWaiter is the waiter of a synchronous invocation, subscribed
// before its execution starts; here is set when the execution was admitted
// to this node's pool.
type earlyWaiter struct {
	wt   *waiter
	here bool
}

// subscribeEarly subscribes the waiter of a synchronous invocation before
// its execution starts; wait takes it over.
func (s *Service) subscribeEarly(execID string) {
	wt := s.subscribe(execID)
	s.mu.Lock()
	s.early[execID] = &earlyWaiter{wt: wt}
	s.mu.Unlock()
}

// startedHere notes that an execution with an early waiter runs in this
// node's pool.
func (s *Service) startedHere(execID string) {
	s.mu.Lock()
	if ew := s.early[execID]; ew != nil {
		ew.here = true
	}
	s.mu.Unlock()
}

// unsubscribeEarly drops the waiter of an execution that did not start.
func (s *Service) unsubscribeEarly(execID string) {
	if wt, _ := s.takeEarly(execID); wt != nil {
		s.unsubscribe(execID, wt)
	}
}

// takeEarly returns the waiter subscribed for execID before it started,
// or nil, and whether the execution runs in this node's pool.
func (s *Service) takeEarly(execID string) (*waiter, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ew := s.early[execID]
	if ew == nil {
		return nil, false
	}
	delete(s.early, execID)
	return ew.wt, ew.here
}

func (s *Service) unsubscribe(execID string, wt *waiter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.waiters[execID]
	for i, c := range list {
		if c == wt {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(s.waiters, execID)
	} else {
		s.waiters[execID] = list
	}
}

// notify wakes the waiters of an execution that ended on this node, with
// end when this node recorded how it ended.
func (s *Service) notify(execID string, end *Execution) {
	s.mu.Lock()
	list := s.waiters[execID]
	delete(s.waiters, execID)
	s.mu.Unlock()
	for _, wt := range list {
		wt.end = end
		close(wt.done)
	}
}

// Cancel ends an unfinished execution as cancelled. One waiting in a
// node's line never starts; a worker running it stops at its next task
// boundary, on another node as soon as that node hears of it
// (FollowCancels), at the latest when it next renews its lease. It
// returns ErrNotFound for an unknown id and ErrInvalid when the execution
// had already ended.
func (s *Service) Cancel(ctx context.Context, execID string) error {
	r, err := s.st.FlowExecution(ctx, execID)
	if errors.Is(err, store.ErrNotFound) {
		return kindErrorf(ErrNotFound, "no execution has id %s", execID)
	}
	if err != nil {
		return fmt.Errorf("read execution %s: %w", execID, err)
	}
	now := s.now()
	var d time.Duration
	if !r.StartedAt.IsZero() {
		d = now.Sub(r.StartedAt)
	}
	// The execution and its approval requests end together: a cancel
	// recorded without its stop and its notice (the approvals' close
	// failing after it) let a run waiting in a line start its steps.
	var ok bool
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if ok, err = tx.CancelFlowExecution(ctx, execID, now, d); err != nil || !ok {
			return err
		}
		return tx.CancelFlowApprovals(ctx, execID, now)
	})
	if err != nil {
		return fmt.Errorf("cancel execution %s: %w", execID, err)
	}
	if !ok {
		return invalid(fmt.Errorf("execution %s has already ended", execID))
	}
	s.backlog.ended(r.FlowID)
	s.stopHere(execID)
	if err := s.st.Notify(ctx, store.ExecutionCancelled, execID); err != nil {
		// The node running it still finds it cancelled at its next lease
		// renewal.
		s.cfg.Logger.Warn("cannot tell the other nodes of a cancel", "execution", execID, "err", err)
	}
	return nil
}

// stopHere stops execution execID, just cancelled, if this node runs it
// (at its next task boundary) or holds it in its line (it never starts),
// and wakes those waiting here for its end.
func (s *Service) stopHere(execID string) {
	s.mu.Lock()
	run := s.running[execID]
	if run == nil {
		s.hear(execID)
	}
	s.mu.Unlock()
	if run != nil {
		run.stop(errCancelled)
	}
	if p := s.local.Load(); p != nil {
		p.cancel(execID)
	}
	s.notify(execID, nil)
}

// heardFor is how long a cancel heard of an execution not running here
// is kept for it: beyond it, the execution finds itself cancelled when it
// renews its lease.
const heardFor = time.Minute

// hear keeps the cancel of execID, not running here, for heardFor; s.mu is
// held.
func (s *Service) hear(execID string) {
	now := s.now()
	if len(s.heard) >= 256 {
		for id, at := range s.heard {
			if now.Sub(at) > heardFor {
				delete(s.heard, id)
			}
		}
	}
	s.heard[execID] = now
}

// FollowCancels makes this node stop, the moment another node cancels
// them, the executions it runs or holds in its line, until ctx ends; on
// SQLite, where a server is alone, Cancel already does. Without it such an
// execution stops only at its next lease renewal, a third of a lease
// later, its steps (a remediation's calls among them) running meanwhile.
func (s *Service) FollowCancels(ctx context.Context) error {
	return s.st.Listen(ctx, store.ExecutionCancelled, s.stopHere)
}

// ExecutionFilter selects executions to list. Zero fields select all.
type ExecutionFilter = store.FlowExecutionFilter

// ExecutionsByID returns the executions with the given ids that exist,
// without their data, in one read: a page that links many executions
// (an issue's deliveries and what they started) reads their rows alone,
// not each one's history.
func (s *Service) ExecutionsByID(ctx context.Context, ids []string) ([]*Execution, error) {
	rs, err := s.st.FlowExecutionsByID(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("read executions: %w", err)
	}
	return s.summaries(rs)
}

// summaries are rows as executions without their data.
func (s *Service) summaries(rs []*store.FlowExecution) ([]*Execution, error) {
	out := make([]*Execution, len(rs))
	for i, r := range rs {
		var err error
		if out[i], err = s.executionOf(r, false, false); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Executions lists executions, newest first, without their data.
func (s *Service) Executions(ctx context.Context, f ExecutionFilter) ([]*Execution, error) {
	rs, err := s.st.FlowExecutions(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list executions: %w", err)
	}
	return s.summaries(rs)
}

// CountExecutions counts the executions f selects on every page.
func (s *Service) CountExecutions(ctx context.Context, f ExecutionFilter) (int, error) {
	n, err := s.st.CountFlowExecutions(ctx, f)
	if err != nil {
		return 0, fmt.Errorf("count executions: %w", err)
	}
	return n, nil
}

// History is an execution with its steps, notes and the helper flows it
// started without waiting.
type History struct {
	Execution *Execution   `json:"execution"`
	Steps     []*Step      `json:"steps"`
	Notes     []*Note      `json:"notes,omitempty"`
	Children  []*Execution `json:"children,omitempty"`
	// ConnectorCalls are the notes of the HTTP requests connector actions
	// made, dry run or real, with their answers, secrets masked: the same
	// entries as in Notes, picked out so a caller need not know the kinds.
	ConnectorCalls []*Note `json:"connectorCalls,omitempty"`
}

// Step is a task run in an execution's history. Input and Output are
// present only when the flow saves all data, with secrets redacted.
type Step struct {
	Key        string        `json:"key"`
	Reference  string        `json:"reference"`
	Name       string        `json:"name"`
	Kind       string        `json:"kind"`
	Directive  string        `json:"directive,omitempty"`
	Skipped    bool          `json:"skipped,omitempty"`
	Error      *engine.Fault `json:"error,omitempty"`
	Input      any           `json:"input,omitempty"`
	Output     any           `json:"output,omitempty"`
	StartedAt  time.Time     `json:"startedAt"`
	EndedAt    time.Time     `json:"endedAt"`
	DurationMS int64         `json:"durationMs"`
}

// Note is an extra entry of an execution's history: an emitted event, a
// helper flow started, a request a dry-run connector would have sent.
type Note struct {
	Key       string    `json:"key"`
	Reference string    `json:"reference"`
	Kind      string    `json:"kind"`
	Message   string    `json:"message"`
	Data      any       `json:"data,omitempty"`
	Time      time.Time `json:"time"`
}

// Execution returns an execution's history. Its input, output and each
// step's data are included only when the flow saved all data.
func (s *Service) Execution(ctx context.Context, execID string) (*History, error) {
	r, err := s.st.FlowExecution(ctx, execID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, kindErrorf(ErrNotFound, "no execution has id %s", execID)
	}
	if err != nil {
		return nil, fmt.Errorf("read execution %s: %w", execID, err)
	}
	e, err := s.executionOf(r, r.SaveAllData, r.SaveAllData)
	if err != nil {
		return nil, err
	}
	if r.SaveAllData {
		if w, err := s.workflow(ctx, r.FlowID, r.Version); err == nil {
			red := s.redactorFor(ctx, w)
			e.Input, e.Output = red.redact(e.Input), red.redact(e.Output)
		}
	}
	h := &History{Execution: e, Steps: []*Step{}}
	steps, err := s.st.FlowSteps(ctx, execID)
	if err != nil {
		return nil, fmt.Errorf("read the steps of execution %s: %w", execID, err)
	}
	for _, st := range steps {
		v := &Step{Key: st.Key, Reference: st.Reference, Name: st.Name, Kind: st.Kind, Directive: st.Directive,
			Skipped: st.Skipped, StartedAt: st.StartedAt, EndedAt: st.EndedAt, DurationMS: st.EndedAt.Sub(st.StartedAt).Milliseconds()}
		if st.Fault != "" {
			var f engine.Fault
			if json.Unmarshal([]byte(st.Fault), &f) == nil {
				v.Error = &f
			}
		}
		if r.SaveAllData && st.History != "" {
			var d struct {
				Input     any    `json:"input"`
				InputFrom string `json:"inputFrom"`
				Output    any    `json:"output"`
			}
			if json.Unmarshal([]byte(st.History), &d) == nil {
				v.Input, v.Output = d.Input, d.Output
				if d.InputFrom == historyFromExecution {
					// The step's input was the execution's (dbJournal.input).
					v.Input = e.Input
				}
			}
		}
		h.Steps = append(h.Steps, v)
	}
	notes, err := s.st.FlowNotes(ctx, execID)
	if err != nil {
		return nil, fmt.Errorf("read the notes of execution %s: %w", execID, err)
	}
	for _, n := range notes {
		v := &Note{Key: n.Key, Reference: n.Reference, Kind: n.Kind, Message: n.Message, Time: n.CreatedAt}
		if n.Data != "" {
			v.Data, _ = engine.DecodeJSON([]byte(n.Data))
		}
		h.Notes = append(h.Notes, v)
		if n.Kind == engine.NoteDryRun || n.Kind == engine.NoteConnectorCall {
			h.ConnectorCalls = append(h.ConnectorCalls, v)
		}
	}
	h.Children, err = s.Executions(ctx, ExecutionFilter{ParentID: execID, Limit: 1000})
	if err != nil {
		return nil, err
	}
	return h, nil
}
