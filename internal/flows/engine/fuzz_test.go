package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
)

// FuzzJQ runs any jq expression on any JSON input under Vigil's limits
// (small ones, so that each run is quick): the flow must end with an
// output or a fault, never panic, loop or grow without bound.
func FuzzJQ(f *testing.F) {
	for _, s := range [][2]string{
		{".a", `{"a":1}`},
		{"[range(1e9)]", `null`},
		{"def f: f; f", `null`},
		{`"x" * 100000`, `null`},
		{"[repeat(1)]", `null`},
		{".items | map(.n * 2) | add", `{"items":[{"n":1},{"n":2}]}`},
		{"$input.a // $context", `{"a":null}`},
		{"tojson | fromjson | .[0]", `[1,2,3]`},
		{"reduce range(100000) as $i ([]; . + [$i])", `null`},
		{"$ENV", `null`},
	} {
		f.Add(s[0], s[1])
	}
	eng := engine.New(engine.Config{Limits: engine.Limits{ExprSteps: 200000, MaxOutputBytes: 1 << 16}})
	f.Fuzz(func(t *testing.T, expr, input string) {
		var in any
		if json.Unmarshal([]byte(input), &in) != nil {
			return
		}
		doc, _ := json.Marshal(map[string]any{
			"document": map[string]any{"dsl": "1.0.0", "namespace": "fuzz", "name": "jq", "version": "1.0.0"},
			"do":       []any{map[string]any{"x": map[string]any{"set": map[string]any{"out": "${ " + expr + " }"}}}},
		})
		w, err := dsl.Parse(doc)
		if err != nil {
			return
		}
		res, err := eng.Run(context.Background(), w, in, engine.RunOptions{Journal: engine.NewMemoryJournal()})
		var fault *engine.Fault
		if err != nil && !errors.As(err, &fault) {
			t.Fatalf("Run(%q on %s): %v; want an output or a fault", expr, input, err)
		}
		if err == nil {
			// The limit counts a string's bytes; JSON may write one byte
			// as six (\u0001, and & < > under HTML escaping), so the bound
			// here is six times the limit: output that grew without
			// bound still exceeds it.
			var out bytes.Buffer
			enc := json.NewEncoder(&out)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(res.Output)
			if out.Len() > 6<<16+1<<10 {
				t.Fatalf("Run(%q) produced %d bytes past the output limit", expr, out.Len())
			}
		}
	})
}
