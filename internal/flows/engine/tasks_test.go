package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/flows/engine"
)

// switchOnN is a flow that sets size large when .n > 10, small otherwise.
const switchOnN = `
do:
  - pick:
      switch:
        - big: {when: .n > 10, then: large}
  - small: {set: {size: small}, then: end}
  - large: {set: {size: large}}
`

// tryRaise500 is a flow whose one task tries raising a 500 error; a case
// adds its catch.
const tryRaise500 = `
do:
  - attempt:
      try:
        - fail:
            raise:
              error: {type: https://example.com/x, status: 500}
`

// TestTasks runs one small flow per behaviour of each task kind and of
// the data flow, checking the workflow's output or fault.
func TestTasks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		doc   string
		input string
		want  string // YAML of the expected output
		fault string // expected fault as "type-suffix status instance"
	}{
		{name: "set literal and expressions", doc: `
do:
  - s:
      set:
        shape: circle
        size: ${ .w * 2 }
        nested: {list: ['${ .w }', plain]}
`, input: "w: 3", want: "shape: circle\nsize: 6\nnested: {list: [3, plain]}"},
		{name: "set from an expression", doc: `
do:
  - s:
      set: '${ {sum: (.a + .b)} }'
`, input: "{a: 1, b: 2}", want: "sum: 3"},
		{name: "strings without ${} are literal", doc: `
do:
  - s:
      set:
        a: .x
        b: $input
`, input: "x: 1", want: "a: .x\nb: $input"},
		{name: "nested do", doc: `
do:
  - outer:
      do:
        - a: {set: {v: 1}}
        - b: {set: {v: '${ .v + 1 }'}}
  - c: {set: {v: '${ .v * 10 }'}}
`, want: "v: 20"},
		{name: "exit leaves only the enclosing do", doc: `
do:
  - outer:
      do:
        - a: {set: {v: 1}, then: exit}
        - b: {set: {v: 2}}
  - c: {set: {v: '${ .v + 100 }'}}
`, want: "v: 101"},
		{name: "end in a nested do ends the workflow", doc: `
do:
  - outer:
      do:
        - a: {set: {v: 1}, then: end}
        - b: {set: {v: 2}}
  - c: {set: {v: 3}}
`, want: "v: 1"},
		{name: "switch without match continues", doc: switchOnN, input: "n: 1", want: "size: small"},
		{name: "switch match jumps", doc: switchOnN, input: "n: 11", want: "size: large"},
		{name: "switch exit", doc: `
do:
  - outer:
      do:
        - pick:
            switch:
              - stop: {when: 'true', then: exit}
        - never: {set: {never: true}}
`, input: "keep: 1", want: "keep: 1"},
		{name: "switch loops back with then", doc: `
do:
  - inc: {set: {n: '${ (.n // 0) + 1 }'}}
  - again:
      switch:
        - more: {when: .n < 3, then: inc}
`, want: "n: 3"},
		{name: "if false skips and passes input on", doc: `
do:
  - maybe:
      if: .go == true
      set: {changed: true}
`, input: "go: false", want: "go: false"},
		{name: "if true runs", doc: `
do:
  - maybe:
      if: ${ .go }
      set: {changed: true}
`, input: "go: true", want: "changed: true"},
		{name: "for with while stops before an iteration", doc: `
do:
  - loop:
      for: {each: n, in: .nums}
      while: (.total // 0) < 5
      do:
        - add: {set: {total: '${ (.total // 0) + $n }'}}
`, input: "nums: [1, 2, 3, 4, 5]", want: "total: 6"},
		{name: "for with custom index name", doc: `
do:
  - loop:
      for: {in: .xs, at: i}
      do:
        - add: {set: {seen: '${ (.seen // []) + [[$i, $item]] }'}}
`, input: "xs: [a, b]", want: "seen: [[0, a], [1, b]]"},
		{name: "for over null does nothing", doc: `
do:
  - loop:
      for: {in: .missing}
      do:
        - x: {set: {never: true}}
`, input: "a: 1", want: "a: 1"},
		{name: "for over an object faults", doc: `
do:
  - loop:
      for: {in: .obj}
      do:
        - x: {set: {never: true}}
`, input: "obj: {a: 1}", fault: "expression 400 /do/0/loop"},
		{name: "concurrent for keeps order", doc: `
do:
  - loop:
      for: {each: n, in: .nums}
      metadata: {vigil: {concurrency: 3}}
      do:
        - sq: {set: {v: '${ $n * $n }'}}
`, input: "nums: [1, 2, 3, 4, 5]", want: "[{v: 1}, {v: 4}, {v: 9}, {v: 16}, {v: 25}]"},
		{name: "fork branches output in order", doc: `
do:
  - both:
      fork:
        branches:
          - a: {set: {b: a}}
          - b: {set: {b: b}}
`, want: "[{b: a}, {b: b}]"},
		{name: "fork compete takes one", doc: `
do:
  - race:
      fork:
        compete: true
        branches:
          - a: {set: {winner: a}}
          - b: {set: {winner: a}}
`, want: "winner: a"},
		{name: "fork branch fault faults the fork", doc: `
do:
  - both:
      fork:
        branches:
          - ok: {set: {b: a}}
          - bad:
              raise:
                error: {type: https://example.com/bad, status: 409}
`, fault: "https://example.com/bad 409 /do/0/both/fork/branches/1/bad"},
		{name: "raise inline with expressions", doc: `
do:
  - fail:
      raise:
        error:
          type: https://example.com/errors/denied
          status: 403
          title: Denied
          detail: ${ "user \(.user) is not allowed" }
`, input: "user: ali", fault: "https://example.com/errors/denied 403 /do/0/fail"},
		{name: "raise reusable error", doc: `
use:
  errors:
    notImplemented:
      type: https://serverlessworkflow.io/spec/1.0.0/errors/runtime
      status: 501
      detail: ${ "flow \($workflow.definition.document.name) is not ready" }
do:
  - fail:
      raise: {error: notImplemented}
`, fault: "runtime 501 /do/0/fail"},
		{name: "try catches by type and status", doc: `
do:
  - attempt:
      try:
        - fail:
            raise:
              error: {type: https://serverlessworkflow.io/spec/1.0.0/errors/communication, status: 404, title: Gone}
      catch:
        errors:
          with: {type: https://serverlessworkflow.io/dsl/errors/types/communication, status: 404}
        as: e
        do:
          - handle: {set: {caught: '${ $e.title }', at: '${ $e.instance }'}}
`, want: "caught: Gone\nat: /do/0/attempt/try/0/fail"},
		{name: "try does not catch other status", doc: tryRaise500 + `      catch:
        errors:
          with: {status: 404}
`, fault: "https://example.com/x 500 /do/0/attempt/try/0/fail"},
		{name: "catch when and exceptWhen see the error", doc: `
do:
  - attempt:
      try:
        - fail:
            raise:
              error: {type: https://example.com/x, status: 503}
      catch:
        when: .status >= 500
        exceptWhen: $error.status == 501
        do:
          - handle: {set: {recovered: true}}
`, want: "recovered: true"},
		{name: "catch without do outputs the try input", doc: tryRaise500 + `      catch: {}
`, input: "kept: yes", want: "kept: yes"},
		{name: "emit builds a CloudEvent", doc: `
do:
  - tell:
      emit:
        event:
          with:
            source: https://vigil.example.com
            type: com.example.greeted.v1
            data: {greeting: '${ "hi \(.name)" }'}
  - pick: {set: {spec: '${ .specversion }', type: '${ .type }', data: '${ .data }', hasId: '${ .id | length > 0 }', hasTime: '${ .time != null }'}}
`, input: "name: Ali", want: "spec: '1.0'\ntype: com.example.greeted.v1\ndata: {greeting: hi Ali}\nhasId: true\nhasTime: true"},
		{name: "input.from output.as export.as and $context", doc: `
do:
  - first:
      input: {from: .user}
      set: {id: '${ .id }', name: '${ .name }'}
      output: {as: '${ {id, upper: (.name | ascii_upcase)} }'}
      export: {as: '${ $context + {lastId: $output.id} }'}
  - second:
      set: {fromContext: '${ $context.lastId }', prev: '${ .upper }'}
`, input: "user: {id: 7, name: ali}", want: "fromContext: 7\nprev: ALI"},
		{name: "output.as sees $input", doc: `
do:
  - s:
      input: {from: .n}
      set: {doubled: '${ . * 2 }'}
      output: {as: '{orig: $input, doubled}'}
`, input: "n: 4", want: "orig: 4\ndoubled: 8"},
		{name: "object form of input.from", doc: `
do:
  - s:
      input:
        from:
          who: ${ .user.name }
      set: {greeting: '${ "hi \(.who)" }'}
`, input: "user: {name: ali}", want: "greeting: hi ali"},
		{name: "export.as must be an object", doc: `
do:
  - s:
      set: {a: 1}
      export: {as: '1'}
`, fault: "validation 400 /do/0/s"},
		{name: "workflow input.from and output.as", doc: `
input:
  from: .payload
output:
  as: '{result: .v, ctx: $context}'
do:
  - s:
      set: {v: '${ .x + 1 }'}
      export: {as: '{seen: true}'}
`, input: "payload: {x: 1}", want: "result: 2\nctx: {seen: true}"},
		{name: "workflow input schema", doc: `
input:
  schema:
    document:
      type: object
      required: [id]
do:
  - s: {set: {a: 1}}
`, input: "other: 1", fault: "validation 400 /input"},
		{name: "task output schema", doc: `
do:
  - s:
      set: {a: x}
      output:
        schema:
          document: {type: object, properties: {a: {type: integer}}}
`, fault: "validation 400 /do/0/s"},
		{name: "task and workflow descriptors", doc: `
do:
  - describe:
      set:
        task: ${ $task.name }
        ref: ${ $task.reference }
        raw: ${ $task.input.x }
        runtime: ${ $runtime.name }
        flow: ${ $workflow.definition.document.name }
        started: ${ $task.startedAt.iso8601 }
`, input: "x: 5", want: "task: describe\nref: /do/0/describe\nraw: 5\nruntime: Vigil\nflow: flow\nstarted: '2026-01-02T03:04:05Z'"},
		{name: "use.functions", doc: `
use:
  functions:
    double:
      set: {v: '${ .n * 2 }'}
do:
  - call1:
      call: double
      with: {n: '${ .x }'}
`, input: "x: 21", want: "v: 42"},
		{name: "catalog function", doc: `
do:
  - echo:
      call: test.echo
      with: {msg: '${ .m }', n: 1}
`, input: "m: hello", want: "echoed: {msg: hello, n: 1}"},
		{name: "unknown catalog function", doc: `
do:
  - nope:
      call: test.missing
`, fault: "configuration 400 /do/0/nope"},
		{name: "catalog function error becomes runtime fault", doc: `
do:
  - boom:
      call: test.fail
`, fault: "runtime 500 /do/0/boom"},
		{name: "catalog fault keeps its type", doc: `
do:
  - gone:
      call: test.notFound
`, fault: "communication 404 /do/0/gone"},
		{name: "wait", doc: `
do:
  - pause: {wait: PT5M}
  - pause2: {wait: {seconds: 2}}
`, input: "a: 1", want: "a: 1"},
		{name: "expression failure is an expression fault", doc: `
do:
  - bad: {set: {x: '${ .a | tonumber }'}}
`, input: "a: abc", fault: "expression 400 /do/0/bad"},
		{name: "secrets", doc: `
use:
  secrets: [apiKey]
do:
  - s: {set: {key: '${ $secret.apiKey }', same: '${ $secrets.apiKey == $secret.apiKey }'}}
`, want: "key: s3cr3t-value\nsame: true"},
		{name: "missing secret", doc: `
use:
  secrets: [nope]
do:
  - s: {set: {key: '${ $secret.nope }'}}
`, fault: "authorization 403 /do/0/s"},
		{name: "env is empty", doc: `
do:
  - s: {set: {env: '${ $ENV | length }'}}
`, want: "env: 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat := newFakeCatalog()
			cat.add("test.echo", func(_ context.Context, args map[string]any, _ *engine.CallEnv) (any, error) {
				return map[string]any{"echoed": args}, nil
			})
			cat.add("test.fail", func(context.Context, map[string]any, *engine.CallEnv) (any, error) {
				return nil, errFake
			})
			cat.add("test.notFound", func(context.Context, map[string]any, *engine.CallEnv) (any, error) {
				return nil, &engine.Fault{Type: engine.ErrCommunication, Status: 404, Title: "Not found"}
			})
			clock := newFakeClock()
			eng := engine.New(engine.Config{Catalog: cat, Clock: clock, Secrets: staticSecrets{"apiKey": "s3cr3t-value"}})
			var input any
			if tt.input != "" {
				v, err := yamlValue(tt.input)
				if err != nil {
					t.Fatal(err)
				}
				input = v
			}
			r := runFlow(t, eng, parse(t, tt.doc), input)
			if r.err != nil {
				t.Fatalf("Run: %v", r.err)
			}
			if tt.fault != "" {
				if r.fault == nil {
					t.Fatalf("no fault; output %s", jsonString(r.out))
				}
				parts := strings.Fields(tt.fault)
				if !strings.HasSuffix(r.fault.Type, parts[0]) || jsonString(r.fault.Status) != parts[1] || r.fault.Instance != parts[2] {
					t.Fatalf("fault = %s %d %s (%s), want %s", r.fault.Type, r.fault.Status, r.fault.Instance, r.fault.Detail, tt.fault)
				}
				return
			}
			if r.fault != nil {
				t.Fatalf("fault: %v", r.fault)
			}
			want, err := yamlValue(tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if err := sameJSON(want, r.out); err != nil {
				t.Error(err)
			}
		})
	}
}

