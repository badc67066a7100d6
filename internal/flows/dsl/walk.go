package dsl

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Walk calls fn for every task of w, nested ones (do, fork branches, try
// and catch) and use.functions included, each with its path in the
// document ("do[0].outer.do[1].inner"); use.functions come last, by name.
func (w *Workflow) Walk(fn func(path string, t *Task)) {
	w.Do.walk("do", false, fn)
	for _, n := range slices.Sorted(maps.Keys(w.Use.Functions)) {
		TaskList{{Name: n, Task: w.Use.Functions[n]}}.walk("use.functions", false, fn)
	}
}

// WalkRefs calls fn for every task of w's do list, nested ones included,
// in document order, each with the reference the engine gives a task it
// runs ("/do/0/outer/do/1/inner": a JSON pointer, but with the task names
// as written, unescaped, as the engine has them). use.functions are
// definitions, not steps, and are left out.
func (w *Workflow) WalkRefs(fn func(ref string, t *Task)) {
	w.Do.walk("/do", true, fn)
}

// walk is Walk over the tasks of l, whose path is path, in the dotted
// form or, with pointer, in WalkRefs's.
func (l TaskList) walk(path string, pointer bool, fn func(path string, t *Task)) {
	for i, nt := range l {
		format := "%s[%d].%s"
		if pointer {
			format = "%s/%d/%s"
		}
		p := fmt.Sprintf(format, path, i, nt.Name)
		// in is the path of a list nested in the task under key
		// ("catch.do"), in the form of p.
		in := func(key string) string {
			if pointer {
				return p + "/" + strings.ReplaceAll(key, ".", "/")
			}
			return p + "." + key
		}
		t := nt.Task
		fn(p, t)
		t.Do.walk(in("do"), pointer, fn)
		if t.Fork != nil {
			t.Fork.Branches.walk(in("fork.branches"), pointer, fn)
		}
		if t.Try != nil {
			t.Try.Do.walk(in("try"), pointer, fn)
			if t.Try.Catch != nil {
				t.Try.Catch.Do.walk(in("catch.do"), pointer, fn)
			}
		}
	}
}
