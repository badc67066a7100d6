package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
)

// execution is the state of one run of a workflow.
type execution struct {
	eng *Engine
	wf  *dsl.Workflow
	id  string
	// root is the id of the top-level execution, whose journal this one
	// records into.
	root    string
	opts    RunOptions
	limits  Limits
	clock   Clock
	journal Journal
	started time.Time
	// outer is the context Run was called with, before limits: spawned
	// children run under it.
	outer    context.Context
	rawInput any
	depth    int
	saveData bool
	// keyPrefix prefixes journal keys of an awaited helper flow, which
	// records into its parent's journal.
	keyPrefix string

	steps       atomic.Int64
	stepCounter *atomic.Int64

	red *redactor

	secretsMu sync.Mutex
	secrets   map[string]any

	wfDescOnce sync.Once
	wfDesc     any

	children     *sync.WaitGroup
	childMu      *sync.Mutex
	childResults []*Child
	childSink    *[]*Child

	httpState *httpState
}

// frame is where a task list runs: its journal key and reference prefixes
// and the variables in scope.
type frame struct {
	key  string
	ref  string
	vars *vars
}

// errTaskTimeout is the cause of a task's timeout; runTask turns it into
// a timeout fault naming the task.
var errTaskTimeout = errors.New("task timed out")

type taskResult struct {
	out       any
	cx        any
	directive string
}

func (x *execution) run(ctx context.Context, in any) (any, error) {
	if x.red == nil {
		x.red = &redactor{}
	}
	if x.children == nil {
		x.children = &sync.WaitGroup{}
		x.childMu = &sync.Mutex{}
		x.childSink = &x.childResults
	}
	if x.httpState == nil {
		x.httpState = newHTTPState()
	}
	if x.outer == nil {
		x.outer = ctx
	}
	limit := x.limits.MaxDuration
	cause := &Fault{Type: ErrTimeout, Status: 408, Title: "Execution timed out",
		Detail: fmt.Sprintf("the execution ran longer than the limit of %s", limit), Instance: "/", fatal: true}
	if x.wf.Timeout != nil && x.wf.Timeout.After != nil {
		d, err := x.duration(ctx, x.wf.Timeout.After, in, nil)
		if err != nil {
			return nil, asFault(err, "/timeout")
		}
		if d < limit {
			limit = d
			cause.Detail = fmt.Sprintf("the workflow did not complete within its timeout of %s", d)
		}
	}
	ctx, cancel := context.WithTimeoutCause(ctx, limit, cause)
	defer cancel()

	data := in
	env := &evalEnv{}
	if wi := x.wf.Input; wi != nil {
		if err := wi.Schema.Validate(data); err != nil {
			return nil, &Fault{Type: ErrValidation, Status: 400, Title: "Invalid workflow input", Detail: err.Error(), Instance: "/input"}
		}
		if wi.From != nil {
			v, err := x.evalTemplate(ctx, wi.From, data, env)
			if err != nil {
				return nil, x.finalErr(ctx, err, "/input/from")
			}
			data = v
		}
	}
	var cx any = map[string]any{}
	out, cx, _, err := x.runList(ctx, x.wf.Do, frame{key: x.keyPrefix + "/do", ref: "/do"}, data, cx)
	if err != nil {
		return nil, x.finalErr(ctx, err, "/do")
	}
	if wo := x.wf.Output; wo != nil {
		if wo.As != nil {
			v, err := x.evalTemplate(ctx, wo.As, out, &evalEnv{context: cx})
			if err != nil {
				return nil, x.finalErr(ctx, err, "/output/as")
			}
			out = v
		}
		if err := wo.Schema.Validate(out); err != nil {
			return nil, &Fault{Type: ErrValidation, Status: 400, Title: "Invalid workflow output", Detail: err.Error(), Instance: "/output"}
		}
	}
	if exceedsSize(out, x.limits.MaxOutputBytes) {
		return nil, &Fault{Type: ErrRuntime, Status: 500, Title: "Output too large",
			Detail: fmt.Sprintf("the workflow output is larger than %d bytes", x.limits.MaxOutputBytes), Instance: "/output"}
	}
	return out, nil
}

