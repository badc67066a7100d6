package dsl_test

import (
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/dsl/dsltest"
)

// TestAgreesWithOfficialSchema checks that documents the official schema
// rejects are rejected by Parse too, and that a valid one passes both.
func TestAgreesWithOfficialSchema(t *testing.T) {
	t.Parallel()
	schema := dsltest.Schema(t)
	tests := []struct {
		name  string
		doc   string
		valid bool
	}{
		{"valid", header + "do:\n  - a:\n      set:\n        x: ${ .y }\n  - b:\n      wait: PT1S\n", true},
		{"missing document", "do:\n  - a: {set: {x: 1}}\n", false},
		{"missing do", header, false},
		{"bad namespace", "document: {dsl: '1.0.0', namespace: 'not valid!', name: a, version: '1.0.0'}\ndo:\n  - a: {set: {x: 1}}\n", false},
		{"bad version", "document: {dsl: '1.0.0', namespace: ns, name: a, version: 'one'}\ndo:\n  - a: {set: {x: 1}}\n", false},
		{"two tasks in one item", header + "do:\n  - a: {set: {x: 1}}\n    b: {set: {x: 2}}\n", false},
		{"extra property in call", header + "do:\n  - a:\n      call: http\n      with: {method: get, endpoint: 'https://x.example'}\n      foo: bar\n", false},
		{"switch case without then", header + "do:\n  - a:\n      switch:\n        - c: {when: .x}\n", false},
		{"http without method", header + "do:\n  - a:\n      call: http\n      with: {endpoint: 'https://x.example'}\n", false},
		{"raise without status", header + "do:\n  - a:\n      raise:\n        error: {type: 'https://e.example/x'}\n", false},
		{"empty set", header + "do:\n  - a:\n      set: {}\n", false},
		{"wait bad type", header + "do:\n  - a:\n      wait: 12\n", false},
		{"for without in", header + "do:\n  - a:\n      for: {each: x}\n      do:\n        - b: {set: {x: 1}}\n", false},
		{"try without catch", header + "do:\n  - a:\n      try:\n        - b: {set: {x: 1}}\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var inst any
			if err := yaml.Unmarshal([]byte(tt.doc), &inst); err != nil {
				t.Fatal(err)
			}
			schemaErr := schema.Validate(inst)
			if (schemaErr == nil) != tt.valid {
				t.Fatalf("official schema: valid=%v, want %v (%v)", schemaErr == nil, tt.valid, schemaErr)
			}
			_, err := dsl.Parse([]byte(tt.doc))
			if (err == nil) != tt.valid {
				t.Errorf("Parse: valid=%v, want %v (%v)", err == nil, tt.valid, err)
			}
		})
	}
}

// TestCTKDocumentsValid checks that Parse accepts the conformance
// examples that the official schema accepts.
func TestExamplesSchemaAgreement(t *testing.T) {
	t.Parallel()
	schema := dsltest.Schema(t)
	files, _ := filepath.Glob(filepath.Join(dsltest.Dir(t), "examples", "*.yaml"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		var inst any
		if err := yaml.Unmarshal(data, &inst); err != nil {
			t.Fatal(err)
		}
		if schema.Validate(inst) != nil {
			// Parse must reject what the schema rejects.
			if _, err := dsl.Parse(data); err == nil {
				t.Errorf("%s: the official schema rejects it but Parse accepts it", filepath.Base(f))
			}
		}
	}
}
