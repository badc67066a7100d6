package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
)

// execKind runs the task's own work and returns its raw output, the
// context after it and the flow directive it chose, if any.
func (x *execution) execKind(ctx context.Context, nt *dsl.NamedTask, ref, key string, tr *taskRun, in, cx any, env *evalEnv) (out, cxOut any, directive string, err error) {
	t := nt.Task
	switch t.Kind {
	case dsl.KindSet:
		v, err := x.evalTemplate(ctx, t.Set, in, env)
		return v, cx, "", err
	case dsl.KindSwitch:
		for _, c := range t.Switch {
			if c.When == nil {
				return in, cx, c.Then, nil
			}
			ok, err := x.evalBool(ctx, c.When, in, env)
			if err != nil {
				return nil, cx, "", err
			}
			if ok {
				return in, cx, c.Then, nil
			}
		}
		return in, cx, "", nil
	case dsl.KindRaise:
		return nil, cx, "", x.raise(ctx, t.Raise, ref, in, env)
	case dsl.KindWait:
		d, err := x.duration(ctx, t.Wait, in, env)
		if err != nil {
			return nil, cx, "", err
		}
		if err := x.clock.Sleep(ctx, d); err != nil {
			return nil, cx, "", err
		}
		return in, cx, "", nil
	case dsl.KindEmit:
		ev, err := x.emit(ctx, t.Emit, key, ref, in, env)
		return ev, cx, "", err
	case dsl.KindDo:
		out, cx, end, err := x.runList(ctx, t.Do, frame{key: key + "/do", ref: ref + "/do", vars: env.vars}, in, cx)
		return out, cx, endDirective(end), err
	case dsl.KindFor:
		return x.runFor(ctx, t, ref, key, in, cx, env)
	case dsl.KindFork:
		out, cx, err := x.runFork(ctx, t.Fork, ref, key, in, cx, env)
		return out, cx, "", err
	case dsl.KindTry:
		return x.runTry(ctx, t.Try, ref, key, in, cx, env)
	case dsl.KindRun:
		out, err := x.runWorkflow(ctx, t.Run, ref, key, in, env)
		return out, cx, "", err
	case dsl.KindCall:
		return x.call(ctx, t.Call, ref, key, in, cx, env)
	}
	return nil, cx, "", faultf(ErrConfiguration, 400, "Unsupported task", "task kind %s is not supported", t.Kind)
}

func endDirective(end bool) string {
	if end {
		return dsl.DirectiveEnd
	}
	return ""
}

func (x *execution) raise(ctx context.Context, r *dsl.Raise, ref string, in any, env *evalEnv) error {
	def := r.Error
	if def == nil {
		def = x.wf.Use.Errors[r.Ref]
	}
	if def == nil {
		return faultf(ErrConfiguration, 400, "Unknown error", "error %s is not defined under use.errors", r.Ref)
	}
	v, err := x.evalTemplate(ctx, def.Fields, in, env)
	if err != nil {
		return err
	}
	m, _ := v.(map[string]any)
	f := &Fault{Instance: ref}
	f.Type, _ = m["type"].(string)
	switch s := m["status"].(type) {
	case int:
		f.Status = s
	case float64:
		f.Status = int(s)
	}
	if f.Type == "" || f.Status == 0 {
		return faultf(ErrValidation, 400, "Invalid error", "the raised error needs a type (string) and a status (integer)")
	}
	if s, ok := m["title"]; ok {
		f.Title = toString(s)
	}
	if s, ok := m["detail"]; ok {
		f.Detail = toString(s)
	}
	if s, ok := m["instance"].(string); ok && s != "" {
		f.Instance = s
	}
	return f
}

