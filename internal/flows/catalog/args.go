package catalog

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"sort"
	"strings"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
)

// Type is the JSON type of an argument.
type Type string

// Argument types. Integer accepts numbers without a fraction; Any accepts
// every value.
const (
	String  Type = "string"
	Number  Type = "number"
	Integer Type = "integer"
	Boolean Type = "boolean"
	Object  Type = "object"
	Array   Type = "array"
	Any     Type = "any"
)

// Arg declares one argument of a function, or one field of an object
// argument. docs/functions.md documents each function from these.
type Arg struct {
	Name     string
	Type     Type
	Required bool
	// Summary says what the argument is for.
	Summary string
	// Enum lists the allowed values of a string argument.
	Enum []string
	// Fields declares the properties of an object argument. When set,
	// properties not declared are refused unless Open is true.
	Fields []Arg
	Open   bool
	// Items declares the items of an array argument.
	Items *Arg
	// Check, when set, checks a present value of the right type further
	// and returns what is wrong with it, or "".
	Check func(v any) string
}

func findArg(args []Arg, name string) *Arg {
	for i := range args {
		if args[i].Name == name {
			return &args[i]
		}
	}
	return nil
}

func checkArgDecls(args []Arg, path string) error {
	seen := map[string]bool{}
	for _, a := range args {
		p := join(path, a.Name)
		if a.Name == "" {
			return errors.New("an argument has no name")
		}
		if seen[a.Name] {
			return fmt.Errorf("argument %s is declared twice", p)
		}
		seen[a.Name] = true
		switch a.Type {
		case String, Number, Integer, Boolean, Object, Array, Any:
		default:
			return fmt.Errorf("argument %s has unknown type %q", p, a.Type)
		}
		if err := checkArgDecls(a.Fields, p); err != nil {
			return err
		}
		if a.Items != nil {
			if err := checkArgDecls([]Arg{*a.Items}, p); err != nil {
				return err
			}
		}
	}
	return nil
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// checkArgs checks values against decls; static is set when values come
// from the flow as written, where runtime expressions stand for values
// not known yet and are skipped.
func checkArgs(decls []Arg, values map[string]any, path string, static bool) []engine.ArgProblem {
	var probs []engine.ArgProblem
	for _, d := range decls {
		v, ok := values[d.Name]
		if !ok || v == nil {
			if d.Required {
				probs = append(probs, engine.ArgProblem{Arg: join(path, d.Name), Msg: "required"})
			}
			continue
		}
		probs = append(probs, checkValue(d, v, join(path, d.Name), static)...)
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		if findArg(decls, k) == nil {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		probs = append(probs, engine.ArgProblem{Arg: join(path, k), Msg: "unknown argument; expected " + names(decls)})
	}
	return probs
}

func names(decls []Arg) string {
	if len(decls) == 0 {
		return "none"
	}
	ns := make([]string, len(decls))
	for i, d := range decls {
		ns[i] = d.Name
	}
	return "one of " + strings.Join(ns, ", ")
}

func checkValue(d Arg, v any, path string, static bool) []engine.ArgProblem {
	if _, isExpr := v.(*dsl.Expr); isExpr && static {
		return nil
	}
	bad := func(msg string) []engine.ArgProblem { return []engine.ArgProblem{{Arg: path, Msg: msg}} }
	switch d.Type {
	case String:
		s, ok := v.(string)
		if !ok {
			return bad("expected string, got " + typeOf(v))
		}
		if len(d.Enum) > 0 && !slices.Contains(d.Enum, s) {
			return bad(fmt.Sprintf("expected one of %s, got %q", strings.Join(d.Enum, ", "), s))
		}
	case Number:
		if _, ok := number(v); !ok {
			return bad("expected number, got " + typeOf(v))
		}
	case Integer:
		f, ok := number(v)
		if !ok || f != math.Trunc(f) {
			return bad("expected integer, got " + typeOf(v))
		}
	case Boolean:
		if _, ok := v.(bool); !ok {
			return bad("expected boolean, got " + typeOf(v))
		}
	case Object:
		m, ok := v.(map[string]any)
		if !ok {
			return bad("expected object, got " + typeOf(v))
		}
		if len(d.Fields) > 0 {
			var probs []engine.ArgProblem
			if d.Open {
				known := map[string]any{}
				for k, fv := range m {
					if findArg(d.Fields, k) != nil {
						known[k] = fv
					}
				}
				m = known
			}
			probs = checkArgs(d.Fields, m, path, static)
			if len(probs) > 0 {
				return probs
			}
		}
	case Array:
		a, ok := v.([]any)
		if !ok {
			return bad("expected array, got " + typeOf(v))
		}
		if d.Items != nil {
			var probs []engine.ArgProblem
			for i, e := range a {
				p := fmt.Sprintf("%s[%d]", path, i)
				if e == nil {
					if d.Items.Required {
						probs = append(probs, engine.ArgProblem{Arg: p, Msg: "required"})
					}
					continue
				}
				probs = append(probs, checkValue(*d.Items, e, p, static)...)
			}
			if len(probs) > 0 {
				return probs
			}
		}
	}
	if d.Check != nil && (!static || !containsExpr(v)) {
		if msg := d.Check(v); msg != "" {
			return bad(msg)
		}
	}
	return nil
}

// containsExpr tells whether a static value holds a runtime expression
// anywhere, so that Check functions only see complete values.
func containsExpr(v any) bool {
	switch v := v.(type) {
	case *dsl.Expr:
		return true
	case map[string]any:
		for _, e := range v {
			if containsExpr(e) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if containsExpr(e) {
				return true
			}
		}
	}
	return false
}

// number returns a numeric value as float64.
func number(v any) (float64, bool) { return dsl.Number(v) }

func typeOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case int, int64, float64, *big.Int:
		return "number"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case *dsl.Expr:
		return "expression"
	}
	return fmt.Sprintf("%T", v)
}
