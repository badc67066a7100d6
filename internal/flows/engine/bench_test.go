package engine_test

import (
	"context"
	"testing"

	"github.com/vigil-ispm/vigil/internal/flows/engine"
)

const benchFlow = `
do:
  - init: {set: {count: 0, user: '${ .user }'}}
  - route:
      switch:
        - okta: {when: .user.source == "Okta", then: suspend}
        - other: {then: end}
  - suspend: {call: test.noop, with: {user: '${ .user.id }'}}
  - s1: {set: {step: 1, user: '${ $input.user }'}}
  - check:
      switch:
        - again: {when: .step > 5, then: end}
  - s2: {set: {step: '${ .step + 1 }', user: '${ .user }'}}
  - notify: {call: test.noop, with: {msg: '${ "user \(.user.id)" }'}}
  - s3: {set: {step: '${ .step + 1 }'}}
  - log: {call: test.noop, with: {step: '${ .step }'}}
  - done: {set: {result: '${ .step }', ok: true}}
`

// BenchmarkRun executes a 10-task flow (set, switch and calls of a no-op
// catalog function) with an in-memory journal.
func BenchmarkRun(b *testing.B) {
	eng := engine.New(engine.Config{Catalog: noopCatalog{}})
	w := parse(b, benchFlow)
	input := map[string]any{"user": map[string]any{"id": "00u1", "source": "Okta"}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		res, err := eng.Run(ctx, w, input, engine.RunOptions{ExecutionID: "bench"})
		if err != nil || res.Steps != 10 {
			b.Fatalf("run: %v (steps %d)", err, res.Steps)
		}
	}
}

// noopCatalog answers every function with null, without recording calls.
type noopCatalog struct{}

func (noopCatalog) Lookup(string) bool { return true }

func (noopCatalog) Call(context.Context, string, map[string]any, *engine.CallEnv) (any, error) {
	return nil, nil
}
