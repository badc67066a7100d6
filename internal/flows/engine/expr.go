package engine

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/itchyny/gojq"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
)

// vars is a scope of named expression variables ($color, $error), a
// linked list so nested scopes share their parents without copying.
type vars struct {
	name  string
	value any
	next  *vars
}

func (v *vars) with(name string, value any) *vars {
	return &vars{name: name, value: value, next: v}
}

func (v *vars) lookup(name string) any {
	for ; v != nil; v = v.next {
		if v.name == name {
			return v.value
		}
	}
	return nil
}

// taskRun describes the task being run, for $task.
type taskRun struct {
	name      string
	ref       string
	def       map[string]any
	rawInput  any
	rawOutput any
	started   time.Time
	// clock is set once an expression evaluated for the task read the
	// clock (dsl.UsesClock): its step is then an effect.
	clock atomic.Bool
}

// evalEnv holds the arguments of an expression evaluation.
type evalEnv struct {
	task    *taskRun
	context any
	input   any
	output  any
	vars    *vars
}

// budgetCtx counts the jq virtual machine's steps: gojq asks Done once per
// instruction, so after limit instructions it reports done. This bounds
// both time and memory of a single evaluation.
type budgetCtx struct {
	context.Context
	n        int
	limit    int
	exceeded bool
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

var errBudget = errors.New("expression budget exceeded")

// Done counts a step of the expression: past the limit it reports the
// context done, which stops gojq.
func (b *budgetCtx) Done() <-chan struct{} {
	b.n++
	if b.n > b.limit {
		b.exceeded = true
		return closedChan
	}
	return b.Context.Done()
}

// Err is errBudget once the limit was passed, else the parent's error.
func (b *budgetCtx) Err() error {
	if b.exceeded {
		return errBudget
	}
	return b.Context.Err()
}

// eval runs a compiled expression on data and returns its first result.
func (x *execution) eval(ctx context.Context, e *dsl.Expr, data any, env *evalEnv) (any, error) {
	if e == nil {
		return data, nil
	}
	if v, ok := fieldsOf(data, e.Path()); ok {
		return v, nil
	}
	vals := make([]any, len(e.Vars))
	u := e.Uses
	if u&dsl.UsesClock != 0 && env != nil && env.task != nil {
		env.task.clock.Store(true)
	}
	if env != nil {
		vals[0] = env.context
		vals[1] = env.input
		vals[2] = env.output
		if u&dsl.UsesTask != 0 && env.task != nil {
			vals[5] = x.taskDescriptor(env.task)
		}
		for i := len(dsl.StandardVars); i < len(vals); i++ {
			vals[i] = env.vars.lookup(e.Vars[i])
		}
	}
	if u&dsl.UsesSecret != 0 {
		s, err := x.secretsMap(ctx)
		if err != nil {
			return nil, err
		}
		vals[3], vals[4] = s, s
	}
	if u&dsl.UsesWorkflow != 0 {
		vals[6] = x.workflowDescriptor()
	}
	if u&dsl.UsesRuntime != 0 {
		vals[7] = x.runtimeDescriptor()
	}
	bc := &budgetCtx{Context: ctx, limit: x.limits.ExprSteps}
	iter := e.Code().RunWithContext(bc, data, vals...)
	v, ok := iter.Next()
	if !ok {
		return nil, nil
	}
	if err, isErr := v.(error); isErr {
		if bc.exceeded {
			return nil, faultf(ErrExpression, 400, "Expression too expensive",
				"the jq expression %q did more than %d steps of work; it may loop forever or build a huge value", short(e.Source), x.limits.ExprSteps)
		}
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		var he *gojq.HaltError
		if errors.As(err, &he) && he.Value() == nil {
			return nil, nil
		}
		return nil, faultf(ErrExpression, 400, "Expression failed", "the jq expression %q failed: %v", short(e.Source), err)
	}
	return v, nil
}

// fieldsOf reads a path of object fields (dsl.Expr.Path) from v as jq
// does: a missing field or null gives null. ok is false for an empty path
// and when the path meets anything but an object or null, which jq
// reports as an error: the program is run then, to report it.
func fieldsOf(v any, path []string) (any, bool) {
	if len(path) == 0 {
		return nil, false
	}
	for _, name := range path {
		switch o := v.(type) {
		case map[string]any:
			v = o[name]
		case nil:
		default:
			return nil, false
		}
	}
	return v, true
}

func short(s string) string {
	if len(s) > 120 {
		return s[:117] + "..."
	}
	return s
}

// evalBool evaluates a condition with jq's truthiness: null and false are
// false, everything else true.
func (x *execution) evalBool(ctx context.Context, e *dsl.Expr, data any, env *evalEnv) (bool, error) {
	v, err := x.eval(ctx, e, data, env)
	if err != nil {
		return false, err
	}
	return truthy(v), nil
}

func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	}
	return true
}

