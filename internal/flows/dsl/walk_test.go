package dsl_test

import (
	"slices"
	"testing"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
)

// Walk visits every task, nested ones before the next sibling, and the
// functions under use last, by name, each with its path.
func TestWalk(t *testing.T) {
	t.Parallel()
	w, err := dsl.Parse([]byte(header + `use:
  functions:
    zeta: {set: {z: 1}}
    alpha: {set: {a: 1}}
do:
  - outer:
      do:
        - inner: {set: {x: 1}}
  - both:
      fork:
        branches:
          - left: {set: {l: 1}}
          - right: {set: {r: 1}}
  - attempt:
      try:
        - risky: {set: {r: 1}}
      catch:
        do:
          - handle: {set: {h: 1}}
  - each:
      for:
        each: item
        in: ${ [1, 2] }
      do:
        - body: {set: {b: 1}}
`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	w.Walk(func(path string, task *dsl.Task) {
		if task == nil {
			t.Errorf("%s: nil task", path)
		}
		got = append(got, path)
	})
	want := []string{
		"do[0].outer", "do[0].outer.do[0].inner",
		"do[1].both", "do[1].both.fork.branches[0].left", "do[1].both.fork.branches[1].right",
		"do[2].attempt", "do[2].attempt.try[0].risky", "do[2].attempt.catch.do[0].handle",
		"do[3].each", "do[3].each.do[0].body",
		"use.functions[0].alpha", "use.functions[0].zeta",
	}
	if !slices.Equal(got, want) {
		t.Errorf("paths =\n%q\nwant\n%q", got, want)
	}
	// WalkRefs gives the engine's references, and no use.functions.
	got = nil
	w.WalkRefs(func(ref string, _ *dsl.Task) { got = append(got, ref) })
	want = []string{
		"/do/0/outer", "/do/0/outer/do/0/inner",
		"/do/1/both", "/do/1/both/fork/branches/0/left", "/do/1/both/fork/branches/1/right",
		"/do/2/attempt", "/do/2/attempt/try/0/risky", "/do/2/attempt/catch/do/0/handle",
		"/do/3/each", "/do/3/each/do/0/body",
	}
	if !slices.Equal(got, want) {
		t.Errorf("references =\n%q\nwant\n%q", got, want)
	}
}