func (x *execution) emit(ctx context.Context, e *dsl.Emit, key, ref string, in any, env *evalEnv) (any, error) {
	v, err := x.evalTemplate(ctx, e.Event, in, env)
	if err != nil {
		return nil, err
	}
	props, _ := v.(map[string]any)
	ev := make(map[string]any, len(props)+4)
	for k, val := range props {
		if val != nil {
			ev[k] = val
		}
	}
	for _, req := range []string{"source", "type"} {
		if s, ok := ev[req].(string); !ok || s == "" {
			return nil, faultf(ErrValidation, 400, "Invalid event", "the event's %s must be a non-empty string", req)
		}
	}
	if id, ok := ev["id"].(string); !ok || id == "" {
		ev["id"] = x.eng.cfg.NewID()
	}
	ev["specversion"] = "1.0"
	if _, ok := ev["time"]; !ok {
		ev["time"] = x.clock.Now().UTC().Format(time.RFC3339Nano)
	}
	if _, ok := ev["data"]; ok {
		if _, set := ev["datacontenttype"]; !set {
			ev["datacontenttype"] = "application/json"
		}
	}
	if err := x.note(ctx, key, ref, "event", fmt.Sprintf("emitted event %s", ev["type"]), ev); err != nil {
		return nil, fmt.Errorf("record event: %w", err)
	}
	return ev, nil
}

func (x *execution) runFor(ctx context.Context, t *dsl.Task, ref, key string, in, cx any, env *evalEnv) (any, any, string, error) {
	f := t.For
	coll, err := x.eval(ctx, f.In, in, env)
	if err != nil {
		return nil, cx, "", err
	}
	var items []any
	switch c := coll.(type) {
	case nil:
	case []any:
		items = c
	default:
		return nil, cx, "", faultf(ErrExpression, 400, "Invalid collection", "for.in must produce an array, not %s", typeName(coll))
	}
	each, at := "$"+f.Each, "$"+f.At
	if f.Concurrency > 1 {
		out, err := x.runForConcurrent(ctx, t, ref, key, in, cx, env, items, each, at)
		return out, cx, "", err
	}
	data := in
	for i, item := range items {
		vs := env.vars.with(at, i).with(each, item)
		if f.While != nil {
			ok, err := x.evalBool(ctx, f.While, data, &evalEnv{task: env.task, context: cx, input: env.input, vars: vs})
			if err != nil {
				return nil, cx, "", err
			}
			if !ok {
				break
			}
		}
		fr := frame{key: key + "/for/" + strconv.Itoa(i) + "/do", ref: ref + "/do", vars: vs}
		var end bool
		data, cx, end, err = x.runList(ctx, t.Do, fr, data, cx)
		if err != nil {
			return nil, cx, "", err
		}
		if end {
			return data, cx, dsl.DirectiveEnd, nil
		}
	}
	return data, cx, "", nil
}

// errCancelled stops sibling goroutines; it is not a fault, so the tasks
// it interrupts are not recorded as faulted.
var errCancelled = errors.New("cancelled because a sibling finished first or faulted")

// runForConcurrent runs up to Concurrency iterations at a time. Each
// iteration gets the for task's input (not the previous iteration's
// output) and the output is the array of iteration outputs, in order.
// Context changes made inside iterations are not kept.
func (x *execution) runForConcurrent(ctx context.Context, t *dsl.Task, ref, key string, in, cx any, env *evalEnv, items []any, each, at string) (any, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(errCancelled)
	results := make([]any, len(items))
	sem := make(chan struct{}, t.For.Concurrency)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for i, item := range items {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			vs := env.vars.with(at, i).with(each, item)
			fr := frame{key: key + "/for/" + strconv.Itoa(i) + "/do", ref: ref + "/do", vars: vs}
			var out any
			err := x.recovered(func() (err error) {
				out, _, _, err = x.runList(ctx, t.Do, fr, in, cx)
				return err
			})
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				cancel(errCancelled)
				return
			}
			results[i] = out
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	return results, nil
}