// evalTemplate evaluates every expression in a template.
func (x *execution) evalTemplate(ctx context.Context, t *dsl.Template, data any, env *evalEnv) (any, error) {
	if t == nil {
		return nil, nil
	}
	if t.Static {
		// A copy: the template belongs to the shared workflow and the value
		// may reach code that changes it (a catalog function, a caller).
		return deepCopy(t.Value), nil
	}
	return x.evalValue(ctx, t.Value, data, env)
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

func (x *execution) evalValue(ctx context.Context, v any, data any, env *evalEnv) (any, error) {
	switch v := v.(type) {
	case *dsl.Expr:
		return x.eval(ctx, v, data, env)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			r, err := x.evalValue(ctx, e, data, env)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			r, err := x.evalValue(ctx, e, data, env)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

func dateTime(t time.Time) map[string]any {
	return map[string]any{
		"iso8601": t.UTC().Format(time.RFC3339Nano),
		"epoch": map[string]any{
			"seconds":      int(t.Unix()),
			"milliseconds": int(t.UnixMilli()),
		},
	}
}

func (x *execution) taskDescriptor(t *taskRun) map[string]any {
	return map[string]any{
		"name":       t.name,
		"reference":  t.ref,
		"definition": t.def,
		"input":      t.rawInput,
		"output":     t.rawOutput,
		"startedAt":  dateTime(t.started),
	}
}

func (x *execution) workflowDescriptor() any {
	x.wfDescOnce.Do(func() {
		x.wfDesc = map[string]any{
			"id":         x.id,
			"definition": x.wf.Definition,
			"input":      x.rawInput,
			"startedAt":  dateTime(x.started),
		}
	})
	return x.wfDesc
}

func (x *execution) runtimeDescriptor() any {
	md := x.eng.cfg.RuntimeMetadata
	if md == nil {
		md = map[string]any{}
	}
	return map[string]any{"name": "Vigil", "version": x.eng.cfg.RuntimeVersion, "metadata": md}
}

// secretsMap loads the secrets the workflow declares under use.secrets,
// once per execution, and remembers their values for redaction.
func (x *execution) secretsMap(ctx context.Context) (map[string]any, error) {
	x.secretsMu.Lock()
	defer x.secretsMu.Unlock()
	if x.secrets != nil {
		return x.secrets, nil
	}
	m := make(map[string]any, len(x.wf.Use.Secrets))
	for _, name := range x.wf.Use.Secrets {
		v, err := x.loadSecret(ctx, name)
		if err != nil {
			return nil, err
		}
		m[name] = v
	}
	x.secrets = m
	return m, nil
}

func (x *execution) secret(ctx context.Context, name string) (any, error) {
	return x.loadSecret(ctx, name)
}

func (x *execution) loadSecret(ctx context.Context, name string) (any, error) {
	src := x.eng.cfg.Secrets
	if src == nil {
		return nil, faultf(ErrAuthorization, 403, "Secret not available", "secret %s is not available: no secret source is configured", name)
	}
	v, err := src.Secret(ctx, name)
	if err != nil {
		if errors.Is(err, ErrSecretNotFound) {
			return nil, faultf(ErrAuthorization, 403, "Secret not available", "secret %s does not exist", name)
		}
		return nil, faultf(ErrAuthorization, 403, "Secret not available", "secret %s could not be read", name)
	}
	v, err = Normalize(v)
	if err != nil {
		return nil, faultf(ErrConfiguration, 400, "Invalid secret", "secret %s is not a string or a JSON object", name)
	}
	x.red.add(v)
	return v, nil
}