// finalErr turns an error ending the execution into what Run returns: a
// fault, or the caller's cancellation as is.
func (x *execution) finalErr(ctx context.Context, err error, instance string) error {
	if isPark(err) {
		return err
	}
	if f, ok := faultAt(err, instance); ok {
		return f
	}
	if ctx.Err() != nil {
		var cf *Fault
		if errors.As(context.Cause(ctx), &cf) {
			return cf
		}
		return err
	}
	return asFault(err, instance)
}

// countStep counts one task against MaxSteps. It returns the *Fault itself,
// not an error, so the caller can name the task without a type assertion.
func (x *execution) countStep() *Fault {
	n := x.stepCounter.Add(1)
	if n > int64(x.limits.MaxSteps) {
		return &Fault{Type: ErrRuntime, Status: 500, Title: "Step limit exceeded",
			Detail: fmt.Sprintf("the execution ran more than %d tasks; a loop or a switch may never end", x.limits.MaxSteps), fatal: true}
	}
	return nil
}

// runList runs a task list from its first task, following flow
// directives. end reports a `then: end` that must end the workflow.
func (x *execution) runList(ctx context.Context, list dsl.TaskList, f frame, input, cx any) (out, cxOut any, end bool, err error) {
	data := input
	var visits []int
	for i := 0; i < len(list); {
		nt := list[i]
		idx := strconv.Itoa(i)
		ref := f.ref + "/" + idx + "/" + nt.Name
		key := f.key + "/" + idx + "/" + nt.Name
		if visits != nil {
			visits[i]++
			if visits[i] > 1 {
				key += "@" + strconv.Itoa(visits[i])
			}
		}
		res, err := x.runTask(ctx, nt, ref, key, f.vars, data, cx)
		if err != nil {
			return nil, cx, false, err
		}
		data, cx = res.out, res.cx
		switch res.directive {
		case "", dsl.DirectiveContinue:
			i++
		case dsl.DirectiveExit:
			return data, cx, false, nil
		case dsl.DirectiveEnd:
			return data, cx, true, nil
		default:
			j := list.Index(res.directive)
			if j < 0 {
				return nil, cx, false, faultf(ErrConfiguration, 400, "Unknown task", "then refers to task %s, which is not in the same task list", res.directive)
			}
			if visits == nil {
				// Count visits from the first jump on, so a task run again
				// gets its own journal key.
				visits = make([]int, len(list))
				for k := 0; k <= i; k++ {
					visits[k] = 1
				}
			}
			i = j
		}
	}
	return data, cx, false, nil
}