// runFork runs branches concurrently. Without compete the output is the
// array of branch outputs in declaration order and the context is the last
// branch's; with compete it is the first branch to complete, and the
// others are cancelled.
func (x *execution) runFork(ctx context.Context, f *dsl.Fork, ref, key string, in, cx any, env *evalEnv) (any, any, error) {
	bctx, cancel := context.WithCancelCause(ctx)
	defer cancel(errCancelled)
	type result struct {
		i   int
		out taskResult
		err error
	}
	ch := make(chan result, len(f.Branches))
	for i, b := range f.Branches {
		go func() {
			idx := strconv.Itoa(i)
			var r taskResult
			err := x.recovered(func() (err error) {
				r, err = x.runTask(bctx, b, ref+"/fork/branches/"+idx+"/"+b.Name, key+"/fork/branches/"+idx+"/"+b.Name, env.vars, in, cx)
				return err
			})
			ch <- result{i: i, out: r, err: err}
		}()
	}
	outs := make([]any, len(f.Branches))
	cxs := make([]any, len(f.Branches))
	var firstErr error
	var winner *taskResult
	for range f.Branches {
		r := <-ch
		switch {
		case r.err != nil:
			if firstErr == nil && !errors.Is(r.err, errCancelled) {
				firstErr = r.err
			}
			if !f.Compete {
				cancel(errCancelled)
			}
		case f.Compete:
			if winner == nil {
				w := r.out
				winner = &w
				cancel(errCancelled)
			}
		default:
			outs[r.i] = r.out.out
			cxs[r.i] = r.out.cx
		}
	}
	if ctx.Err() != nil {
		return nil, cx, context.Cause(ctx)
	}
	if f.Compete {
		if winner != nil {
			return winner.out, winner.cx, nil
		}
		return nil, cx, firstErr
	}
	if firstErr != nil {
		return nil, cx, firstErr
	}
	return outs, cxs[len(cxs)-1], nil
}

func (x *execution) runTry(ctx context.Context, t *dsl.Try, ref, key string, in, cx any, env *evalEnv) (any, any, string, error) {
	c := t.Catch
	first := x.clock.Now()
	for attempt := 1; ; attempt++ {
		actx := ctx
		var cancel context.CancelFunc = func() {}
		if c.Retry != nil && c.Retry.AttemptDuration != nil {
			if d, err := x.duration(ctx, c.Retry.AttemptDuration, in, env); err == nil && d > 0 {
				actx, cancel = context.WithTimeoutCause(ctx, d, &Fault{Type: ErrTimeout, Status: 408, Title: "Attempt timed out",
					Detail: fmt.Sprintf("an attempt took longer than %s", d), Instance: ref + "/try"})
			}
		}
		tkey := key + "/try"
		if attempt > 1 {
			tkey += "@" + strconv.Itoa(attempt)
		}
		out, cxOut, end, err := x.runList(actx, t.Do, frame{key: tkey, ref: ref + "/try", vars: env.vars}, in, cx)
		if err != nil && actx.Err() != nil && ctx.Err() == nil {
			var cf *Fault
			if errors.As(context.Cause(actx), &cf) {
				err = cf
			}
		}
		cancel()
		if err == nil {
			return out, cxOut, endDirective(end), nil
		}
		var f *Fault
		if !errors.As(err, &f) || f.fatal || ctx.Err() != nil {
			return nil, cx, "", err
		}
		errVal := f.Object()
		cenv := &evalEnv{task: env.task, context: cx, input: env.input, vars: env.vars.with("$"+c.As, errVal)}
		caught, err := x.catches(ctx, c, f, errVal, cenv)
		if err != nil {
			return nil, cx, "", err
		}
		if !caught {
			return nil, cx, "", f
		}
		if c.Retry != nil {
			delay, retry, err := x.retryDelay(ctx, c.Retry, attempt, first, errVal, cenv)
			if err != nil {
				return nil, cx, "", err
			}
			if retry {
				if err := x.clock.Sleep(ctx, delay); err != nil {
					return nil, cx, "", err
				}
				continue
			}
		}
		if len(c.Do) == 0 {
			if c.Retry != nil {
				// Retries are spent and nothing handles the error.
				return nil, cx, "", f
			}
			return in, cx, "", nil
		}
		out, cxOut, end, err = x.runList(ctx, c.Do, frame{key: key + "/catch/do", ref: ref + "/catch/do", vars: cenv.vars}, in, cx)
		return out, cxOut, endDirective(end), err
	}
}

