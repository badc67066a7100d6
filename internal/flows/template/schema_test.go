package template_test

import (
	"testing"

	"github.com/vigil-ispm/vigil/internal/flows/dsl/dsltest"
	"github.com/vigil-ispm/vigil/internal/flows/template"
)

// TestFlowsPassOfficialSchema renders every shipped template, with its
// variables set and with none set, and validates each flow against the
// Serverless Workflow specification's own JSON Schema: a template flow
// must load in any DSL 1.0 runtime, not only in Vigil.
func TestFlowsPassOfficialSchema(t *testing.T) {
	schema := dsltest.Schema(t)
	c, err := template.Load()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, tp := range c.List() {
		set := map[string]string{}
		for _, v := range tp.Variables {
			set[v.Name] = "value-1"
		}
		for _, vars := range []map[string]string{set, nil} {
			r, err := tp.Render(vars)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range r.Bundle.Flows {
				n++
				if err := dsltest.ValidateYAML(t, schema, f.Document); err != nil {
					t.Errorf("%s %s: %v", tp.Name, f.Source, err)
				}
			}
		}
	}
	if n < 20 {
		t.Errorf("validated %d flows, want the ISPM template's 10 twice at least", n)
	}
}