// runTask runs one task with the specification's data flow: if, input
// schema and from, the task itself, output as and schema, export as.
func (x *execution) runTask(ctx context.Context, nt *dsl.NamedTask, ref, key string, vs *vars, raw, cx any) (taskResult, error) {
	t := nt.Task
	if f := x.countStep(); f != nil {
		f.Instance = ref
		return taskResult{}, f
	}
	if ctx.Err() != nil {
		return taskResult{}, context.Cause(ctx)
	}
	if st, ok, err := x.journal.Lookup(ctx, key); err != nil {
		return taskResult{}, fmt.Errorf("read the journal at %s: %w", key, err)
	} else if ok {
		if st.Fault != nil {
			return taskResult{}, st.Fault.clone()
		}
		out := st.Output
		if st.Skipped {
			out = raw
		}
		return taskResult{out: out, cx: st.Context, directive: st.Directive}, nil
	}

	tr := &taskRun{name: nt.Name, ref: ref, def: t.Definition, rawInput: raw, started: x.clock.Now()}
	env := &evalEnv{task: tr, context: cx, vars: vs}
	fail := func(err error) (taskResult, error) {
		return taskResult{}, x.recordFault(ctx, nt, ref, key, tr, err)
	}

	if t.If != nil {
		ok, err := x.evalBool(ctx, t.If, raw, env)
		if err != nil {
			return fail(err)
		}
		if !ok {
			st := &Step{Key: key, Reference: ref, Name: nt.Name, Kind: string(t.Kind), Started: tr.started,
				Ended: x.clock.Now(), Skipped: true, Directive: dsl.DirectiveContinue, Context: cx, Effect: tr.clock.Load()}
			if err := x.journal.Record(ctx, st); err != nil {
				return taskResult{}, fmt.Errorf("record step %s: %w", key, err)
			}
			return taskResult{out: raw, cx: cx, directive: dsl.DirectiveContinue}, nil
		}
	}

	in := raw
	if t.Input != nil {
		if err := t.Input.Schema.Validate(in); err != nil {
			return fail(&Fault{Type: ErrValidation, Status: 400, Title: "Invalid task input", Detail: err.Error()})
		}
		if t.Input.From != nil {
			v, err := x.evalTemplate(ctx, t.Input.From, raw, env)
			if err != nil {
				return fail(err)
			}
			in = v
		}
	}
	env.input = in

	tctx := ctx
	if d := x.taskTimeout(ctx, t, in, env); d > 0 {
		var cancel context.CancelFunc
		tctx, cancel = context.WithTimeoutCause(ctx, d, errTaskTimeout)
		defer cancel()
	}

	out, cxAfter, directive, err := x.execKind(tctx, nt, ref, key, tr, in, cx, env)
	if err != nil {
		if tctx.Err() != nil && ctx.Err() == nil && errors.Is(context.Cause(tctx), errTaskTimeout) {
			d := x.taskTimeout(ctx, t, in, env)
			err = &Fault{Type: ErrTimeout, Status: 408, Title: "Task timed out",
				Detail: fmt.Sprintf("task %s did not finish within %s", nt.Name, d), Instance: ref}
		}
		return fail(err)
	}
	tr.rawOutput = out
	env.context = cxAfter

	if t.Output != nil {
		if t.Output.As != nil {
			v, err := x.evalTemplate(ctx, t.Output.As, out, env)
			if err != nil {
				return fail(err)
			}
			out = v
		}
		if err := t.Output.Schema.Validate(out); err != nil {
			return fail(&Fault{Type: ErrValidation, Status: 400, Title: "Invalid task output", Detail: err.Error()})
		}
	}
	if exceedsSize(out, x.limits.MaxOutputBytes) {
		return fail(&Fault{Type: ErrRuntime, Status: 500, Title: "Output too large",
			Detail: fmt.Sprintf("the output of task %s is larger than %d bytes", nt.Name, x.limits.MaxOutputBytes)})
	}
	newCx := cxAfter
	if t.Export != nil {
		if t.Export.As != nil {
			env.output = out
			v, err := x.evalTemplate(ctx, t.Export.As, out, env)
			if err != nil {
				return fail(err)
			}
			if _, isObj := v.(map[string]any); !isObj {
				return fail(&Fault{Type: ErrValidation, Status: 400, Title: "Invalid context",
					Detail: fmt.Sprintf("export.as must produce an object, not %s", typeName(v))})
			}
			newCx = v
		}
		if err := t.Export.Schema.Validate(newCx); err != nil {
			return fail(&Fault{Type: ErrValidation, Status: 400, Title: "Invalid context", Detail: err.Error()})
		}
	}
	if directive == "" {
		directive = t.Then
	}
	if directive == "" {
		directive = dsl.DirectiveContinue
	}
	st := &Step{Key: key, Reference: ref, Name: nt.Name, Kind: string(t.Kind), Started: tr.started, Ended: x.clock.Now(),
		Directive: directive, Output: out, Context: newCx, Effect: x.hasEffect(t) || tr.clock.Load()}
	if x.saveData {
		st.History = &StepData{Input: x.red.redact(in), Output: x.red.redact(out)}
	}
	if err := x.journal.Record(ctx, st); err != nil {
		return taskResult{}, fmt.Errorf("record step %s: %w", key, err)
	}
	return taskResult{out: out, cx: newCx, directive: directive}, nil
}