// catches tells whether a catch clause catches f. when and exceptWhen are
// evaluated with the error as input (and as $<catch.as>).
func (x *execution) catches(ctx context.Context, c *dsl.Catch, f *Fault, errVal any, env *evalEnv) (bool, error) {
	if flt := c.Errors; flt != nil {
		if flt.Type != "" && !sameType(flt.Type, f.Type) ||
			flt.Status != 0 && flt.Status != f.Status ||
			flt.Instance != "" && flt.Instance != f.Instance ||
			flt.Title != "" && flt.Title != f.Title ||
			flt.Detail != "" && flt.Detail != f.Detail {
			return false, nil
		}
	}
	if c.When != nil {
		ok, err := x.evalBool(ctx, c.When, errVal, env)
		if err != nil || !ok {
			return false, err
		}
	}
	if c.ExceptWhen != nil {
		ok, err := x.evalBool(ctx, c.ExceptWhen, errVal, env)
		if err != nil || ok {
			return false, err
		}
	}
	return true, nil
}

// retryDelay decides whether attempt (which just failed) is retried and
// how long to wait first.
func (x *execution) retryDelay(ctx context.Context, r *dsl.RetryPolicy, attempt int, first time.Time, errVal any, env *evalEnv) (time.Duration, bool, error) {
	if r.When != nil {
		ok, err := x.evalBool(ctx, r.When, errVal, env)
		if err != nil || !ok {
			return 0, false, err
		}
	}
	if r.ExceptWhen != nil {
		ok, err := x.evalBool(ctx, r.ExceptWhen, errVal, env)
		if err != nil || ok {
			return 0, false, err
		}
	}
	if r.AttemptCount > 0 && attempt > r.AttemptCount {
		return 0, false, nil
	}
	base, err := x.duration(ctx, r.Delay, errVal, env)
	if err != nil {
		return 0, false, err
	}
	delay := backoff(r.Backoff, base, attempt, x.limits.MaxDuration)
	if r.JitterFrom != nil && r.JitterTo != nil {
		from, _ := x.duration(ctx, r.JitterFrom, errVal, env)
		to, _ := x.duration(ctx, r.JitterTo, errVal, env)
		if to > from {
			delay += from + time.Duration(rand.Int64N(int64(to-from)+1)) //nolint:gosec // G404: jitter spreads retries; nothing depends on it being unguessable
		} else {
			delay += from
		}
	}
	if r.Duration != nil {
		limit, err := x.duration(ctx, r.Duration, errVal, env)
		if err != nil {
			return 0, false, err
		}
		if x.clock.Now().Sub(first)+delay > limit {
			return 0, false, nil
		}
	}
	return delay, true, nil
}

// backoff computes the delay before retry number attempt (1-based):
// constant keeps base, linear multiplies it by attempt, exponential by
// 2^(attempt-1). The result never exceeds limit.
func backoff(kind string, base time.Duration, attempt int, limit time.Duration) time.Duration {
	var d float64
	switch kind {
	case "linear":
		d = float64(base) * float64(attempt)
	case "exponential":
		d = float64(base) * math.Pow(2, float64(attempt-1))
	default:
		d = float64(base)
	}
	if d > float64(limit) {
		return limit
	}
	return time.Duration(d)
}

