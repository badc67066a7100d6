// Package connector holds the connector actions flows call as custom
// functions (`call: okta.suspendUser`): each one finds its connection by
// name, builds the vendor client of internal/okta, entra, google,
// salesforce, slack or jira (or a plain HTTP request) on the SSRF-guarded
// client, and makes the vendor's documented call. The vendor clients
// honour 429 and Retry-After; http.request does so itself.
//
// Every function documents its arguments and output (Functions), checks
// them before the flow runs (CheckArgs) and again when called, and answers
// a bad argument with an error naming it. Vendor failures become
// communication faults carrying the vendor's HTTP status, so a flow's
// try/catch can filter on it.
//
// In a dry run (the connection's switch, or the execution's) the vendor
// client is given an http.RoundTripper that records each request it would
// send, with secrets masked, in the execution history, and answers with a
// canned response in the vendor's shape, so the function returns a
// realistic result and nothing leaves Vigil.
package connector

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/vendorhttp"
)

// Connections finds connections by name. *connection.Service satisfies it.
type Connections interface {
	Resolve(ctx context.Context, name string) (*connection.Resolved, error)
}

// Config wires the connector actions to connections and the network.
// Zero values mean the default named on each field. A Connectors without
// Connections or Client can still be registered and checked against (flow
// validation), but its functions fault when called.
type Config struct {
	// Connections resolves the connection argument. Required to run.
	Connections Connections
	// Client sends every real request: the SSRF-guarded client of
	// internal/netguard. Required to run.
	Client *http.Client
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Sleep waits before a retry and returns early when ctx ends. Default
	// a timer; tests pass one that returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
	// MaxResponseBytes bounds the body http.request reads. Default 1 MiB.
	MaxResponseBytes int64
	// MaxRetries bounds the retries of http.request after a 429 (or a 503
	// with Retry-After to an idempotent method). Default 3; negative means
	// never retry.
	MaxRetries int
	// MaxRetryWait is the longest wait http.request accepts; a longer
	// Retry-After fails the call instead. Default 60 s.
	MaxRetryWait time.Duration
}

func (c Config) withDefaults() Config {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = vendorhttp.Sleep
	}
	if c.MaxResponseBytes <= 0 {
		c.MaxResponseBytes = 1 << 20
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = 3
	}
	if c.MaxRetryWait <= 0 {
		c.MaxRetryWait = 60 * time.Second
	}
	return c
}

// Arg documents one argument (or output field) of a function.
type Arg struct {
	Name string `json:"name"`
	// Type is string, boolean, integer, object, array or any.
	Type     string `json:"type"`
	Required bool   `json:"required,omitempty"`
	Doc      string `json:"doc"`
	// Default is the value used when the argument is left out.
	Default any `json:"default,omitempty"`
	// Enum lists the allowed values of a string.
	Enum []string `json:"enum,omitempty"`
}

// Function is one connector action.
type Function struct {
	// Name is the dotted name flows call, such as okta.suspendUser.
	Name string `json:"name"`
	// Summary says in one sentence what the function does and which
	// vendor endpoint it calls.
	Summary string `json:"summary"`
	// Kind is the kind of connection the function needs.
	Kind   string `json:"kind"`
	Args   []Arg  `json:"args"`
	Output []Arg  `json:"output"`

	run func(ctx context.Context, x *call) (map[string]any, error)
}

// Connectors is the set of connector actions. It implements the engine's
// Catalog and ArgChecker, so it can serve flows on its own (tests, a
// standalone run) or be registered into the flows catalog function by
// function.
type Connectors struct {
	cfg   Config
	funcs map[string]*Function
}

// New returns the connector actions wired to cfg.
func New(cfg Config) *Connectors {
	c := &Connectors{cfg: cfg.withDefaults(), funcs: map[string]*Function{}}
	for _, f := range all() {
		c.funcs[f.Name] = f
	}
	return c
}

// Functions returns every function, sorted by name, for documentation and
// registration.
func (c *Connectors) Functions() []*Function {
	out := make([]*Function, 0, len(c.funcs))
	for _, f := range c.funcs {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b *Function) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out
}

// Function returns the function of that name.
func (c *Connectors) Function(name string) (*Function, bool) {
	f, ok := c.funcs[name]
	return f, ok
}