type fakeError string

func (e fakeError) Error() string { return string(e) }

const errFake = fakeError("the fake function failed")

func TestWaitUsesClock(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	eng := engine.New(engine.Config{Clock: clock})
	r := runFlow(t, eng, parse(t, `
do:
  - a: {wait: PT1H30M}
  - b: {wait: {minutes: 2, milliseconds: 500}}
  - c: {wait: '${ .d }'}
`), map[string]any{"d": "PT3S"})
	if r.fault != nil || r.err != nil {
		t.Fatalf("Run: %v %v", r.fault, r.err)
	}
	want := []time.Duration{90 * time.Minute, 2*time.Minute + 500*time.Millisecond, 3 * time.Second}
	got := clock.Waits()
	if len(got) != len(want) {
		t.Fatalf("slept %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("sleep %d = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestEmitIsNoted(t *testing.T) {
	t.Parallel()
	eng := engine.New(engine.Config{NewID: func() string { return "id-1" }, Clock: newFakeClock()})
	r := runFlow(t, eng, parse(t, `
do:
  - tell:
      emit:
        event:
          with: {source: 'https://vigil.example.com', type: com.example.x, subject: s1}
`), nil)
	if r.fault != nil {
		t.Fatal(r.fault)
	}
	notes := r.journal.Notes()
	if len(notes) != 1 || notes[0].Kind != "event" || notes[0].Reference != "/do/0/tell" {
		t.Fatalf("notes = %+v", notes)
	}
	ev := notes[0].Data.(map[string]any)
	if ev["id"] != "id-1" || ev["specversion"] != "1.0" || ev["subject"] != "s1" || ev["time"] != "2026-01-02T03:04:05Z" {
		t.Errorf("event = %v", ev)
	}
}

func TestCallEnv(t *testing.T) {
	t.Parallel()
	cat := newFakeCatalog()
	var got *engine.CallEnv
	cat.add("okta.suspendUser", func(ctx context.Context, args map[string]any, env *engine.CallEnv) (any, error) {
		got = env
		key, err := env.Secret(ctx, "oktaToken")
		if err != nil {
			return nil, err
		}
		if err := env.Record(ctx, "request", "POST /api/v1/users/00u1/lifecycle/suspend",
			map[string]any{"authorization": "SSWS " + key.(string), "user": args["user"]}); err != nil {
			return nil, err
		}
		return map[string]any{"suspended": true}, nil
	})
	eng := engine.New(engine.Config{Catalog: cat, Secrets: staticSecrets{"oktaToken": "00abcdefSECRET"}})
	j := engine.NewMemoryJournal()
	w := parse(t, "do:\n  - suspend: {call: okta.suspendUser, with: {user: 00u1}}\n")
	_, err := eng.Run(context.Background(), w, nil, engine.RunOptions{ExecutionID: "ex-9", FlowID: "flow-1", Folder: "ISPM", DryRun: true, Journal: j})
	if err != nil {
		t.Fatal(err)
	}
	if got.ExecutionID != "ex-9" || got.FlowID != "flow-1" || got.Folder != "ISPM" || !got.DryRun || got.TaskReference != "/do/0/suspend" || got.Flow.Name != "flow" {
		t.Errorf("env = %+v", got)
	}
	notes := j.Notes()
	if len(notes) != 1 || notes[0].Kind != "request" || notes[0].Key != "/do/0/suspend" {
		t.Fatalf("notes = %+v", notes)
	}
	if s := jsonString(notes[0].Data); strings.Contains(s, "00abcdefSECRET") || !strings.Contains(s, "SSWS [redacted]") {
		t.Errorf("note data not redacted: %s", s)
	}
}

// TestSharedWorkflow runs one parsed workflow from many goroutines: its
// compiled expressions are shared and must give each execution its own
// result.
func TestSharedWorkflow(t *testing.T) {
	t.Parallel()
	eng := engine.New(engine.Config{})
	w := parse(t, `
do:
  - loop:
      for: {each: n, in: '[range(.k)]'}
      do:
        - add: {set: {sum: '${ (.sum // 0) + $n }', k: '${ .k }'}}
`)
	errs := make(chan error, 16)
	for i := range 16 {
		go func() {
			res, err := eng.Run(context.Background(), w, map[string]any{"k": i}, engine.RunOptions{})
			if err == nil {
				want := any(map[string]any{"k": i, "sum": i * (i - 1) / 2})
				if i == 0 {
					want = map[string]any{"k": 0}
				}
				err = sameJSON(want, res.Output)
			}
			errs <- err
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
