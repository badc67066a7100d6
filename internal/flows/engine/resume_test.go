package engine_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/flows/engine"
)

const resumeFlow = `
do:
  - first: {call: test.side, with: {id: first}}
  - loop:
      for: {each: n, in: $workflow.input.ns}
      do:
        - work:
            call: test.side
            with: {id: '${ "work-\($n)" }'}
            export: {as: '$context + {last: $n}'}
        - check:
            switch:
              - odd: {when: $n % 2 == 1, then: continue}
              - even: {then: exit}
        - oddOnly: {call: test.side, with: {id: '${ "odd-\($n)" }'}}
  - guarded:
      try:
        - flaky: {call: test.flaky}
      catch:
        retry: {delay: {seconds: 1}, limit: {attempt: {count: 3}}}
  - decide:
      switch:
        - jump: {when: $context.last == 3, then: final}
  - skipped: {call: test.side, with: {id: skipped}}
  - final:
      call: test.side
      with: {id: final}
      export: {as: '$context + {done: true}'}
  - tail:
      set: {done: '${ $context.done }', last: '${ $context.last }', flaky: '${ $input }'}
`

// sideEffects counts completed side effects by id. The crash-th call
// (counting calls of test.side and test.flaky) kills the run instead of
// completing, the way a process crash would interrupt it.
type sideEffects struct {
	mu      sync.Mutex
	calls   int
	crashAt int
	crashed bool
	cancel  context.CancelFunc
	done    map[string]int
	flaky   int
}

func (s *sideEffects) catalog() *fakeCatalog {
	cat := newFakeCatalog()
	cat.add("test.side", func(ctx context.Context, args map[string]any, _ *engine.CallEnv) (any, error) {
		if err := s.maybeCrash(ctx); err != nil {
			return nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.done[args["id"].(string)]++
		return map[string]any{"id": args["id"]}, nil
	})
	cat.add("test.flaky", func(ctx context.Context, _ map[string]any, _ *engine.CallEnv) (any, error) {
		if err := s.maybeCrash(ctx); err != nil {
			return nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.flaky++
		if s.flaky == 1 {
			return nil, &engine.Fault{Type: engine.ErrCommunication, Status: 503}
		}
		s.done["flaky"]++
		return "flaky-ok", nil
	})
	return cat
}

func (s *sideEffects) maybeCrash(ctx context.Context) error {
	s.mu.Lock()
	s.calls++
	crash := s.calls == s.crashAt && !s.crashed
	if crash {
		s.crashed = true
	}
	s.mu.Unlock()
	if crash {
		s.cancel()
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

// TestCrashResume interrupts an execution at every call in turn and
// resumes it from its journal: it must complete with the output of an
// uninterrupted run, and no completed side effect may run twice.
func TestCrashResume(t *testing.T) {
	t.Parallel()
	w := parse(t, resumeFlow)
	input := map[string]any{"ns": []any{1, 2, 3}}
	wantDone := map[string]int{"first": 1, "work-1": 1, "odd-1": 1, "work-2": 1, "work-3": 1, "odd-3": 1, "flaky": 1, "final": 1}

	clean := &sideEffects{done: map[string]int{}, cancel: func() {}}
	eng := engine.New(engine.Config{Catalog: clean.catalog(), Clock: newFakeClock()})
	base := runFlow(t, eng, w, input)
	if base.fault != nil || base.err != nil {
		t.Fatalf("uninterrupted run: %v %v", base.fault, base.err)
	}
	if err := sameJSON(wantDone, clean.done); err != nil {
		t.Fatalf("uninterrupted side effects: %v", err)
	}
	totalCalls := clean.calls

	for crashAt := 1; crashAt <= totalCalls; crashAt++ {
		t.Run(fmt.Sprintf("crash at call %d", crashAt), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s := &sideEffects{done: map[string]int{}, crashAt: crashAt, cancel: cancel}
			eng := engine.New(engine.Config{Catalog: s.catalog(), Clock: newFakeClock()})
			journal := engine.NewMemoryJournal()
			opts := engine.RunOptions{ExecutionID: "exec-1", Journal: journal, StartedAt: time.Unix(1700000000, 0)}

			_, err := eng.Run(ctx, w, input, opts)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted run: err = %v, want context.Canceled", err)
			}
			res, err := eng.Run(context.Background(), w, input, opts)
			if err != nil {
				t.Fatalf("resumed run: %v", err)
			}
			if err := sameJSON(base.out, res.Output); err != nil {
				t.Errorf("resumed output: %v", err)
			}
			if err := sameJSON(wantDone, s.done); err != nil {
				t.Errorf("side effects after resume (each must happen once): %v", err)
			}
		})
	}
}
