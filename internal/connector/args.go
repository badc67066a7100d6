package connector

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
)

// check returns the problems of args, skipping values that are
// expressions (known only at run time). Problems come in the order of the
// function's arguments, unknown arguments last.
func (f *Function) check(args map[string]any) []engine.ArgProblem {
	var probs []engine.ArgProblem
	for _, a := range f.Args {
		v, ok := args[a.Name]
		if _, isExpr := v.(*dsl.Expr); isExpr {
			continue
		}
		if !ok || v == nil {
			if a.Required {
				probs = append(probs, engine.ArgProblem{Arg: a.Name, Msg: "required: " + a.Doc})
			}
			continue
		}
		if msg := a.checkValue(v); msg != "" {
			probs = append(probs, engine.ArgProblem{Arg: a.Name, Msg: msg})
		}
	}
	var unknown []string
	for k := range args {
		if !slices.ContainsFunc(f.Args, func(a Arg) bool { return a.Name == k }) {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		probs = append(probs, engine.ArgProblem{Arg: k, Msg: fmt.Sprintf("unknown argument; %s takes %s", f.Name, f.argNames())})
	}
	return probs
}

func (f *Function) argNames() string {
	names := make([]string, len(f.Args))
	for i, a := range f.Args {
		names[i] = a.Name
	}
	return strings.Join(names, ", ")
}

// checkValue says what is wrong with a present value, or "".
func (a Arg) checkValue(v any) string {
	switch a.Type {
	case "string":
		s, ok := v.(string)
		switch {
		case !ok:
			return "expected a string, got " + typeName(v)
		case strings.TrimSpace(s) == "" && a.Required:
			return "expected a non-empty string"
		case len(a.Enum) > 0 && !slices.Contains(a.Enum, s):
			return "expected one of " + strings.Join(a.Enum, ", ") + ", got " + fmt.Sprintf("%q", s)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return "expected true or false, got " + typeName(v)
		}
	case "integer":
		if _, ok := asInt(v); !ok {
			return "expected an integer, got " + typeName(v)
		}
	case "object":
		if _, ok := v.(map[string]any); !ok {
			return "expected an object, got " + typeName(v)
		}
	case "array":
		if _, ok := v.([]any); !ok {
			return "expected an array, got " + typeName(v)
		}
	case "strings":
		l, ok := v.([]any)
		if !ok {
			return "expected an array of strings, got " + typeName(v)
		}
		for i, e := range l {
			if _, ok := e.(string); !ok {
				return fmt.Sprintf("expected an array of strings, but item %d is %s", i, typeName(e))
			}
		}
	}
	return ""
}

func asInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case float64:
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			return int(n), true
		}
	case *big.Int:
		if n.IsInt64() {
			return int(n.Int64()), true
		}
	}
	return 0, false
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int, float64, *big.Int:
		return "a number"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("a %T", v)
}

// withDefaults returns a copy of args with defaults filled in.
func (f *Function) withDefaults(args map[string]any) map[string]any {
	out := make(map[string]any, len(args))
	for k, v := range args {
		out[k] = v
	}
	for _, a := range f.Args {
		if v, ok := out[a.Name]; (!ok || v == nil) && a.Default != nil {
			out[a.Name] = a.Default
		}
	}
	return out
}

// argFault is the fault of a bad argument: a validation error naming it.
func argFault(f *Function, p engine.ArgProblem) *engine.Fault {
	return &engine.Fault{Type: engine.ErrValidation, Status: 400, Title: "Invalid argument",
		Detail: fmt.Sprintf("%s: argument %s: %s", f.Name, p.Arg, p.Msg)}
}

func argProblem(arg, msg string) engine.ArgProblem { return engine.ArgProblem{Arg: arg, Msg: msg} }
