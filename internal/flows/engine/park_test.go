package engine_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/flows/engine"
)

const parkFlow = `
do:
  - before: {call: test.side, with: {id: before}}
  - guarded:
      try:
        - ask: {call: test.ask, with: {message: proceed}}
      catch:
        as: error
        do:
          - caught: {call: test.side, with: {id: caught}}
  - act:
      call: test.side
      with: {id: act, user: '${ .user }'}
  - after: {set: {answer: '${ $context.answer // . }'}}
`

// TestParkResumes parks an execution at a function that waits for an
// answer: the run returns the Park (try/catch does not catch it), nothing
// is recorded for the parked task, and a run again with the same journal
// reruns only that task and goes on.
func TestParkResumes(t *testing.T) {
	t.Parallel()
	w := parse(t, parkFlow)
	until := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	answered := false
	done := map[string]int{}
	var sites []engine.CallSite
	var input any
	cat := newFakeCatalog()
	cat.add("test.side", func(_ context.Context, args map[string]any, _ *engine.CallEnv) (any, error) {
		done[args["id"].(string)]++
		return map[string]any{"id": args["id"]}, nil
	})
	cat.add("test.ask", func(_ context.Context, _ map[string]any, env *engine.CallEnv) (any, error) {
		sites, input = env.CallsAfter(), env.Input()
		if !answered {
			return nil, &engine.Park{Until: until, Reason: "an answer"}
		}
		return map[string]any{"approved": true}, nil
	})
	eng := engine.New(engine.Config{Catalog: cat, Clock: newFakeClock()})
	journal := engine.NewMemoryJournal()
	opts := engine.RunOptions{ExecutionID: "exec-1", Journal: journal, StartedAt: time.Unix(1700000000, 0)}
	in := map[string]any{"user": "00u1"}

	_, err := eng.Run(context.Background(), w, in, opts)
	var p *engine.Park
	if !errors.As(err, &p) || !p.Until.Equal(until) {
		t.Fatalf("first run: err = %v, want the Park", err)
	}
	for _, st := range journal.Steps() {
		if st.Name == "ask" || st.Name == "guarded" || st.Fault != nil {
			t.Errorf("recorded %s (fault %v) for a parked task", st.Name, st.Fault)
		}
	}
	if done["before"] != 1 || done["act"] != 0 || done["caught"] != 0 {
		t.Fatalf("side effects before the answer: %v", done)
	}
	if len(sites) != 2 || sites[0].Function != "test.side" || sites[0].Reference != "/do/1/guarded/catch/do/0/caught" ||
		sites[1].Reference != "/do/2/act" {
		t.Errorf("calls after the parked task: %+v", sites)
	}
	if with, _ := sites[1].With.(map[string]any); with["user"] != "${ .user }" {
		t.Errorf("with of the next call = %v, want it as written", sites[1].With)
	}
	if m, _ := input.(map[string]any); m["user"] != "00u1" {
		t.Errorf("Input() = %v", input)
	}

	answered = true
	res, err := eng.Run(context.Background(), w, in, opts)
	if err != nil {
		t.Fatalf("resumed run: %v", err)
	}
	if done["before"] != 1 || done["act"] != 1 || done["caught"] != 0 {
		t.Errorf("side effects after the answer: %v, want before and act once", done)
	}
	if m, _ := res.Output.(map[string]any); m["answer"] == nil {
		t.Errorf("output %v", res.Output)
	}
}
