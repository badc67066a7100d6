package flows

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/store"
)

// dbJournal is the engine's Journal kept in the database. It loads the
// recorded steps once, when the execution (re)starts, and writes each new
// step before the engine goes on: after a crash, Lookup finds every task
// that completed. The state a resume needs (output and context, which
// may hold secrets) is sealed; the history copy is stored as the engine
// redacted it, and only when the flow saves all data.
type dbJournal struct {
	s      *Service
	execID string
	red    secretRedactor

	mu    sync.Mutex
	steps map[string]*engine.Step
	seq   int
	// failed is the first write that failed: the engine turns it into a
	// fault, but the execution must be retried, not marked faulted.
	failed error
}

type stepState struct {
	Output  any `json:"output"`
	Context any `json:"context"`
}

func (s *Service) loadJournal(ctx context.Context, execID string) (*dbJournal, error) {
	j := &dbJournal{s: s, execID: execID, steps: map[string]*engine.Step{}}
	rows, err := s.st.FlowSteps(ctx, execID)
	if err != nil {
		return nil, fmt.Errorf("read the journal of execution %s: %w", execID, err)
	}
	for _, r := range rows {
		st := &engine.Step{Key: r.Key, Reference: r.Reference, Name: r.Name, Kind: r.Kind, Started: r.StartedAt,
			Ended: r.EndedAt, Directive: r.Directive, Skipped: r.Skipped}
		if r.Fault != "" {
			var f engine.Fault
			if err := json.Unmarshal([]byte(r.Fault), &f); err != nil {
				return nil, fmt.Errorf("read the journal of execution %s at %s: %w", execID, r.Key, err)
			}
			st.Fault = &f
		}
		if r.StateSealed != "" {
			v, err := s.open(r.StateSealed, purposeStep, execID)
			if err != nil {
				return nil, err
			}
			m, _ := v.(map[string]any)
			st.Output, st.Context = m["output"], m["context"]
		}
		j.steps[r.Key] = st
		j.seq = max(j.seq, r.Seq)
	}
	notes, err := s.st.FlowNotes(ctx, execID)
	if err != nil {
		return nil, fmt.Errorf("read the notes of execution %s: %w", execID, err)
	}
	for _, n := range notes {
		j.seq = max(j.seq, n.Seq)
	}
	return j, nil
}

// Lookup returns the step recorded at key.
func (j *dbJournal) Lookup(_ context.Context, key string) (*engine.Step, bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	st, ok := j.steps[key]
	return st, ok, nil
}

func (j *dbJournal) next() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seq++
	return j.seq
}

func (j *dbJournal) fail(err error) error {
	j.mu.Lock()
	if j.failed == nil {
		j.failed = err
	}
	j.mu.Unlock()
	return err
}

func (j *dbJournal) failure() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.failed
}

// Record writes a step, then keeps it for Lookup.
func (j *dbJournal) Record(ctx context.Context, st *engine.Step) error {
	row := &store.FlowStep{ExecutionID: j.execID, Key: st.Key, Seq: j.next(), Reference: st.Reference, Name: st.Name,
		Kind: st.Kind, Directive: st.Directive, Skipped: st.Skipped, StartedAt: st.Started, EndedAt: st.Ended}
	if st.Fault != nil {
		b, err := json.Marshal(st.Fault)
		if err != nil {
			return j.fail(fmt.Errorf("encode the fault of step %s: %w", st.Key, err))
		}
		row.Fault = string(b)
	} else {
		sealed, err := j.s.seal(stepState{Output: st.Output, Context: st.Context}, purposeStep, j.execID)
		if err != nil {
			return j.fail(fmt.Errorf("seal step %s: %w", st.Key, err))
		}
		row.StateSealed = sealed
	}
	if st.History != nil {
		b, err := json.Marshal(map[string]any{"input": j.red.redact(st.History.Input), "output": j.red.redact(st.History.Output)})
		if err != nil {
			return j.fail(fmt.Errorf("encode the history of step %s: %w", st.Key, err))
		}
		row.History = string(b)
	}
	if err := j.s.st.PutFlowStep(ctx, row); err != nil {
		return j.fail(fmt.Errorf("record step %s: %w", st.Key, err))
	}
	j.mu.Lock()
	j.steps[st.Key] = st
	j.mu.Unlock()
	return nil
}

// Note writes a history entry. A result note also becomes the
// execution's result.
func (j *dbJournal) Note(ctx context.Context, n *engine.Note) error {
	row := &store.FlowNote{ExecutionID: j.execID, Seq: j.next(), Key: n.Key, Reference: n.Reference, Kind: n.Kind,
		Message: n.Message, CreatedAt: n.Time}
	row.Message, _ = j.red.redact(row.Message).(string)
	if n.Data != nil {
		b, err := json.Marshal(j.red.redact(n.Data))
		if err != nil {
			return j.fail(fmt.Errorf("encode a note of step %s: %w", n.Key, err))
		}
		row.Data = string(b)
	}
	if err := j.s.st.AddFlowNote(ctx, row); err != nil {
		return j.fail(fmt.Errorf("record a note of step %s: %w", n.Key, err))
	}
	if n.Kind == catalog.NoteResult {
		if err := j.s.st.SetFlowExecutionResult(ctx, j.execID, n.Message); err != nil {
			return j.fail(fmt.Errorf("record the result of execution %s: %w", j.execID, err))
		}
	}
	return nil
}