// recordFault records a faulted task and returns the fault. Errors that
// are not faults (the caller cancelled, a fork branch lost the race) are
// returned unrecorded, so a resumed execution runs that task again; so
// is a Park, so that the parked task runs again when the execution resumes.
func (x *execution) recordFault(ctx context.Context, nt *dsl.NamedTask, ref, key string, tr *taskRun, err error) error {
	if isPark(err) {
		return err
	}
	var f *Fault
	if !errors.As(err, &f) {
		if ctx.Err() != nil {
			if !errors.As(context.Cause(ctx), &f) {
				return err
			}
		} else {
			f = asFault(err, ref)
		}
	}
	if f.Instance == "" {
		f = f.clone()
		f.Instance = ref
	}
	if f.fatal || ctx.Err() != nil {
		// A limit was hit, or the execution is being stopped from outside:
		// not this task's fault. Limits are not recorded either, so a
		// replay can never turn them into ordinary, catchable faults.
		return f
	}
	st := &Step{Key: key, Reference: ref, Name: nt.Name, Kind: string(nt.Task.Kind), Started: tr.started, Ended: x.clock.Now(),
		Fault: f, Context: nil, Effect: x.hasEffect(nt.Task) || tr.clock.Load()}
	if err := x.journal.Record(context.WithoutCancel(ctx), st); err != nil {
		return fmt.Errorf("record step %s: %w", key, err)
	}
	return f
}

// hasEffect tells whether running a task of t's kind reaches outside the
// execution or gives a value that changes between runs (see Step.Effect).
// Composite tasks have none of their own: their children's steps say.
func (x *execution) hasEffect(t *dsl.Task) bool {
	switch t.Kind {
	case dsl.KindWait, dsl.KindEmit:
		return true
	case dsl.KindRun:
		return !x.spawnsOnce(t)
	case dsl.KindCall:
		c := t.Call
		if c == nil || c.HTTP != nil || c.OpenAPI != nil {
			return true
		}
		if x.wf.Use.Functions[c.Function] != nil {
			return false // its task is recorded as a step of its own
		}
		p, ok := x.eng.cfg.Catalog.(PureChecker)
		return !ok || !p.Pure(c.Function)
	}
	return false
}

// spawnsOnce tells whether t starts a helper flow without waiting through
// a OnceSpawner, so that running it again starts nothing new.
func (x *execution) spawnsOnce(t *dsl.Task) bool {
	if r := t.Run; r == nil || r.Workflow == nil || r.Await {
		return false
	}
	sp, ok := x.eng.cfg.Spawner.(OnceSpawner)
	return ok && sp.SpawnsOnce()
}

// taskTimeout is the task's own timeout, or the default for call tasks.
// Other tasks have no default: their expressions are bounded by
// ExprSteps, waits are meant to last, and composite tasks are bounded by
// their children and the execution's limits.
func (x *execution) taskTimeout(ctx context.Context, t *dsl.Task, in any, env *evalEnv) time.Duration {
	if t.Timeout != nil && t.Timeout.After != nil {
		d, err := x.duration(ctx, t.Timeout.After, in, env)
		if err == nil && d > 0 {
			return d
		}
	}
	if t.Kind == dsl.KindCall && t.Call != nil {
		if fn := x.wf.Use.Functions[t.Call.Function]; fn != nil {
			return 0 // the function's own task gets the timeout
		}
		return x.limits.TaskTimeout
	}
	return 0
}

// duration evaluates a duration, literal or expression.
func (x *execution) duration(ctx context.Context, d *dsl.Duration, data any, env *evalEnv) (time.Duration, error) {
	if d == nil {
		return 0, nil
	}
	if d.Expr == nil {
		return d.Value, nil
	}
	v, err := x.eval(ctx, d.Expr, data, env)
	if err != nil {
		return 0, err
	}
	s, ok := v.(string)
	if !ok {
		return 0, faultf(ErrExpression, 400, "Invalid duration", "the duration expression produced %s, not an ISO 8601 string", typeName(v))
	}
	dur, err := dsl.ParseISODuration(s)
	if err != nil {
		return 0, faultf(ErrExpression, 400, "Invalid duration", "%v", err)
	}
	return dur, nil
}

// note adds a history entry with redacted data.
func (x *execution) note(ctx context.Context, key, ref, kind, message string, data any) error {
	n := &Note{Key: key, Reference: ref, Time: x.clock.Now(), Kind: kind, Message: toString(x.red.redact(message)), Data: x.red.redact(data)}
	return x.journal.Note(ctx, n)
}
