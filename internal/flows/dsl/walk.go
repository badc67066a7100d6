package dsl

import (
	"fmt"
	"maps"
	"slices"
)

// Walk calls fn for every task of w, nested ones (do, fork branches, try
// and catch) and use.functions included, each with its path in the
// document ("do[0].outer.do[1].inner"); use.functions come last, by name.
func (w *Workflow) Walk(fn func(path string, t *Task)) {
	var walk func(l TaskList, path string)
	walk = func(l TaskList, path string) {
		for i, nt := range l {
			p := fmt.Sprintf("%s[%d].%s", path, i, nt.Name)
			t := nt.Task
			fn(p, t)
			walk(t.Do, p+".do")
			if t.Fork != nil {
				walk(t.Fork.Branches, p+".fork.branches")
			}
			if t.Try != nil {
				walk(t.Try.Do, p+".try")
				if t.Try.Catch != nil {
					walk(t.Try.Catch.Do, p+".catch.do")
				}
			}
		}
	}
	walk(w.Do, "do")
	for _, n := range slices.Sorted(maps.Keys(w.Use.Functions)) {
		walk(TaskList{{Name: n, Task: w.Use.Functions[n]}}, "use.functions")
	}
}
