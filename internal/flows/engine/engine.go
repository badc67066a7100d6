package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
)

// Limits bound what one execution may do. Zero values mean the defaults.
type Limits struct {
	// MaxSteps is the number of tasks one execution may run, counting the
	// tasks of awaited helper flows (default 10,000). It bounds loops over
	// huge collections and switches that jump back forever.
	MaxSteps int
	// MaxDuration bounds an execution's wall-clock time (default 1 hour).
	MaxDuration time.Duration
	// TaskTimeout bounds each call task (HTTP, OpenAPI, catalog function)
	// unless the task sets its own timeout (default 90 s, as Okta's
	// built-in cards). Expressions are bounded by ExprSteps instead; waits
	// and composite tasks only by their own timeout and MaxDuration.
	TaskTimeout time.Duration
	// MaxOutputBytes bounds a task's output and an HTTP response body,
	// measured as JSON (default 1 MiB).
	MaxOutputBytes int
	// MaxCallDepth bounds how deep helper flows may call helper flows
	// (default 8), so a flow that calls itself faults instead of recursing.
	MaxCallDepth int
	// ExprSteps bounds the work of one jq evaluation, in jq virtual
	// machine instructions (default 2,000,000), so `def f: f; f` or
	// `[range(1e9)]` fault quickly without eating memory.
	ExprSteps int
}

func (l Limits) withDefaults() Limits {
	if l.MaxSteps <= 0 {
		l.MaxSteps = 10000
	}
	if l.MaxDuration <= 0 {
		l.MaxDuration = time.Hour
	}
	if l.TaskTimeout <= 0 {
		l.TaskTimeout = 90 * time.Second
	}
	if l.MaxOutputBytes <= 0 {
		l.MaxOutputBytes = 1 << 20
	}
	if l.MaxCallDepth <= 0 {
		l.MaxCallDepth = 8
	}
	if l.ExprSteps <= 0 {
		l.ExprSteps = 2000000
	}
	return l
}

// Config wires the engine to the rest of Vigil. Zero values mean defaults
// or "not available".
type Config struct {
	// HTTPClient sends every HTTP request flows make (call http, call
	// openapi, OAuth2 tokens). Vigil passes its SSRF-guarded client. When
	// nil, HTTP calls fault: the engine never falls back to
	// http.DefaultClient.
	HTTPClient *http.Client
	// Catalog holds the custom functions.
	Catalog Catalog
	// Flows resolves helper flows for run: workflow.
	Flows FlowResolver
	// Spawner starts non-awaited helper flows; nil runs them in
	// goroutines that Run waits for.
	Spawner Spawner
	// Secrets provides $secret and secret-based authentication.
	Secrets SecretSource
	// Clock defaults to the real clock.
	Clock Clock
	// NewID makes execution and event ids; defaults to UUIDv4.
	NewID func() string
	// RuntimeVersion is reported as $runtime.version.
	RuntimeVersion string
	// RuntimeMetadata is reported as $runtime.metadata.
	RuntimeMetadata map[string]any
	Limits          Limits
	Logger          *slog.Logger
}

// Engine executes parsed workflows. It is safe for concurrent use; one
// Engine serves every execution of a process.
type Engine struct {
	cfg Config
}

// New returns an engine with cfg, filling defaults.
func New(cfg Config) *Engine {
	cfg.Limits = cfg.Limits.withDefaults()
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.NewID == nil {
		cfg.NewID = func() string { return uuid.NewString() }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RuntimeVersion == "" {
		cfg.RuntimeVersion = "dev"
	}
	return &Engine{cfg: cfg}
}

// RunOptions describe one execution.
type RunOptions struct {
	// ExecutionID identifies the execution; a new one is made when empty.
	// To resume an execution, call Run again with the same ExecutionID,
	// StartedAt and Journal.
	ExecutionID string
	// StartedAt is the execution's first start ($workflow.startedAt); it
	// defaults to now.
	StartedAt time.Time
	// Journal records progress; a new MemoryJournal when nil.
	Journal Journal
	// FlowID and Folder are passed to catalog functions.
	FlowID string
	Folder string
	// DryRun is passed to catalog functions (see CallEnv.DryRun).
	DryRun bool
	// CallDepth is the helper-flow depth of this execution: 0 for a flow
	// started by its trigger, SpawnRequest.CallDepth for spawned children.
	CallDepth int
}

// Result is a completed execution.
type Result struct {
	ExecutionID string
	Output      any
	Started     time.Time
	Ended       time.Time
	// Steps is the number of tasks run or replayed.
	Steps int
	// Children lists the helper flows this execution started without
	// waiting, when the engine ran them itself (no Spawner configured).
	Children []*Child
}

// Child is a non-awaited helper flow the engine ran in standalone mode.
type Child struct {
	ExecutionID string
	Flow        FlowRef
	Output      any
	// Fault is set when the child faulted; Err when it failed otherwise.
	Fault *Fault
	Err   error
}

// Run executes w with input and returns its output. An uncaught fault is
// returned as a *Fault (errors.As). When ctx is cancelled the execution
// stops between or inside tasks and Run returns ctx's error; calling Run
// again with the same ExecutionID and Journal resumes it.
//
// Non-awaited helper flows run by the engine itself (no Spawner) are
// waited for before Run returns; their results are in Result.Children.
func (e *Engine) Run(ctx context.Context, w *dsl.Workflow, input any, opts RunOptions) (*Result, error) {
	if w == nil {
		return nil, errors.New("no workflow to run")
	}
	in, err := Normalize(input)
	if err != nil {
		return nil, fmt.Errorf("workflow input: %w", err)
	}
	x := e.newExecution(w, opts)
	x.rawInput = in
	out, runErr := x.run(ctx, in)
	x.children.Wait()
	res := &Result{
		ExecutionID: x.id,
		Output:      out,
		Started:     x.started,
		Ended:       e.cfg.Clock.Now(),
		Steps:       int(x.steps.Load()),
		Children:    x.childResults,
	}
	if runErr != nil {
		return res, runErr
	}
	return res, nil
}

func (e *Engine) newExecution(w *dsl.Workflow, opts RunOptions) *execution {
	x := &execution{
		eng:    e,
		wf:     w,
		id:     opts.ExecutionID,
		opts:   opts,
		limits: e.cfg.Limits,
		clock:  e.cfg.Clock,
	}
	if x.id == "" {
		x.id = e.cfg.NewID()
	}
	x.root = x.id
	x.started = opts.StartedAt
	if x.started.IsZero() {
		x.started = e.cfg.Clock.Now()
	}
	x.journal = opts.Journal
	if x.journal == nil {
		x.journal = NewMemoryJournal()
	}
	x.depth = opts.CallDepth
	x.saveData = w.SaveAllData()
	x.stepCounter = &x.steps
	return x
}
