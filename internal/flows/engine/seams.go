package engine

import (
	"context"
	"time"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
)

// Catalog is the set of custom functions flows call by dotted name
// (`call: okta.suspendUser`): connector actions and tables. The engine
// only dispatches; the catalog package implements the functions.
type Catalog interface {
	// Lookup tells whether a function of that name exists, so validation
	// can say "function X is not in the catalog" before anything runs.
	Lookup(name string) bool
	// Call runs the function with its evaluated `with:` arguments. A
	// returned *Fault is raised as is (so a function can raise, say, a
	// communication error with status 404 that a try/catch filters on);
	// any other error becomes a runtime fault whose detail is err.Error(),
	// so it must not contain secrets.
	Call(ctx context.Context, name string, args map[string]any, env *CallEnv) (any, error)
}

// PureChecker may be implemented by a Catalog to name the functions that
// change nothing outside the execution and whose result depends only on
// their arguments (execution.setResult). A durable journal may write the
// step of a call to one with the next step that has an effect, as for a
// set task; any other function call is an effect (see Step.Effect).
type PureChecker interface {
	Pure(name string) bool
}

// ArgChecker may be implemented by a Catalog to check a call's arguments
// before the flow runs (Engine.Check). Values written as runtime
// expressions are passed as *dsl.Expr: their value is known only at run
// time, so a checker skips them.
type ArgChecker interface {
	CheckArgs(name string, args map[string]any) []ArgProblem
}

// ArgProblem is one wrong argument: Arg is its dotted path under `with`
// (userId, user.login) and Msg says what is wrong ("expected string").
type ArgProblem struct {
	Arg string
	Msg string
}

// CallEnv tells a catalog function where it runs and gives it the
// execution's history and secrets.
type CallEnv struct {
	ExecutionID string
	// RootID is the id of the execution the journal belongs to: the
	// execution's own id, or its parent's for an awaited helper flow
	// (whose ExecutionID is derived from the parent's). With Key it
	// identifies the call across resumes.
	RootID string
	// FlowID and Folder come from RunOptions; Vigil uses them to find the
	// flow's connections and tables.
	FlowID string
	Folder string
	// Flow is the document block of the running flow.
	Flow dsl.Document
	// TaskReference is the JSON pointer of the calling task, such as
	// /do/1/suspend.
	TaskReference string
	// DryRun is set when the execution must not change anything outside
	// Vigil: connectors record the request they would send instead.
	DryRun bool

	x   *execution
	key string
}

// Key is the calling task's journal key, unique within the execution
// RootID names and the same when a resumed execution runs the task again.
func (env *CallEnv) Key() string {
	if env == nil {
		return ""
	}
	return env.key
}

// Kinds of the history entries connector actions record, one per HTTP
// request: a dry run's request that was not sent, and a real call with its
// answer. Both carry the request and the answer, secrets masked, so that
// an execution can list its connector calls.
const (
	NoteDryRun        = "dry-run"
	NoteConnectorCall = "connector-call"
)

// Record adds an entry to the execution history, such as the HTTP request
// a dry-run connector would have sent. Secret values in data are redacted.
func (env *CallEnv) Record(ctx context.Context, kind, message string, data any) error {
	if env == nil || env.x == nil {
		return nil
	}
	return env.x.note(ctx, env.key, env.TaskReference, kind, message, data)
}

// Secret returns the named secret and remembers its value so that it is
// redacted from history.
func (env *CallEnv) Secret(ctx context.Context, name string) (any, error) {
	if env == nil || env.x == nil {
		return nil, newFault(ErrAuthorization, 403, "Secret not available", "no secret source is configured")
	}
	return env.x.secret(ctx, name)
}

// FlowRef names a helper flow, as in `run: workflow`.
type FlowRef struct {
	Namespace string
	Name      string
	// Version is a semantic version or "latest".
	Version string
}

func (r FlowRef) String() string { return r.Namespace + "/" + r.Name + ":" + r.Version }

// FlowResolver finds the helper flows that `run: workflow` names.
type FlowResolver interface {
	Resolve(ctx context.Context, ref FlowRef) (*dsl.Workflow, error)
}

