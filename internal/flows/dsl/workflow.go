package dsl

import (
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Workflow is a parsed and validated Serverless Workflow DSL 1.0 document.
// It is immutable after Parse returns and safe to share between goroutines
// and executions: every runtime expression in it is compiled exactly once.
type Workflow struct {
	Document Document
	Input    *Input
	Output   *Output
	Use      Use
	Do       TaskList
	Timeout  *Timeout

	// Definition is the whole document as a generic JSON-like value, exposed
	// to expressions as $workflow.definition.
	Definition map[string]any

	// trigger is the trigger as Parse read it (triggerRead), kept because
	// the invoke endpoint asks for it on every request.
	trigger     *Trigger
	triggerRead bool
}

// Document holds the document block of a workflow.
type Document struct {
	DSL       string
	Namespace string
	Name      string
	Version   string
	Title     string
	Summary   string
	Tags      map[string]any
	Metadata  map[string]any
}

// Use holds the reusable components a workflow declares.
type Use struct {
	Authentications map[string]*AuthPolicy
	Errors          map[string]*ErrorDef
	Functions       map[string]*Task
	Retries         map[string]*RetryPolicy
	Secrets         []string
	Timeouts        map[string]*Timeout
}

// TaskList is an ordered list of named tasks, as in `do:`.
type TaskList []*NamedTask

// Index returns the position of the task called name, or -1.
func (l TaskList) Index(name string) int {
	for i, t := range l {
		if t.Name == name {
			return i
		}
	}
	return -1
}

// NamedTask is one item of a task list.
type NamedTask struct {
	Name string
	Task *Task
}

// Kind names what a task does.
type Kind string

// The task kinds Vigil executes. Listen and run container/shell/script are
// refused at validation.
const (
	KindCall   Kind = "call"
	KindDo     Kind = "do"
	KindFork   Kind = "fork"
	KindEmit   Kind = "emit"
	KindFor    Kind = "for"
	KindRaise  Kind = "raise"
	KindRun    Kind = "run"
	KindSet    Kind = "set"
	KindSwitch Kind = "switch"
	KindTry    Kind = "try"
	KindWait   Kind = "wait"
)

// Flow directives a task's then (or a switch case) may hold besides a task name.
const (
	DirectiveContinue = "continue"
	DirectiveExit     = "exit"
	DirectiveEnd      = "end"
)

// Task is one task of any kind. Exactly one of the kind-specific fields
// is set, as told by Kind.
type Task struct {
	Kind Kind
	// Line is the line of the task's name in the source document.
	Line int

	If       *Expr
	Input    *Input
	Output   *Output
	Export   *Export
	Timeout  *Timeout
	Then     string
	Metadata map[string]any
	// Definition is the task as written, exposed as $task.definition.
	Definition map[string]any

	Call   *Call
	Do     TaskList // for KindDo and KindFor
	Fork   *Fork
	Emit   *Emit
	For    *For
	Raise  *Raise
	Run    *Run
	Set    *Template
	Switch []*SwitchCase
	Try    *Try
	Wait   *Duration
}

// Input configures the input of a workflow or task.
type Input struct {
	From   *Template
	Schema *Schema
}

// Output configures the output of a workflow or task.
type Output struct {
	As     *Template
	Schema *Schema
}

// Export configures how a task's output updates the workflow context.
type Export struct {
	As     *Template
	Schema *Schema
}

// Schema is an inline JSON Schema used to validate data.
type Schema struct {
	Format   string
	Document any

	compiled *jsonschema.Schema
}

// Timeout is a timeout definition.
type Timeout struct {
	After *Duration
}

// Duration is either a literal duration or a runtime expression that
// evaluates to an ISO 8601 duration string.
type Duration struct {
	Value time.Duration
	Expr  *Expr
}

// Call describes a call task: http, openapi or a custom function.
type Call struct {
	// Function is the called function: "http", "openapi" or a catalog
	// name such as "okta.suspendUser" or a use.functions name.
	Function string
	HTTP     *HTTPCall
	OpenAPI  *OpenAPICall
	// With holds the arguments of a custom function call.
	With *Template
}

// HTTPCall holds the arguments of `call: http`.
type HTTPCall struct {
	Method   string
	Endpoint *Endpoint
	Headers  *Template
	Query    *Template
	Body     *Template
	// Output is content (default), response or raw.
	Output   string
	Redirect bool
}

// Endpoint is a URI template or runtime expression plus its authentication.
type Endpoint struct {
	URI  *Template
	Auth *AuthRef
}

// OpenAPICall holds the arguments of `call: openapi`.
type OpenAPICall struct {
	Document    *Endpoint
	OperationID string
	Parameters  *Template
	Auth        *AuthRef
	Output      string
	Redirect    bool
}

// AuthRef is either an inline authentication policy or a reference to one
// declared under use.authentications.
type AuthRef struct {
	Use    string
	Policy *AuthPolicy
}

// AuthPolicy is an authentication policy. Exactly one field is set.
type AuthPolicy struct {
	Basic  *BasicAuth
	Bearer *BearerAuth
	OAuth2 *OAuth2Auth
	// OIDC uses the same properties as OAuth2; the token endpoint is
	// discovered from the authority's OpenID configuration.
	OIDC *OAuth2Auth
}

// BasicAuth is HTTP basic authentication. Use names a secret holding
// {username, password} instead of inline values.
type BasicAuth struct {
	Username *Template
	Password *Template
	Use      string
}

// BearerAuth is bearer token authentication. Use names a secret holding
// {token}.
type BearerAuth struct {
	Token *Template
	Use   string
}

// OAuth2Auth is OAuth 2.0 authentication; only the client_credentials
// grant is executed. Use names a secret holding the same properties.
type OAuth2Auth struct {
	Use        string
	Authority  *Template
	Grant      string
	Client     *Template // {id, secret, authentication}
	TokenPath  string
	Scopes     []string
	Audiences  []string
	Encoding   string
	Properties *Template // the whole policy, for secret-less evaluation
}

// Emit describes an emit task; Event is the evaluated `event.with` object.
type Emit struct {
	Event *Template
}

// For describes the loop of a for task; the loop body is Task.Do.
type For struct {
	Each  string
	At    string
	In    *Expr
	While *Expr
	// Concurrency is Vigil's own option, read from
	// metadata.vigil.concurrency: how many iterations may run at once.
	// 0 or 1 means sequential, as the specification describes.
	Concurrency int
}

// Fork describes concurrent branches.
type Fork struct {
	Branches TaskList
	Compete  bool
}

// Raise describes the error a raise task raises: inline or a use.errors name.
type Raise struct {
	Error *ErrorDef
	Ref   string
}

// ErrorDef is an error definition whose fields may hold runtime expressions.
type ErrorDef struct {
	Fields *Template
}

// Run describes a run task; only run workflow is supported.
type Run struct {
	Workflow *RunWorkflow
	Await    bool
}

// RunWorkflow names the helper flow to run.
type RunWorkflow struct {
	Namespace string
	Name      string
	Version   string
	Input     *Template
}

// SwitchCase is one case of a switch task. A case without When matches
// always (the default case).
type SwitchCase struct {
	Name string
	When *Expr
	Then string
}

// Try describes a try task.
type Try struct {
	Do    TaskList
	Catch *Catch
}

// Catch describes which errors a try task catches and what it does then.
type Catch struct {
	Errors     *ErrorFilter
	As         string
	When       *Expr
	ExceptWhen *Expr
	Retry      *RetryPolicy
	RetryRef   string
	Do         TaskList
}

// ErrorFilter matches errors on their static fields; empty fields match all.
type ErrorFilter struct {
	Type     string
	Status   int
	Instance string
	Title    string
	Detail   string
}

// RetryPolicy is a retry policy.
type RetryPolicy struct {
	When       *Expr
	ExceptWhen *Expr
	Delay      *Duration
	// Backoff is constant (default), linear or exponential.
	Backoff string
	// AttemptCount is the maximum number of retries; 0 means unlimited
	// (bounded by Duration and the engine's step limit).
	AttemptCount    int
	AttemptDuration *Duration
	Duration        *Duration
	JitterFrom      *Duration
	JitterTo        *Duration
}