func (x *execution) runWorkflow(ctx context.Context, r *dsl.Run, ref, key string, in any, env *evalEnv) (any, error) {
	rw := r.Workflow
	fref := FlowRef{Namespace: rw.Namespace, Name: rw.Name, Version: rw.Version}
	if x.eng.cfg.Flows == nil {
		return nil, faultf(ErrConfiguration, 400, "Helper flow not found", "helper flow %s cannot run: no flow resolver is configured", fref)
	}
	if x.depth+1 > x.limits.MaxCallDepth {
		return nil, &Fault{Type: ErrRuntime, Status: 500, Title: "Call depth exceeded",
			Detail: fmt.Sprintf("helper flows call each other more than %d levels deep; does a flow call itself?", x.limits.MaxCallDepth), fatal: true}
	}
	child, err := x.eng.cfg.Flows.Resolve(ctx, fref)
	if err != nil {
		var f *Fault
		if errors.As(err, &f) {
			return nil, f
		}
		return nil, faultf(ErrConfiguration, 404, "Helper flow not found", "helper flow %s could not be found: %v", fref, err)
	}
	input := in
	if rw.Input != nil {
		v, err := x.evalTemplate(ctx, rw.Input, in, env)
		if err != nil {
			return nil, err
		}
		input = v
	}
	if !r.Await {
		id, err := x.spawn(ctx, child, fref, input, key)
		if err != nil {
			return nil, err
		}
		if err := x.note(ctx, key, ref, "spawn", fmt.Sprintf("started helper flow %s as execution %s", fref, id), map[string]any{"executionId": id}); err != nil {
			return nil, fmt.Errorf("record spawn: %w", err)
		}
		return in, nil
	}
	cx := &execution{
		eng: x.eng, wf: child, id: x.id + key, root: x.root, opts: x.opts, limits: x.limits, clock: x.clock,
		journal: x.journal, started: x.clock.Now(), outer: x.outer, rawInput: input, depth: x.depth + 1,
		saveData: x.saveData, keyPrefix: x.keyPrefix + key + "/run", stepCounter: x.stepCounter, red: x.red,
		children: x.children, childMu: x.childMu, childSink: x.childSink, httpState: x.httpState,
	}
	out, err := cx.run(ctx, input)
	if err != nil {
		var f *Fault
		if errors.As(err, &f) {
			nf := f.clone()
			nf.Instance = ref
			nf.Detail = fmt.Sprintf("helper flow %s faulted at %s: %s", fref, f.Instance, f.Detail)
			return nil, nf
		}
		return nil, err
	}
	return out, nil
}

// spawn starts a non-awaited child through the Spawner, or in a goroutine
// that Run waits for.
func (x *execution) spawn(ctx context.Context, child *dsl.Workflow, ref FlowRef, input any, key string) (string, error) {
	req := SpawnRequest{Flow: child, Ref: ref, Input: input, ParentID: x.id, Key: key, CallDepth: x.depth + 1}
	if sp := x.eng.cfg.Spawner; sp != nil {
		id, err := sp.Spawn(ctx, req)
		if err != nil {
			return "", faultf(ErrRuntime, 500, "Helper flow not started", "helper flow %s could not be started: %v", ref, err)
		}
		return id, nil
	}
	id := x.eng.cfg.NewID()
	x.children.Add(1)
	go func() {
		defer x.children.Done()
		res, err := x.eng.Run(x.outer, child, input, RunOptions{ExecutionID: id, FlowID: x.opts.FlowID, Folder: x.opts.Folder,
			DryRun: x.opts.DryRun, CallDepth: req.CallDepth})
		c := &Child{ExecutionID: id, Flow: ref}
		if res != nil {
			c.Output = res.Output
		}
		var f *Fault
		if errors.As(err, &f) {
			c.Fault = f
		} else {
			c.Err = err
		}
		if err != nil {
			x.eng.cfg.Logger.Warn("helper flow failed", "execution", id, "parent", x.id, "flow", ref.String(), "error", err)
		}
		x.childMu.Lock()
		*x.childSink = append(*x.childSink, c)
		if res != nil {
			*x.childSink = append(*x.childSink, res.Children...)
		}
		x.childMu.Unlock()
	}()
	return id, nil
}

// recovered runs fn, tasks run on a goroutine of their own (a for loop's
// concurrent iterations, a fork's branches), and turns a panic in it into
// an error: the run's own goroutine, where a server recovers a run's
// panic, would never see it, and the process would end.
func (x *execution) recovered(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			x.eng.cfg.Logger.Error("a task panicked", "execution", x.id, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("a task panicked: %v", p)
		}
	}()
	return fn()
}
