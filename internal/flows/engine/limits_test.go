package engine_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
)

// TestBadInput runs flows that would loop forever, eat memory or recurse
// without end: each must end with a clear fault naming the task.
func TestBadInput(t *testing.T) {
	t.Parallel()
	million := make([]any, 1000000)
	for i := range million {
		million[i] = i
	}
	self := parse(t, `document: {dsl: '1.0.0', namespace: test, name: self, version: '1.0.0'}
do:
  - again:
      run:
        workflow: {namespace: test, name: self, version: '1.0.0'}
`)
	tests := []struct {
		name     string
		doc      string
		input    any
		limits   engine.Limits
		wantType string
		wantIn   string
		wantMsg  string
		fatal    bool
	}{
		{name: "jq recursion", doc: "do:\n  - loop: {set: {x: '${ def f: f; f }'}}\n",
			wantType: engine.ErrExpression, wantIn: "/do/0/loop", wantMsg: "more than"},
		{name: "jq builds a huge array", doc: "do:\n  - big: {set: {x: '${ [range(1e9)] }'}}\n",
			wantType: engine.ErrExpression, wantIn: "/do/0/big", wantMsg: "more than"},
		{name: "jq infinite generator", doc: "do:\n  - gen: {set: {x: '${ [repeat(1)] }'}}\n",
			wantType: engine.ErrExpression, wantIn: "/do/0/gen", wantMsg: "more than"},
		{name: "jq huge string", doc: "do:\n  - str: {set: {x: '${ \"x\" * 5000000 }'}}\n",
			wantType: engine.ErrRuntime, wantIn: "/do/0/str", wantMsg: "larger than"},
		{name: "for over a million items", doc: "do:\n  - loop:\n      for: {in: .items}\n      do:\n        - touch: {set: {i: '${ $index }'}}\n",
			input: map[string]any{"items": million}, wantType: engine.ErrRuntime, wantIn: "/do/0/loop/do/0/touch", wantMsg: "more than 10000 tasks", fatal: true},
		{name: "switch jumps to itself", doc: "do:\n  - spin:\n      switch:\n        - always: {then: spin}\n",
			wantType: engine.ErrRuntime, wantIn: "/do/0/spin", wantMsg: "more than 10000 tasks", fatal: true},
		{name: "step limit is not caught by try", doc: `
do:
  - guard:
      try:
        - spin:
            switch:
              - always: {then: spin}
      catch:
        do:
          - swallow: {set: {caught: true}}
`, wantType: engine.ErrRuntime, wantIn: "/do/0/guard/try/0/spin", wantMsg: "more than 10000 tasks", fatal: true},
		{name: "helper flow calls itself", doc: "do:\n  - start:\n      run:\n        workflow: {namespace: test, name: self, version: '1.0.0'}\n",
			wantType: engine.ErrRuntime, wantIn: "/do/0/start", wantMsg: "more than 8 levels", fatal: true},
		{name: "output too large", doc: "do:\n  - big: {set: {a: '${ \"x\" * 3000 }', b: '${ \"y\" * 3000 }'}}\n",
			limits: engine.Limits{MaxOutputBytes: 4096}, wantType: engine.ErrRuntime, wantIn: "/do/0/big", wantMsg: "larger than 4096 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := engine.New(engine.Config{Limits: tt.limits, Flows: flowMap{"test/self": self}})
			r := runFlow(t, eng, parse(t, tt.doc), tt.input)
			if r.err != nil {
				t.Fatalf("Run: %v", r.err)
			}
			f := r.fault
			if f == nil {
				t.Fatalf("no fault; output %.200s", jsonString(r.out))
			}
			if f.Type != tt.wantType || !strings.HasPrefix(f.Instance, tt.wantIn) || !strings.Contains(f.Detail, tt.wantMsg) || f.Fatal() != tt.fatal {
				t.Errorf("fault = %+v (fatal %v), want type %s at %s containing %q (fatal %v)", f, f.Fatal(), tt.wantType, tt.wantIn, tt.wantMsg, tt.fatal)
			}
		})
	}
}

