package flows

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"

	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/store"
)

// dbJournal is the engine's Journal kept in the database. It loads the
// recorded steps once, when the execution (re)starts. A step with an
// effect (engine.Step.Effect: an HTTP call, a connector action, a helper
// flow run and awaited, a wait) is committed before the engine goes on, so
// after a crash Lookup finds it and the effect is not repeated. A helper
// started without waiting is not such a step: Spawn finds the child it
// started before a crash (spawner.SpawnsOnce). The steps without
// effect before it (set, switch, jq transforms) and the notes are kept
// here and committed with it, or with the execution's end or park: each
// execution of a flow of pure routing then commits twice (its start and
// its end), not once more per task. After a crash the engine runs the
// steps that were kept again, with the same result (they depend only on
// the steps committed). The state a resume needs (output and context,
// which may hold secrets) is sealed; the history copy is stored as the
// engine redacted it, and only when the flow saves all data.
type dbJournal struct {
	s      *Service
	execID string
	red    secretRedactor
	// input is the execution's input as the engine got it. A step's
	// history whose input is this very value (a first task's, nothing
	// redacted) names it instead of holding a copy: the execution's row
	// has it sealed, and History shows it from there.
	input any

	mu    sync.Mutex
	steps map[string]*engine.Step
	seq   int
	// pending holds the rows not committed yet.
	pending journalWrites
	// failed is the first write that failed: the engine turns it into a
	// fault, but the execution must be retried, not marked faulted.
	failed error
}

// journalWrites are rows of a journal to commit together.
type journalWrites struct {
	steps []*store.FlowStep
	notes []*store.FlowNote
	// rows are the table rows the execution's tasks added (addRow).
	rows []*store.FlowTableRow
	// result is the message of the last result note, when there is one.
	result *string
	// size is about how many bytes the rows hold.
	size int
}

// Bounds of the rows a journal keeps uncommitted: a long loop of tasks
// without effect commits them in groups instead of holding each task's
// output and context until its end.
const (
	maxPendingRows  = 256
	maxPendingBytes = 4 << 20
)

// full tells whether the rows reached a bound and must be committed.
func (w *journalWrites) full() bool {
	return len(w.steps)+len(w.notes)+len(w.rows) >= maxPendingRows || w.size >= maxPendingBytes
}

// store writes the rows in tx.
func (w journalWrites) store(ctx context.Context, tx *store.Tx, execID string) error {
	for _, r := range w.rows {
		if err := tx.InsertFlowTableRow(ctx, r); err != nil {
			return fmt.Errorf("add row %s to table %s: %w", r.ID, r.TableID, err)
		}
	}
	for _, r := range w.steps {
		if err := tx.PutFlowStep(ctx, r); err != nil {
			return fmt.Errorf("record step %s: %w", r.Key, err)
		}
	}
	for _, n := range w.notes {
		if err := tx.AddFlowNote(ctx, n); err != nil {
			return fmt.Errorf("record a note of step %s: %w", n.Key, err)
		}
	}
	if w.result != nil {
		if err := tx.SetFlowExecutionResult(ctx, execID, *w.result); err != nil {
			return fmt.Errorf("record the result of execution %s: %w", execID, err)
		}
	}
	return nil
}

// A step's history names the execution's input, rather than holding it,
// as {"inputFrom": "execution", "output": …}.
const (
	historyInputFrom     = "inputFrom"
	historyFromExecution = "execution"
)

// sameObject tells whether a and b are the same JSON object, not merely
// equal ones.
func sameObject(a, b any) bool {
	ma, ok := a.(map[string]any)
	mb, okb := b.(map[string]any)
	return ok && okb && ma != nil && reflect.ValueOf(ma).UnsafePointer() == reflect.ValueOf(mb).UnsafePointer()
}

// newJournal is the journal of an execution that has recorded nothing.
func (s *Service) newJournal(execID string) *dbJournal {
	return &dbJournal{s: s, execID: execID, steps: map[string]*engine.Step{}}
}