// Lookup tells whether a function of that name exists.
func (c *Connectors) Lookup(name string) bool {
	_, ok := c.funcs[name]
	return ok
}

// CheckArgs checks a call's arguments before the flow runs; values written
// as expressions are checked only when called.
func (c *Connectors) CheckArgs(name string, args map[string]any) []engine.ArgProblem {
	f, ok := c.funcs[name]
	if !ok {
		return nil
	}
	return f.check(args)
}

// Call runs the function with its evaluated arguments.
func (c *Connectors) Call(ctx context.Context, name string, args map[string]any, env *engine.CallEnv) (any, error) {
	f, ok := c.funcs[name]
	if !ok {
		return nil, &engine.Fault{Type: engine.ErrConfiguration, Status: 400, Title: "Unknown function",
			Detail: fmt.Sprintf("function %s is not a connector action", name)}
	}
	return c.Run(ctx, f, args, env)
}

// Run runs one function: it checks the arguments, resolves the connection,
// chooses the real or the dry-run client and calls the vendor. Its errors
// are *engine.Fault values whose detail never holds a secret.
func (c *Connectors) Run(ctx context.Context, f *Function, args map[string]any, env *engine.CallEnv) (any, error) {
	if probs := f.check(args); len(probs) > 0 {
		return nil, argFault(f, probs[0])
	}
	args = f.withDefaults(args)
	name, _ := args["connection"].(string)
	if c.cfg.Connections == nil || c.cfg.Client == nil {
		return nil, &engine.Fault{Type: engine.ErrConfiguration, Status: 400, Title: "Connections not available",
			Detail: fmt.Sprintf("%s cannot run here: connections live in Vigil's database, which a standalone run does not open; run the flow on the server", f.Name)}
	}
	conn, err := c.cfg.Connections.Resolve(ctx, name)
	if err != nil {
		return nil, &engine.Fault{Type: engine.ErrConfiguration, Status: 400, Title: "Connection not found",
			Detail: fmt.Sprintf("%s: %v", f.Name, err)}
	}
	if conn.Kind != f.Kind {
		t, _ := connection.TypeOf(f.Kind)
		return nil, &engine.Fault{Type: engine.ErrConfiguration, Status: 400, Title: "Wrong kind of connection",
			Detail: fmt.Sprintf("%s needs a %s connection, but connection %q is a %s connection", f.Name, t.Title, conn.Name, conn.Kind)}
	}
	x := &call{fn: f, args: args, env: env, conn: conn, cfg: c.cfg}
	x.opts = connection.ClientOptions{HTTPClient: c.cfg.Client, Now: c.cfg.Now, Sleep: c.cfg.Sleep}
	if conn.DryRun || (env != nil && env.DryRun) {
		x.dry = newRecorder(env, conn, nil)
		x.opts.HTTPClient = &http.Client{Transport: x.dry}
	} else if env != nil {
		// A real call is recorded too, so the execution shows what was
		// sent and what came back.
		next := c.cfg.Client.Transport
		if next == nil {
			next = http.DefaultTransport
		}
		hc := *c.cfg.Client
		hc.Transport = newRecorder(env, conn, next)
		x.opts.HTTPClient = &hc
	}
	out, err := f.run(ctx, x)
	if err != nil {
		return nil, x.fault(ctx, err)
	}
	out["dryRun"] = x.dry != nil
	return out, nil
}

// call is one run of a function.
type call struct {
	fn   *Function
	args map[string]any
	env  *engine.CallEnv
	conn *connection.Resolved
	cfg  Config
	opts connection.ClientOptions
	dry  *recorder
}

// str returns a string argument, "" when absent.
func (x *call) str(name string) string {
	s, _ := x.args[name].(string)
	return s
}

// all lists every connector action.
func all() []*Function {
	return slices.Concat(oktaFunctions(), entraFunctions(), googleFunctions(), salesforceFunctions(),
		slackFunctions(), jiraFunctions(), httpFunctions())
}

// connectionArg is the argument every function takes first.
var connectionArg = Arg{Name: "connection", Type: "string", Required: true,
	Doc: "Name of the connection to act through, such as Okta."}
