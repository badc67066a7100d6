package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Causes of a worker's context ending other than the queue stopping.
var (
	errCancelled = errors.New("the execution was cancelled")
	errLeaseLost = errors.New("the execution was queued anew after this worker's lease ran out")
)

type runWorker struct {
	river.WorkerDefaults[runArgs]
	s *Service
}

// Work runs or resumes the execution; after the last attempt it queues the
// execution again when a shutdown cut it short, or ends it otherwise.
func (w *runWorker) Work(ctx context.Context, job *river.Job[runArgs]) error {
	last := job.Attempt >= job.MaxAttempts
	// A run cut short hands the execution back to this job for its next
	// attempt; on the last there is none, and it stays claimed for the
	// requeue below, or for recovery should that fail.
	release := handBack(w.s.release)
	if last {
		release = keepClaimed
	}
	err := w.s.guard(ctx, job.Args.ExecutionID, job.Args.Generation, release, func() error {
		return w.s.run(ctx, job.Args.ExecutionID, job.Args.Generation, release)
	})
	if err != nil && last {
		// The last attempt: River discards the job after it, so the
		// execution must not stay pending for ever. Cut short by a
		// shutdown, it gets a new job; failing on its own, it ends.
		bg := context.WithoutCancel(ctx)
		if ctx.Err() != nil {
			if _, qerr := w.s.requeue(bg, job.Args.ExecutionID, job.Args.Generation); qerr != nil {
				w.s.cfg.Logger.Error("cannot queue an execution again", "execution", job.Args.ExecutionID, "err", qerr)
			}
		} else {
			w.s.abandon(bg, job.Args.ExecutionID, job.Args.Generation, err)
		}
	}
	return err
}

// guard runs fn, the run of execution execID in the given generation, and
// turns a panic in it into an error, handed back with release as any
// other error a retry may cure: a task that panics (a function meeting a
// vendor's answer it did not expect) must not end the process, and every
// execution and waiting caller with it, when it runs in the node's pool,
// nor skip Work's last-attempt handling, which would leave the execution
// running until recovery queued it again, for ever.
func (s *Service) guard(ctx context.Context, execID string, generation int, release handBack, fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			s.cfg.Logger.Error("an execution's run panicked; it is retried as after an error",
				"execution", execID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = release(ctx, execID, generation, fmt.Errorf("the run of execution %s panicked: %v", execID, p))
		}
	}()
	return fn()
}

// handBack hands an execution back after an error that a retry may cure,
// and returns the error.
type handBack func(ctx context.Context, execID string, generation int, cause error) error

// keepClaimed is the handBack of a run with no job to go back to (one in
// the node's pool, or a job's last attempt): its caller queues it anew,
// from running, in one transaction. Released first (pending, without a
// lease), it was left where no recovery looks when that failed or the
// process died between the two.
func keepClaimed(_ context.Context, _ string, _ int, cause error) error { return cause }

// Timeout is the longest an execution may run, plus a margin: the engine
// ends it first with a clear fault.
func (w *runWorker) Timeout(*river.Job[runArgs]) time.Duration {
	return w.s.cfg.Limits.MaxDuration + time.Minute
}

// run runs or resumes an execution of the given generation. It returns
// nil when the execution ended (whatever its status) or is not this
// job's to run, and an error when it must be tried again.
func (s *Service) run(ctx context.Context, execID string, generation int, release handBack) error {
	now := s.now()
	ok, err := s.st.ClaimFlowExecution(ctx, execID, generation, now, now.Add(s.cfg.Lease))
	if err != nil {
		return fmt.Errorf("claim execution %s: %w", execID, err)
	}
	if !ok {
		return nil // ended, cancelled, queued anew, or held by a live worker
	}
	r, err := s.st.FlowExecution(ctx, execID)
	if err != nil {
		return release(ctx, execID, generation, fmt.Errorf("read execution %s: %w", execID, err))
	}
	w, err := s.workflow(ctx, r.FlowID, r.Version)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, errBrokenVersion) {
			return s.finish(ctx, r, nil, &engine.Fault{Type: engine.ErrConfiguration, Status: 500, Title: "Flow version unavailable",
				Detail: fmt.Sprintf("version %d of the flow cannot be run: %v", r.Version, err), Instance: "/"}, 0, nil)
		}
		return release(ctx, execID, generation, err)
	}
	input, err := s.openInput(r.InputSealed, execID)
	if err != nil {
		return s.finish(ctx, r, nil, &engine.Fault{Type: engine.ErrRuntime, Status: 500, Title: "Input unavailable",
			Detail: "the execution's input cannot be opened with this server's master key", Instance: "/"}, 0, nil)
	}
	journal, err := s.loadJournal(ctx, execID)
	if err != nil {
		return release(ctx, execID, generation, err)
	}
	// Notes and approval requests are kept whether or not the flow saves
	// its data, so the secrets it uses are redacted from them either way.
	journal.red = s.redactorFor(ctx, w)
	// Time parked at an approval does not count against the limit.
	waited, err := s.waited(ctx, execID, s.now())
	if err != nil {
		return release(ctx, execID, generation, err)
	}
	return s.execute(ctx, r, w, input, journal, waited, release)
}

