package engine

import (
	"context"
	"fmt"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
)

// Check verifies what dsl.Parse cannot know: that every custom function a
// flow calls is declared under use.functions or is in the catalog, and,
// when a FlowResolver is configured, that every helper flow it runs can be
// found. Catalogs implementing ArgChecker also check each call's
// arguments. It returns a *dsl.ValidationError listing each problem, or nil.
func (e *Engine) Check(ctx context.Context, w *dsl.Workflow) error {
	var probs []dsl.Problem
	w.Walk(func(tp string, t *dsl.Task) {
		switch {
		case t.Call != nil && t.Call.HTTP == nil && t.Call.OpenAPI == nil && t.Call.Function != "":
			name := t.Call.Function
			if w.Use.Functions[name] != nil {
				break
			}
			if e.cfg.Catalog == nil || !e.cfg.Catalog.Lookup(name) {
				probs = append(probs, dsl.Problem{Path: tp + ".call", Line: t.Line, Msg: fmt.Sprintf("function %s is not in the catalog", name)})
				break
			}
			if ac, ok := e.cfg.Catalog.(ArgChecker); ok {
				args := map[string]any{}
				if t.Call.With != nil {
					args, _ = t.Call.With.Value.(map[string]any)
				}
				for _, p := range ac.CheckArgs(name, args) {
					path := tp + ".with"
					if p.Arg != "" {
						path += "." + p.Arg
					}
					line := t.Call.With.Line(p.Arg)
					if line == 0 {
						line = t.Line
					}
					probs = append(probs, dsl.Problem{Path: path, Line: line, Msg: p.Msg})
				}
			}
		case t.Run != nil && t.Run.Workflow != nil && e.cfg.Flows != nil:
			rw := t.Run.Workflow
			ref := FlowRef{Namespace: rw.Namespace, Name: rw.Name, Version: rw.Version}
			if _, err := e.cfg.Flows.Resolve(ctx, ref); err != nil {
				probs = append(probs, dsl.Problem{Path: tp + ".run.workflow", Line: t.Line, Msg: fmt.Sprintf("helper flow %s cannot be found: %v", ref, err)})
			}
		}
	})
	if len(probs) > 0 {
		return &dsl.ValidationError{Problems: probs}
	}
	return nil
}
