package dsl_test

import (
	"testing"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
)

// FuzzParse feeds the parser and validator any document: it must return a
// workflow or an error, never panic, and a document it accepts must parse
// again the same way.
func FuzzParse(f *testing.F) {
	f.Add([]byte("document: {dsl: '1.0.0', namespace: t, name: n, version: '1.0.0'}\ndo:\n  - a: {set: {x: '${ .y }'}}\n"))
	f.Add([]byte("document: {dsl: '1.0.0', namespace: t, name: n, version: '1.0.0'}\ndo:\n  - s:\n      switch:\n        - c: {when: '${ .a == 1 }', then: end}\n"))
	f.Add([]byte(`{"document":{"dsl":"1.0.0","namespace":"t","name":"n","version":"1.0.0"},"do":[{"f":{"for":{"in":".items"},"do":[{"x":{"set":{"i":"${ $index }"}}}]}}]}`))
	f.Add([]byte("&a [*a, *a, *a]"))
	f.Add([]byte("document: {dsl: '1.0.0'}\ndo: [{x: {call: http, with: {method: get, endpoint: 'https://example.com'}}}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := dsl.Parse(data)
		if err != nil {
			if w != nil {
				t.Fatalf("Parse returned a workflow and the error %v", err)
			}
			return
		}
		if _, err := dsl.Parse(data); err != nil {
			t.Fatalf("a document accepted once is refused the second time: %v", err)
		}
	})
}