func TestTaskTimeout(t *testing.T) {
	t.Parallel()
	cat := newFakeCatalog()
	cat.add("test.block", func(ctx context.Context, _ map[string]any, _ *engine.CallEnv) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	tests := []struct {
		name   string
		doc    string
		limits engine.Limits
		want   string
		fatal  bool
		caught bool
	}{
		{"default task timeout", "do:\n  - slow: {call: test.block}\n", engine.Limits{TaskTimeout: 20e6}, "/do/0/slow", false, false},
		{"task's own timeout", "do:\n  - slow: {call: test.block, timeout: {after: {milliseconds: 20}}}\n", engine.Limits{}, "/do/0/slow", false, false},
		{"task timeout can be caught", `
do:
  - guard:
      try:
        - slow: {call: test.block, timeout: {after: {milliseconds: 20}}}
      catch:
        errors: {with: {type: https://serverlessworkflow.io/spec/1.0.0/errors/timeout}}
        do:
          - handled: {set: {timedOut: true}}
`, engine.Limits{}, "", false, true},
		{"workflow timeout is not caught", `
timeout: {after: {milliseconds: 20}}
do:
  - guard:
      try:
        - slow: {call: test.block}
      catch:
        do:
          - handled: {set: {caught: true}}
`, engine.Limits{}, "/", true, false},
		{"max duration", "do:\n  - slow: {call: test.block}\n", engine.Limits{MaxDuration: 20e6}, "/", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := engine.New(engine.Config{Catalog: cat, Limits: tt.limits})
			r := runFlow(t, eng, parse(t, tt.doc), nil)
			if r.err != nil {
				t.Fatalf("Run: %v", r.err)
			}
			if tt.caught {
				if r.fault != nil {
					t.Fatalf("fault %v, want the timeout caught", r.fault)
				}
				return
			}
			if r.fault == nil || r.fault.Type != engine.ErrTimeout || r.fault.Status != 408 || r.fault.Instance != tt.want || r.fault.Fatal() != tt.fatal {
				t.Fatalf("fault = %+v, want a timeout at %s (fatal %v)", r.fault, tt.want, tt.fatal)
			}
		})
	}
}

func TestCallerCancellation(t *testing.T) {
	t.Parallel()
	cat := newFakeCatalog()
	ctx, cancel := context.WithCancel(context.Background())
	cat.add("test.cancel", func(ctx context.Context, _ map[string]any, _ *engine.CallEnv) (any, error) {
		cancel()
		<-ctx.Done()
		return nil, ctx.Err()
	})
	eng := engine.New(engine.Config{Catalog: cat})
	j := engine.NewMemoryJournal()
	_, err := eng.Run(ctx, parse(t, "do:\n  - a: {set: {v: 1}}\n  - b: {call: test.cancel}\n"), nil, engine.RunOptions{Journal: j})
	var f *engine.Fault
	if !errors.Is(err, context.Canceled) || errors.As(err, &f) {
		t.Fatalf("err = %v, want context.Canceled and no fault", err)
	}
	for _, s := range j.Steps() {
		if s.Name == "b" {
			t.Errorf("the interrupted task was recorded: %+v", s)
		}
	}
}

func TestConcurrentForBound(t *testing.T) {
	t.Parallel()
	var inFlight, peak atomic.Int32
	release := make(chan struct{})
	var once sync.Once
	cat := newFakeCatalog()
	cat.add("test.work", func(ctx context.Context, args map[string]any, _ *engine.CallEnv) (any, error) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		if n == 3 {
			once.Do(func() { close(release) }) // three iterations run at once
		}
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		inFlight.Add(-1)
		return args["n"], nil
	})
	eng := engine.New(engine.Config{Catalog: cat})
	r := runFlow(t, eng, parse(t, `
do:
  - loop:
      for: {each: n, in: .ns}
      metadata: {vigil: {concurrency: 3}}
      do:
        - w: {call: test.work, with: {n: '${ $n }'}}
`), map[string]any{"ns": []any{1, 2, 3, 4, 5, 6, 7}})
	if r.fault != nil || r.err != nil {
		t.Fatalf("Run: %v %v", r.fault, r.err)
	}
	if got := peak.Load(); got != 3 {
		t.Errorf("peak concurrency = %d, want 3", got)
	}
	if err := sameJSON([]any{1, 2, 3, 4, 5, 6, 7}, r.out); err != nil {
		t.Error(err)
	}
}

