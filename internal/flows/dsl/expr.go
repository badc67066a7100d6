package dsl

import (
	"regexp"
	"strings"

	"github.com/itchyny/gojq"
)

// StandardVars are the runtime expression arguments every expression may
// use, in the order Expr.Vars lists them. $secrets is the specification's
// spelling and $secret Vigil's; both hold the same map.
var StandardVars = []string{
	"$context", "$input", "$output", "$secret", "$secrets",
	"$task", "$workflow", "$runtime", "$authorization",
}

// Use bits tell which standard arguments an expression refers to, so the
// engine builds only those (building $task or loading secrets costs).
const (
	UsesContext = 1 << iota
	UsesInput
	UsesOutput
	UsesSecret
	UsesTask
	UsesWorkflow
	UsesRuntime
	UsesAuthorization
	// UsesClock marks an expression whose value depends on when it runs:
	// it calls jq's now or reads $task (whose startedAt is the task's
	// start), so running it again may give another value.
	UsesClock
)

// Expr is a compiled jq runtime expression. Vars lists the variable names
// the program was compiled with: the standard arguments first, then the
// names in scope where it appears (for each/at, catch as).
type Expr struct {
	Source string
	Line   int
	Vars   []string
	Uses   int
	code   *gojq.Code
	// path holds the field names of an expression that is only a path of
	// them (.body.eventData.title), nil for any other.
	path []string
}

// Code returns the compiled program; run it with values for Vars in order.
func (e *Expr) Code() *gojq.Code { return e.code }

// Path returns the field names when the expression is only a path of
// object fields written with dots (.body.eventData.title, the most common
// expression in a flow), nil otherwise. The engine reads such a path
// from objects directly, as jq does (a missing field or null gives null),
// and leaves the program to report anything else.
func (e *Expr) Path() []string { return e.path }

// fieldPathPattern matches a path of jq identifier fields: .a.b_c.D9.
var fieldPathPattern = regexp.MustCompile(`^(\.[A-Za-z_][A-Za-z0-9_]*)+$`)

// fieldPath returns the fields of src when it is a path of identifier
// fields, nil otherwise.
func fieldPath(src string) []string {
	if !fieldPathPattern.MatchString(src) {
		return nil
	}
	return strings.Split(src[1:], ".")
}

// Template is a value as written in the document in which strings of the
// form `${ … }` were replaced by *Expr. Static is true when it holds no
// expression, so the engine can use Value as is.
type Template struct {
	Value  any
	Static bool
	// Lines maps the dotted path of each object property inside the
	// template (userId, user.login) to its source line, so problems found
	// later (a catalog's argument check) can name the line.
	Lines map[string]int
}

// Line returns the source line of the property at the dotted path, or 0.
func (t *Template) Line(path string) int {
	if t == nil {
		return 0
	}
	return t.Lines[path]
}

// nowCall finds jq's now, the one builtin that reads the clock. A
// string or field that contains the word also matches: that only costs
// a journal write.
var nowCall = regexp.MustCompile(`\bnow\b`)

var exprPattern = regexp.MustCompile(`(?s)^\s*\$\{(.*)\}\s*$`)

// IsExpr tells whether s is written as a runtime expression `${ … }` and
// returns the jq source inside the braces.
func IsExpr(s string) (string, bool) {
	m := exprPattern.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	return strings.TrimSpace(m[1]), true
}

// noEnviron keeps $ENV and env empty: the process environment may hold
// credentials and flows must not read it.
func noEnviron() []string { return nil }

func compileExpr(src string, scope []string) (*gojq.Code, []string, error) {
	q, err := gojq.Parse(src)
	if err != nil {
		return nil, nil, err
	}
	vars := make([]string, 0, len(StandardVars)+len(scope))
	vars = append(vars, StandardVars...)
	for _, s := range scope {
		if !contains(vars, s) {
			vars = append(vars, s)
		}
	}
	code, err := gojq.Compile(q, gojq.WithVariables(vars), gojq.WithEnvironLoader(noEnviron))
	if err != nil {
		return nil, nil, err
	}
	return code, vars, nil
}

func usesOf(src string) int {
	u := 0
	check := func(name string, bit int) {
		if strings.Contains(src, name) {
			u |= bit
		}
	}
	check("$context", UsesContext)
	check("$input", UsesInput)
	check("$output", UsesOutput)
	check("$secret", UsesSecret)
	check("$task", UsesTask)
	check("$workflow", UsesWorkflow)
	check("$runtime", UsesRuntime)
	check("$authorization", UsesAuthorization)
	if u&UsesTask != 0 || nowCall.MatchString(src) {
		u |= UsesClock
	}
	return u
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
