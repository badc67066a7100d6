package engine_test

import (
	"context"
	"testing"

	"github.com/vigil-ispm/vigil/internal/flows/engine"
)

// pureCatalog is a fakeCatalog that names some of its functions pure.
type pureCatalog struct {
	*fakeCatalog
	pure map[string]bool
}

func (c pureCatalog) Pure(name string) bool { return c.pure[name] }

// TestStepEffect checks which steps the engine marks as effects: those a
// durable journal must commit before the flow goes on, because running
// them again could act outside the execution twice or give another value.
func TestStepEffect(t *testing.T) {
	t.Parallel()
	cat := pureCatalog{fakeCatalog: newFakeCatalog(), pure: map[string]bool{"test.pure": true}}
	for _, name := range []string{"test.act", "test.pure"} {
		cat.add(name, func(context.Context, map[string]any, *engine.CallEnv) (any, error) {
			return map[string]any{"ok": true}, nil
		})
	}
	eng := engine.New(engine.Config{Catalog: cat, Clock: newFakeClock()})
	w := parse(t, `use:
  functions:
    local: {set: {a: 1}}
do:
  - classify: {set: {v: '${ .n + 1 }'}}
  - route:
      switch:
        - big: {when: '${ .v > 100 }', then: end}
        - other: {then: continue}
  - act: {call: test.act}
  - pure: {call: test.pure}
  - stamp: {set: {at: '${ now }'}}
  - named: {set: {n: '${ $task.name }'}}
  - known: {set: {known: '${ "known" }'}}
  - skipped: {if: '${ now < 0 }', set: {x: 1}}
  - skippedPure: {if: '${ false }', set: {x: 1}}
  - pause: {wait: PT1S}
  - fn: {call: local}
  - group:
      do:
        - inner: {set: {i: 1}}
  - tell:
      emit:
        event:
          with: {source: https://vigil.example.com, type: com.example.told.v1}
  - fail:
      try:
        - boom: {raise: {error: {type: https://example.com/x, status: 500}}}
      catch: {}
`)
	r := runFlow(t, eng, w, map[string]any{"n": 1})
	if r.err != nil || r.fault != nil {
		t.Fatalf("run: %v %v", r.err, r.fault)
	}
	want := map[string]bool{
		"classify": false, "route": false, "act": true, "pure": false, "stamp": true, "named": true,
		"known": false, "skipped": true, "skippedPure": false, "pause": true, "fn": false, "local": false,
		"group": false, "inner": false, "tell": true, "fail": false, "boom": false,
	}
	seen := map[string]bool{}
	for _, st := range r.journal.Steps() {
		seen[st.Name] = true
		w, ok := want[st.Name]
		if !ok {
			t.Errorf("unexpected step %s", st.Name)
			continue
		}
		if st.Effect != w {
			t.Errorf("step %s (%s): effect %v; want %v", st.Name, st.Kind, st.Effect, w)
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("step %s was not recorded", name)
		}
	}
}