// SpawnRequest describes a helper flow started without waiting
// (`run: workflow` with `await: false`).
type SpawnRequest struct {
	Flow     *dsl.Workflow
	Ref      FlowRef
	Input    any
	ParentID string
	// Key is the spawning task's journal key; with ParentID it identifies
	// the spawn, so a resumed parent can avoid starting the child twice.
	Key string
	// CallDepth must be passed back in the child's RunOptions so helper
	// flows that start each other stay bounded.
	CallDepth int
}

// Spawner starts a child execution that the parent does not wait for.
// Vigil's server enqueues a durable job. When Config.Spawner is nil the
// engine runs the child in a goroutine with an in-memory journal and Run
// waits for all such children before it returns (standalone mode).
type Spawner interface {
	Spawn(ctx context.Context, req SpawnRequest) (executionID string, err error)
}

// OnceSpawner is a Spawner that starts one child per spawn: asked again
// for a ParentID and Key it started a child for (a parent resumed after a
// crash), Spawn returns that child instead of starting another. A step
// that starts a helper flow through it is then not an Effect: run again,
// it gives the same step, so a durable journal stores it with the next
// step that has one, or with the execution's end, instead of at once.
type OnceSpawner interface {
	Spawner
	// SpawnsOnce reports whether Spawn keeps that promise.
	SpawnsOnce() bool
}

// Journal makes executions durable and is their history. Before running a
// task at a deterministic key such as /do/1/loop/for/3/do/0/notify the
// engine asks Lookup; a recorded step is reused (output, context and
// directive) instead of running the task again, so after a crash the
// execution resumes from its last recorded task. After every task the
// engine calls Record. A durable journal must have stored a step whose
// Effect is set when Record returns; it may keep the others, and the
// notes, to store with the next such step or the execution's end: after a
// crash the engine runs them again and, given the steps stored, gets the
// same results. Implementations must be safe for concurrent use (fork
// branches and concurrent loops record at the same time).
type Journal interface {
	Lookup(ctx context.Context, key string) (*Step, bool, error)
	Record(ctx context.Context, step *Step) error
	Note(ctx context.Context, note *Note) error
}

// Step is one task run, as the journal keeps it.
type Step struct {
	// Key identifies the run of the task within the execution: it adds
	// loop iterations, retry attempts and revisits to Reference.
	Key string
	// Reference is the task's JSON pointer in the definition, as in
	// error instances and $task.reference: /do/1/loop/do/0/notify.
	Reference string
	Name      string
	Kind      string
	Started   time.Time
	Ended     time.Time
	// Directive is the flow directive taken after the task: continue,
	// exit, end or a task name (a switch's decision, a then).
	Directive string
	// Skipped is set when the task's if was false.
	Skipped bool
	// Fault is set when the task faulted.
	Fault *Fault
	// Effect is set when running the task reached outside the execution
	// or read something that changes between runs: an HTTP or catalog call
	// (except PureChecker's), a helper flow run (except one started without
	// waiting through a OnceSpawner), a wait, an emitted event
	// (its id and time), or an expression that read the clock (now,
	// $task.startedAt). Running a task without effect again, given the
	// steps recorded before it, gives the same step, so a journal need not
	// store it at once.
	Effect bool

	// Output and Context are the exact state the engine resumes from: the
	// task's transformed output and $context after it. They may contain
	// secret values: stores must not show them and should seal them.
	Output  any
	Context any

	// History is the task's input and output with secret values redacted,
	// kept only when the flow saves all data; nil otherwise.
	History *StepData
}

// StepData is what the execution history shows of a task's data.
type StepData struct {
	Input  any
	Output any
}

// Note is an extra history entry: an emitted event, the request a dry-run
// connector would have sent, a message. Data is already redacted.
type Note struct {
	Key       string
	Reference string
	Time      time.Time
	Kind      string
	Message   string
	Data      any
}

// Clock is the engine's view of time, injected so tests of waits and
// retries run instantly.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx is done.
	Sleep(ctx context.Context, d time.Duration) error
}

// SecretSource gives flows their secrets ($secret.NAME and the `use:`
// form of authentication policies).
type SecretSource interface {
	// Secret returns the named secret, a string or an object. It returns
	// an error wrapping ErrSecretNotFound when there is none.
	Secret(ctx context.Context, name string) (any, error)
}

type realClock struct{}

// Now is the wall clock.
func (realClock) Now() time.Time { return time.Now() }

// Sleep waits d, or less when ctx ends, then returning its error.
func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