// execute runs an execution this worker has claimed, from its journal, and
// records its end. It returns nil when the execution ended or is no longer
// this worker's, and an error when it must be tried again, having handed
// it back with release (s.release for a run from the queue, keepClaimed
// for one in the node's pool).
func (s *Service) execute(ctx context.Context, r *store.FlowExecution, w *dsl.Workflow, input any, journal *dbJournal, waited time.Duration,
	release handBack) error {
	execID, generation := r.ID, r.Generation
	remaining := s.cfg.Limits.MaxDuration - s.now().Sub(r.StartedAt) + waited
	if remaining <= 0 {
		return s.finish(ctx, r, nil, &engine.Fault{Type: engine.ErrTimeout, Status: 408, Title: "Execution timed out",
			Detail: fmt.Sprintf("the execution ran longer than the limit of %s", s.cfg.Limits.MaxDuration), Instance: "/"}, 0, journal)
	}

	runCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	run := &runningHere{stop: stop}
	s.mu.Lock()
	s.running[execID] = run
	_, heard := s.heard[execID]
	delete(s.heard, execID)
	s.mu.Unlock()
	if heard {
		stop(errCancelled) // cancelled before it ran here: no task runs
	}
	defer func() {
		s.mu.Lock()
		// A run of a newer generation may have started here meanwhile
		// (this one's lease was lost): its entry stays.
		if s.running[execID] == run {
			delete(s.running, execID)
		}
		s.mu.Unlock()
	}()
	leaseDone := make(chan struct{})
	go func() {
		defer close(leaseDone)
		s.keepLease(runCtx, stop, execID, generation)
	}()

	journal.input = input
	resolver := &runResolver{s: s, folderID: r.FolderID}
	limits := s.cfg.Limits
	limits.MaxDuration = remaining
	eng := engine.New(engine.Config{
		HTTPClient:     s.cfg.HTTPClient,
		Catalog:        s.cfg.Catalog,
		Flows:          resolver,
		Spawner:        &spawner{s: s, parent: r, resolver: resolver, journal: journal},
		Secrets:        s.cfg.Secrets,
		Clock:          s.cfg.Clock,
		RuntimeVersion: s.cfg.RuntimeVersion,
		Limits:         limits,
		Logger:         s.cfg.Logger,
	})
	res, runErr := eng.Run(withJournal(runCtx, journal), w, input, engine.RunOptions{ExecutionID: execID, StartedAt: r.StartedAt, Journal: journal,
		FlowID: r.FlowID, Folder: r.FolderID, DryRun: r.DryRun, CallDepth: r.CallDepth})
	stop(nil)
	<-leaseDone

	switch cause := context.Cause(runCtx); {
	case errors.Is(cause, errCancelled):
		// The history of a cancelled execution keeps the steps it ran.
		bg := context.WithoutCancel(ctx)
		if err := journal.commit(bg); err != nil {
			s.cfg.Logger.Warn("cannot record the last steps of a cancelled execution", "execution", execID, "err", err)
		}
		return nil
	case errors.Is(cause, errLeaseLost):
		return nil // another worker has it now
	case ctx.Err() != nil:
		// The queue is stopping: hand the execution back; River runs
		// this job again and the journal resumes it.
		return release(ctx, execID, generation, ctx.Err())
	}
	if jerr := journal.failure(); jerr != nil {
		return release(ctx, execID, generation, jerr)
	}
	steps := 0
	var out any
	if res != nil {
		steps, out = res.Steps, res.Output
	}
	if park := (*engine.Park)(nil); errors.As(runErr, &park) {
		return s.park(ctx, r, steps, park, journal, release)
	}
	var fault *engine.Fault
	if runErr != nil && !errors.As(runErr, &fault) {
		return release(ctx, execID, generation, runErr)
	}
	return s.finish(ctx, r, out, fault, steps, journal)
}

