package engine

import (
	"context"
	"errors"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
)

// call runs a call task: http, openapi, a use.functions function or a
// catalog function.
func (x *execution) call(ctx context.Context, c *dsl.Call, ref, key string, in, cx any, env *evalEnv) (any, any, string, error) {
	switch {
	case c.HTTP != nil:
		out, err := x.callHTTP(ctx, c.HTTP, in, env)
		return out, cx, "", err
	case c.OpenAPI != nil:
		out, err := x.callOpenAPI(ctx, c.OpenAPI, in, env)
		return out, cx, "", err
	}
	args, err := x.evalTemplate(ctx, c.With, in, env)
	if err != nil {
		return nil, cx, "", err
	}
	if fn := x.wf.Use.Functions[c.Function]; fn != nil {
		// A function declared under use.functions is a task whose input is
		// the call's arguments.
		var input any = map[string]any{}
		if args != nil {
			input = args
		}
		nt := &dsl.NamedTask{Name: c.Function, Task: fn}
		r, err := x.runTask(ctx, nt, "/use/functions/"+c.Function, key+"/call", env.vars, input, cx)
		if err != nil {
			return nil, cx, "", err
		}
		return r.out, r.cx, "", nil
	}
	cat := x.eng.cfg.Catalog
	if cat == nil || !cat.Lookup(c.Function) {
		return nil, cx, "", faultf(ErrConfiguration, 400, "Unknown function", "function %s is not in the catalog", c.Function)
	}
	m, _ := args.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	callEnv := &CallEnv{
		ExecutionID:   x.id,
		RootID:        x.root,
		FlowID:        x.opts.FlowID,
		Folder:        x.opts.Folder,
		Flow:          x.wf.Document,
		TaskReference: ref,
		DryRun:        x.opts.DryRun,
		x:             x,
		key:           key,
	}
	out, err := cat.Call(ctx, c.Function, m, callEnv)
	if err != nil {
		if isPark(err) {
			return nil, cx, "", err
		}
		var f *Fault
		if errors.As(err, &f) {
			return nil, cx, "", f
		}
		if ctx.Err() != nil {
			return nil, cx, "", context.Cause(ctx)
		}
		return nil, cx, "", faultf(ErrRuntime, 500, "Function failed", "function %s failed: %v", c.Function, err)
	}
	out, err = Normalize(out)
	if err != nil {
		return nil, cx, "", faultf(ErrRuntime, 500, "Function failed", "function %s returned a value that is not JSON: %v", c.Function, err)
	}
	return out, cx, "", nil
}