func (s *Service) loadJournal(ctx context.Context, execID string) (*dbJournal, error) {
	j := s.newJournal(execID)
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

// Record keeps a step for Lookup and for the next commit, and commits it
// with the rows kept before it when it has an effect or the rows kept
// reached a bound.
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
		// The state a resume reads: {"context": …, "output": …}.
		sealed, err := j.s.seal(map[string]any{"output": st.Output, "context": st.Context}, purposeStep, j.execID)
		if err != nil {
			return j.fail(fmt.Errorf("seal step %s: %w", st.Key, err))
		}
		row.StateSealed = sealed
	}
	if st.History != nil {
		in := j.red.redact(st.History.Input)
		h := map[string]any{"input": in, "output": j.red.redact(st.History.Output)}
		if sameObject(in, j.input) {
			h = map[string]any{historyInputFrom: historyFromExecution, "output": h["output"]}
		}
		if err := j.s.withJSON(h, func(b []byte) error { row.History = string(b); return nil }); err != nil {
			return j.fail(fmt.Errorf("encode the history of step %s: %w", st.Key, err))
		}
	}
	j.mu.Lock()
	j.steps[st.Key] = st
	j.pending.steps = append(j.pending.steps, row)
	j.pending.size += len(row.StateSealed) + len(row.History) + len(row.Fault)
	full := j.pending.full()
	j.mu.Unlock()
	if !st.Effect && !full {
		return nil
	}
	if err := j.commit(ctx); err != nil {
		return j.fail(fmt.Errorf("record step %s: %w", st.Key, err))
	}
	return nil
}

// commit commits the rows kept so far, if any, in a transaction of their
// own.
func (j *dbJournal) commit(ctx context.Context) error {
	j.mu.Lock()
	empty := len(j.pending.steps)+len(j.pending.notes)+len(j.pending.rows) == 0 && j.pending.result == nil
	j.mu.Unlock()
	if empty {
		return nil
	}
	return j.s.st.InTx(ctx, j.commitTx(ctx))
}

// commitTx takes the rows kept so far and returns the function of a
// transaction that writes them; for a nil journal, one that writes
// nothing.
func (j *dbJournal) commitTx(ctx context.Context) func(tx *store.Tx) error {
	if j == nil {
		return func(*store.Tx) error { return nil }
	}
	j.mu.Lock()
	w := j.pending
	j.pending = journalWrites{}
	j.mu.Unlock()
	return func(tx *store.Tx) error { return w.store(ctx, tx, j.execID) }
}

// addRow keeps a table row a task of the execution adds, to be written
// in the transaction that records the task's step: adding a row is an
// effect (tables.createRow is not pure), so that step is committed as soon
// as the task ends, before any later task can read the table. The row is
// then written exactly once with the step that added it, where it used to
// be inserted in a commit of its own before it: one commit less per row
// (the ISPM template's helpers each add one to ISPM Events), and a crash
// between the two no longer adds it again when the task runs again.
func (j *dbJournal) addRow(r *store.FlowTableRow) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.pending.rows = append(j.pending.rows, r)
	j.pending.size += len(r.Data)
}

// journalKey is the context key of the journal of the execution a context
// runs (withJournal).
type journalKey struct{}

// withJournal returns ctx carrying j, the journal of the execution that
// runs with it, for the catalog's table functions (dbTables.Insert).
func withJournal(ctx context.Context, j *dbJournal) context.Context {
	return context.WithValue(ctx, journalKey{}, j)
}

// journalOf returns the journal withJournal put in ctx, or nil.
func journalOf(ctx context.Context) *dbJournal {
	j, _ := ctx.Value(journalKey{}).(*dbJournal)
	return j
}

// Note keeps a history entry for the next commit. A result note also
// becomes the execution's result.
func (j *dbJournal) Note(_ context.Context, n *engine.Note) error {
	row := &store.FlowNote{ExecutionID: j.execID, Seq: j.next(), Key: n.Key, Reference: n.Reference, Kind: n.Kind,
		Message: n.Message, CreatedAt: n.Time}
	row.Message, _ = j.red.redact(row.Message).(string)
	if n.Data != nil {
		if err := j.s.withJSON(j.red.redact(n.Data), func(b []byte) error { row.Data = string(b); return nil }); err != nil {
			return j.fail(fmt.Errorf("encode a note of step %s: %w", n.Key, err))
		}
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.pending.notes = append(j.pending.notes, row)
	j.pending.size += len(row.Message) + len(row.Data)
	if n.Kind == catalog.NoteResult {
		msg := n.Message
		j.pending.result = &msg
	}
	return nil
}