// keepLease renews the execution's lease every third of Lease until ctx
// ends, and stops the run when the execution was cancelled or queued anew.
func (s *Service) keepLease(ctx context.Context, stop context.CancelCauseFunc, execID string, generation int) {
	t := time.NewTicker(s.cfg.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := s.now()
		ok, err := s.st.RenewFlowExecutionLease(ctx, execID, generation, now, now.Add(s.cfg.Lease))
		if err != nil {
			if ctx.Err() == nil {
				s.cfg.Logger.Warn("cannot renew an execution's lease", "execution", execID, "err", err)
			}
			continue
		}
		if !ok {
			r, err := s.st.FlowExecution(ctx, execID)
			if err == nil && r.Status == StatusCancelled {
				stop(errCancelled)
			} else {
				stop(errLeaseLost)
			}
			return
		}
	}
}

// release hands an execution back to its job after an error that a retry
// may cure, and returns that error for River to retry.
func (s *Service) release(ctx context.Context, execID string, generation int, cause error) error {
	if err := s.st.ReleaseFlowExecution(context.WithoutCancel(ctx), execID, generation, s.now()); err != nil {
		s.cfg.Logger.Warn("cannot hand an execution back", "execution", execID, "err", err)
	}
	return cause
}

// finish records how an execution ended, with the rows its journal j (if
// any) has not committed yet, in one transaction, and wakes its waiters.
func (s *Service) finish(ctx context.Context, r *store.FlowExecution, output any, fault *engine.Fault, steps int, j *dbJournal) error {
	ctx = context.WithoutCancel(ctx)
	now := s.now()
	end := store.FlowExecutionEnd{ID: r.ID, Generation: r.Generation, Status: StatusSucceeded, Steps: steps, EndedAt: now}
	if !r.StartedAt.IsZero() {
		end.Duration = now.Sub(r.StartedAt)
	}
	if fault != nil {
		end.Status = StatusFaulted
		b, err := json.Marshal(fault)
		if err != nil {
			return fmt.Errorf("encode the fault of execution %s: %w", r.ID, err)
		}
		end.Error = string(b)
	} else {
		sealed, err := s.seal(output, purposeOutput, r.ID)
		if err != nil {
			return err
		}
		end.OutputSealed = sealed
	}
	var ended bool
	journal := j.commitTx(ctx)
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		ended, err = tx.FinishFlowExecution(ctx, end)
		if err != nil || !ended {
			return err
		}
		if err := journal(tx); err != nil {
			return err
		}
		if fault == nil || s.faults == nil {
			return nil
		}
		e := *r
		e.Status, e.Error, e.EndedAt = end.Status, end.Error, end.EndedAt
		return s.faults.ExecutionFaulted(ctx, tx, &e)
	})
	if err != nil {
		return fmt.Errorf("record the end of execution %s: %w", r.ID, err)
	}
	if !ended {
		// Cancelled meanwhile, or queued anew: the row tells.
		s.notify(r.ID, nil)
		return nil
	}
	s.backlog.ended(r.FlowID)
	if fault != nil {
		s.cfg.Logger.Info("execution faulted", "execution", r.ID, "flow", r.FlowID, "type", fault.Type, "instance", fault.Instance)
	}
	s.notify(r.ID, &Execution{ID: r.ID, FlowID: r.FlowID, FlowTitle: r.FlowTitle, FolderID: r.FolderID, Version: r.Version,
		Status: end.Status, Error: fault, Output: output, ParentID: r.ParentID, Test: r.Test, DryRun: r.DryRun,
		SaveAllData: r.SaveAllData, Steps: steps, Attempts: r.Attempts, CreatedAt: r.CreatedAt, StartedAt: timePtr(r.StartedAt),
		EndedAt: timePtr(now), DurationMS: end.Duration.Milliseconds()})
	return nil
}

// abandon ends an execution whose job ran out of attempts.
func (s *Service) abandon(ctx context.Context, execID string, generation int, cause error) {
	r, err := s.st.FlowExecution(ctx, execID)
	if err != nil || r.Generation != generation || final(r.Status) {
		return
	}
	s.cfg.Logger.Error("execution abandoned after repeated errors", "execution", execID, "err", cause)
	_ = s.finish(ctx, r, nil, &engine.Fault{Type: engine.ErrRuntime, Status: 500, Title: "Execution abandoned",
		Detail:   fmt.Sprintf("the execution could not be completed after %d attempts because of a server error; start it again", s.cfg.MaxAttempts),
		Instance: "/"}, r.Steps, nil)
}
