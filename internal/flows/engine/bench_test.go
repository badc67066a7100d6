package engine_test

import (
	"context"
	"testing"

	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/flows/engine/enginetest"
)

// BenchmarkRun executes a 10-task flow (set, switch and calls of a no-op
// catalog function) with an in-memory journal.
func BenchmarkRun(b *testing.B) {
	eng := engine.New(engine.Config{Catalog: noopCatalog{}})
	w := parse(b, enginetest.BenchFlow)
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
