package engine

import (
	"context"
	"sync"
)

// MemoryJournal is a Journal kept in memory, for tests and standalone
// runs (vigil flows run). It is safe for concurrent use.
type MemoryJournal struct {
	mu    sync.Mutex
	steps map[string]*Step
	order []*Step
	notes []*Note
}

// NewMemoryJournal returns an empty journal.
func NewMemoryJournal() *MemoryJournal {
	return &MemoryJournal{steps: map[string]*Step{}}
}

// Lookup returns the step recorded at key.
func (j *MemoryJournal) Lookup(_ context.Context, key string) (*Step, bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	s, ok := j.steps[key]
	return s, ok, nil
}

// Record keeps step, replacing an earlier record at the same key.
func (j *MemoryJournal) Record(_ context.Context, step *Step) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.steps[step.Key] = step
	j.order = append(j.order, step)
	return nil
}

// Note keeps a history entry.
func (j *MemoryJournal) Note(_ context.Context, n *Note) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.notes = append(j.notes, n)
	return nil
}

// Steps returns the recorded steps in the order they were recorded.
func (j *MemoryJournal) Steps() []*Step {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]*Step(nil), j.order...)
}

// Notes returns the history entries in the order they were added.
func (j *MemoryJournal) Notes() []*Note {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]*Note(nil), j.notes...)
}