// TestRunWorkflow covers helper flows, awaited or not, with and without
// a Spawner.
func TestRunWorkflow(t *testing.T) {
	t.Parallel()
	helper := parse(t, `document: {dsl: '1.0.0', namespace: test, name: helper, version: '1.0.0'}
input:
  from: '{n: (.n * 10)}'
do:
  - record: {call: test.record, with: {n: '${ .n }'}}
  - out: {set: {fromHelper: '${ .n }'}}
`)
	failing := parse(t, `document: {dsl: '1.0.0', namespace: test, name: failing, version: '1.0.0'}
do:
  - boom:
      raise:
        error: {type: https://example.com/boom, status: 418, detail: teapot}
`)
	flows := flowMap{"test/helper": helper, "test/failing": failing}
	newCat := func() *fakeCatalog {
		cat := newFakeCatalog()
		cat.add("test.record", func(_ context.Context, args map[string]any, _ *engine.CallEnv) (any, error) { return args, nil })
		return cat
	}

	t.Run("awaited", func(t *testing.T) {
		cat := newCat()
		eng := engine.New(engine.Config{Catalog: cat, Flows: flows})
		r := runFlow(t, eng, parse(t, `
do:
  - call:
      run:
        workflow: {namespace: test, name: helper, version: '1.0.0', input: {n: '${ .x }'}}
`), map[string]any{"x": 4})
		if r.fault != nil || r.err != nil {
			t.Fatalf("Run: %v %v", r.fault, r.err)
		}
		if err := sameJSON(map[string]any{"fromHelper": 40}, r.out); err != nil {
			t.Error(err)
		}
		keys := []string{}
		for _, s := range r.journal.Steps() {
			keys = append(keys, s.Key)
		}
		if !strings.Contains(strings.Join(keys, " "), "/do/0/call/run/do/0/record") {
			t.Errorf("helper steps are not journaled under the parent: %v", keys)
		}
	})

	t.Run("awaited fault names the calling task", func(t *testing.T) {
		eng := engine.New(engine.Config{Flows: flows})
		r := runFlow(t, eng, parse(t, "do:\n  - call:\n      run:\n        workflow: {namespace: test, name: failing, version: '1.0.0'}\n"), nil)
		if r.fault == nil || r.fault.Status != 418 || r.fault.Instance != "/do/0/call" || !strings.Contains(r.fault.Detail, "/do/0/boom") {
			t.Fatalf("fault = %+v", r.fault)
		}
	})

	t.Run("not awaited, standalone", func(t *testing.T) {
		cat := newCat()
		eng := engine.New(engine.Config{Catalog: cat, Flows: flows})
		r := runFlow(t, eng, parse(t, `
do:
  - start:
      run:
        workflow: {namespace: test, name: helper, version: '1.0.0'}
        await: false
  - next: {set: {parent: done}}
`), map[string]any{"n": 2})
		if r.fault != nil || r.err != nil {
			t.Fatalf("Run: %v %v", r.fault, r.err)
		}
		if cat.count("test.record") != 1 {
			t.Errorf("helper ran %d times before Run returned, want 1", cat.count("test.record"))
		}
		if len(r.res.Children) != 1 || r.res.Children[0].Fault != nil {
			t.Fatalf("children = %+v", r.res.Children)
		}
		if err := sameJSON(map[string]any{"fromHelper": 20}, r.res.Children[0].Output); err != nil {
			t.Error(err)
		}
		notes := r.journal.Notes()
		if len(notes) != 1 || notes[0].Kind != "spawn" {
			t.Errorf("notes = %+v", notes)
		}
	})

	t.Run("not awaited, spawner", func(t *testing.T) {
		sp := &recordingSpawner{}
		eng := engine.New(engine.Config{Flows: flows, Spawner: sp})
		r := runFlow(t, eng, parse(t, "do:\n  - start:\n      run:\n        workflow: {namespace: test, name: helper, version: '1.0.0'}\n        await: false\n"), map[string]any{"n": 2})
		if r.fault != nil || r.err != nil {
			t.Fatalf("Run: %v %v", r.fault, r.err)
		}
		if len(sp.reqs) != 1 || sp.reqs[0].Ref.Name != "helper" || sp.reqs[0].CallDepth != 1 || sp.reqs[0].Key != "/do/0/start" {
			t.Fatalf("spawned %+v", sp.reqs)
		}
	})

	t.Run("unknown helper", func(t *testing.T) {
		eng := engine.New(engine.Config{Flows: flows})
		r := runFlow(t, eng, parse(t, "do:\n  - call:\n      run:\n        workflow: {namespace: test, name: nope, version: '1.0.0'}\n"), nil)
		if r.fault == nil || r.fault.Type != engine.ErrConfiguration {
			t.Fatalf("fault = %+v", r.fault)
		}
	})
}

type recordingSpawner struct {
	reqs []engine.SpawnRequest
}

func (s *recordingSpawner) Spawn(_ context.Context, req engine.SpawnRequest) (string, error) {
	s.reqs = append(s.reqs, req)
	return "child-1", nil
}

// checkingCatalog wants okta.suspendUser's userId to be a string.
type checkingCatalog struct{ *fakeCatalog }

func (c checkingCatalog) CheckArgs(name string, args map[string]any) []engine.ArgProblem {
	if name != "okta.suspendUser" {
		return nil
	}
	switch v := args["userId"].(type) {
	case string, *dsl.Expr:
		return nil
	case nil:
		return []engine.ArgProblem{{Arg: "userId", Msg: "required argument is missing"}}
	default:
		_ = v
		return []engine.ArgProblem{{Arg: "userId", Msg: "expected string"}}
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	cat := newFakeCatalog()
	cat.add("okta.suspendUser", nil)
	eng := engine.New(engine.Config{Catalog: checkingCatalog{cat}, Flows: flowMap{}})
	w := parse(t, `
use:
  functions:
    local: {set: {a: 1}}
do:
  - a: {call: okta.suspendUser, with: {userId: '${ .id }'}}
  - b: {call: local}
  - c:
      try:
        - d: {call: slack.nope}
      catch: {}
  - e:
      run:
        workflow: {namespace: test, name: missing, version: '1.0.0'}
  - suspendUser:
      call: okta.suspendUser
      with:
        userId: 14
`)
	err := eng.Check(context.Background(), w)
	var ve *dsl.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 3 {
		t.Fatalf("Check = %v, want three problems", err)
	}
	msg := err.Error()
	for _, want := range []string{"do[2].c.try[0].d.call: function slack.nope is not in the catalog",
		"do[3].e.run.workflow: helper flow test/missing:1.0.0 cannot be found",
		"do[4].suspendUser.with.userId: expected string (line 23)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Check error %q lacks %q", msg, want)
		}
	}
}
