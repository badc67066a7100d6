// Package catalog is the one registry of custom functions flows call by
// dotted name, with the DSL's custom-function form:
//
//   - log:
//     call: tables.createRow
//     with: {table: ISPM Events, row: {Username: '${ .user }'}}
//
// A function declares its arguments (Args), so that a flow is checked
// before it runs ("do[1].log.with.table: expected string") and again with
// the evaluated values when it runs. The catalog starts empty; Vigil
// registers the tables functions (RegisterTables) and the execution
// helpers (RegisterExecution) here, and the connectors register their
// actions (okta.suspendUser, slack.postMessage, …) the same way.
//
// A Catalog implements the engine's Catalog and ArgChecker seams.
package catalog

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/vigil-ispm/vigil/internal/flows/engine"
)

// Function is a custom function flows may call.
type Function struct {
	// Summary says in one sentence what the function does; docs and the
	// console show it.
	Summary string
	// Args lists the arguments of `with:`. Arguments not listed are
	// refused, so that a misspelt name fails instead of being ignored.
	Args []Arg
	// Output describes what the function returns, for the docs.
	Output string
	// Connector names the kind of connection the function needs (okta,
	// slack, …), or is empty. Such a function takes the connection's name
	// in its `connection` argument; Vigil refuses to turn a flow on while
	// a connection it names is not set.
	Connector string
	// Pure is set for a function that changes nothing outside the
	// execution (it may add a history note) and returns the same for the
	// same arguments: its call is not an effect (engine.PureChecker), so
	// the journal writes it with the next step that has one.
	Pure bool
	// Run does the work with the checked arguments. It may return an
	// *engine.Fault to raise a specific error (a 404 that a flow catches,
	// say); any other error becomes a runtime fault whose detail is the
	// error's text, so it must not contain secrets.
	Run func(ctx context.Context, args map[string]any, env *engine.CallEnv) (any, error)
}

// Catalog holds functions by name. It is safe for concurrent use, and
// functions may be registered while flows run.
type Catalog struct {
	mu    sync.RWMutex
	funcs map[string]*Function
}

// New returns an empty catalog.
func New() *Catalog {
	return &Catalog{funcs: map[string]*Function{}}
}

// validName is a dotted name of two or more identifiers: tables.createRow.
var validName = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9]*(\.[a-zA-Z][a-zA-Z0-9]*)+$`)

// ErrDuplicate is returned by Register when the name is taken.
var ErrDuplicate = errors.New("function already registered")

// Register adds fn under name, a dotted name such as okta.suspendUser. It
// refuses a name that is taken, malformed, or a function without Run or
// with an argument declared twice.
func (c *Catalog) Register(name string, fn Function) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("function name %q must be dotted identifiers, such as okta.suspendUser", name)
	}
	if fn.Run == nil {
		return fmt.Errorf("function %s has no Run", name)
	}
	if err := checkArgDecls(fn.Args, ""); err != nil {
		return fmt.Errorf("function %s: %w", name, err)
	}
	if fn.Connector != "" && findArg(fn.Args, ConnectionArg) == nil {
		return fmt.Errorf("function %s needs a %s connection but declares no %q argument", name, fn.Connector, ConnectionArg)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.funcs[name]; ok {
		return fmt.Errorf("%w: %s", ErrDuplicate, name)
	}
	f := fn
	c.funcs[name] = &f
	return nil
}

// MustRegister is Register for start-up code, panicking on a programming
// error such as a duplicate name.
func (c *Catalog) MustRegister(name string, fn Function) {
	if err := c.Register(name, fn); err != nil {
		panic(err)
	}
}

// ConnectionArg is the argument that names the connection of a function
// with a Connector.
const ConnectionArg = "connection"

// Function returns the function registered under name.
func (c *Catalog) Function(name string) (Function, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	f, ok := c.funcs[name]
	if !ok {
		return Function{}, false
	}
	return *f, true
}

// Names lists the registered names in order.
func (c *Catalog) Names() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]string, 0, len(c.funcs))
	for n := range c.funcs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Lookup tells whether name is registered (engine.Catalog).
func (c *Catalog) Lookup(name string) bool {
	_, ok := c.Function(name)
	return ok
}

// Pure tells whether the function of that name is Pure (engine.PureChecker).
func (c *Catalog) Pure(name string) bool {
	fn, ok := c.Function(name)
	return ok && fn.Pure
}

// Call checks args against the function's declaration and runs it
// (engine.Catalog). Bad arguments raise a validation fault naming the
// argument.
func (c *Catalog) Call(ctx context.Context, name string, args map[string]any, env *engine.CallEnv) (any, error) {
	fn, ok := c.Function(name)
	if !ok {
		return nil, &engine.Fault{Type: engine.ErrConfiguration, Status: 400, Title: "Unknown function",
			Detail: fmt.Sprintf("function %s is not in the catalog", name)}
	}
	if probs := checkArgs(fn.Args, args, "", false); len(probs) > 0 {
		return nil, &engine.Fault{Type: engine.ErrValidation, Status: 400, Title: "Invalid arguments",
			Detail: fmt.Sprintf("function %s: %s", name, joinProblems(probs))}
	}
	return fn.Run(ctx, args, env)
}

// CheckArgs checks a call's arguments as written in the flow, before it
// runs (engine.ArgChecker). Runtime expressions are skipped.
func (c *Catalog) CheckArgs(name string, args map[string]any) []engine.ArgProblem {
	fn, ok := c.Function(name)
	if !ok {
		return nil
	}
	return checkArgs(fn.Args, args, "", true)
}

func joinProblems(probs []engine.ArgProblem) string {
	parts := make([]string, len(probs))
	for i, p := range probs {
		if p.Arg == "" {
			parts[i] = p.Msg
		} else {
			parts[i] = p.Arg + ": " + p.Msg
		}
	}
	return strings.Join(parts, "; ")
}
