package console

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/cluster"
	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/hooks"
	"github.com/vigil-ispm/vigil/internal/posture/detect"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
	"github.com/vigil-ispm/vigil/internal/posture/source"
	"github.com/vigil-ispm/vigil/internal/settings"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Services are what the console drives, one small interface per area; the
// application fits the real services to them in one place (Adapt). A nil
// area hides its pages' content behind a "not available on this server"
// notice; Auth is required.
type Services struct {
	Auth   Auth
	Users  Users
	Issues Issues
	// Titles lists the detection catalog for the automation checklist and
	// the issue filters. Default detect.Catalog.
	Titles      func() []detect.Detection
	Sources     Sources
	Hooks       Hooks
	Flows       Flows
	Tables      Tables
	Templates   Templates
	Connections Connections
	Endpoints   Endpoints
	Settings    Settings
	// Health feeds the dashboard's failures and the badges of the Flows
	// and Integrations lists; *store.Queries satisfies it. Hidden when nil.
	Health Health
	// Alerts keeps the failure notification rules. Hidden when nil.
	Alerts Alerts
	// Approvals lists flows' approval requests and decides them; nil
	// hides the Approvals page and the header's count.
	Approvals Approvals
	// Identities reads the identity inventory. Hidden when nil.
	Identities Identities
	// Cluster reads the nodes and the queue depth for Admin → Settings.
	// Hidden when nil.
	Cluster func(ctx context.Context) (cluster.Status, error)
	// Audit reads the audit log; *audit.Log satisfies it. Hidden when nil.
	Audit AuditLog
}

// AuditLog reads the audit log for the Audit log page.
type AuditLog interface {
	List(ctx context.Context, f audit.Filter) (*audit.Page, error)
}

// Auth signs people in and out and finds the caller of each request.
// *auth.Service satisfies it.
type Auth interface {
	Authenticate(next http.Handler) http.Handler
	SignIn(w http.ResponseWriter, r *http.Request, name, password string) (*auth.User, error)
	SignOut(w http.ResponseWriter, r *http.Request) error
}

// Users manages console accounts and API tokens. *auth.Service satisfies it.
type Users interface {
	Users(ctx context.Context) ([]*auth.User, error)
	CreateUser(ctx context.Context, name string, role auth.Role, password string) (*auth.User, error)
	UpdateUser(ctx context.Context, userID string, up auth.UserUpdate) (*auth.User, error)
	Tokens(ctx context.Context, userID string) ([]*auth.Token, error)
	Token(ctx context.Context, tokenID string) (*auth.Token, error)
	CreateToken(ctx context.Context, userID, name string, ttl time.Duration) (*auth.Token, string, error)
	RevokeToken(ctx context.Context, tokenID string) error
	// ChangeOwnPassword checks the signed-in user's current password,
	// sets the new one, ends their other sessions and signs this browser
	// in again.
	ChangeOwnPassword(w http.ResponseWriter, r *http.Request, current, next string) error
}

// Issues reads and triages posture issues. *issue.Service satisfies it.
type Issues interface {
	List(ctx context.Context, f issue.Filter) (issue.Page, error)
	Get(ctx context.Context, issueID string) (*issue.Issue, error)
	Counts(ctx context.Context, f issue.Filter) (issue.Counts, error)
	// OpenIssues returns the eventData of every open issue.
	OpenIssues(ctx context.Context) ([]event.Issue, error)
	Trend(ctx context.Context, days int) ([]issue.TrendPoint, error)
	SnoozeMany(ctx context.Context, ids []string, until time.Time, note issue.Note) (issue.Outcome, error)
	AcknowledgeMany(ctx context.Context, ids []string, note issue.Note) (issue.Outcome, error)
	MarkFalsePositiveMany(ctx context.Context, ids []string, note issue.Note) (issue.Outcome, error)
	ReopenMany(ctx context.Context, ids []string, note issue.Note) (issue.Outcome, error)
	// Event is the event an integration would be sent about the issue now;
	// running a flow on the issue gives the flow this event.
	Event(ctx context.Context, issueID string) (event.Event, error)
}

// Hooks manages outbound integrations, their automations and deliveries.
// *hooks.Service satisfies it.
type Hooks interface {
	List(ctx context.Context) ([]*hooks.Integration, error)
	Get(ctx context.Context, idOrName string) (*hooks.Integration, error)
	Create(ctx context.Context, in hooks.Input) (*hooks.Integration, string, error)
	Update(ctx context.Context, hookID string, in hooks.Input) (*hooks.Integration, error)
	Delete(ctx context.Context, idOrName string) error
	Test(ctx context.Context, hook string, in hooks.Input) (*hooks.TestResult, error)
	SetAutomation(ctx context.Context, idOrName string, in hooks.AutomationInput) (*hooks.Automation, error)
	Deliveries(ctx context.Context, f hooks.DeliveryFilter) ([]*hooks.Delivery, error)
	Delivery(ctx context.Context, deliveryID string) (*hooks.Delivery, error)
	DeadLetters(ctx context.Context, hook string) ([]*hooks.Delivery, error)
	Resend(ctx context.Context, deliveryIDs ...string) (int, error)
	ResendDead(ctx context.Context, hook string) (int, error)
	Pause(ctx context.Context, idOrName, reason string) error
	Resume(ctx context.Context, idOrName string) (int, error)
	// SendOpen queues an issue.created event to the integration for each
	// of the open issues its automation matches and it was never sent,
	// and returns how many.
	SendOpen(ctx context.Context, idOrName string, open []event.Issue) (int, error)
}

// Endpoints keeps the invoke alias and client token of API Endpoint flows.
// *invoke.Endpoints satisfies it.
type Endpoints interface {
	Ensure(ctx context.Context, flowID string) (*store.Endpoint, error)
	// Reveal opens the client token to show it, recording that it was shown.
	Reveal(ctx context.Context, ep *store.Endpoint, flowTitle string) (string, error)
	Rotate(ctx context.Context, flowID string, grace time.Duration) (string, error)
	// SetSigningSecret sets the secret a trigger's signature verification
	// (scheme) checks: secret, or a generated one it returns when empty.
	SetSigningSecret(ctx context.Context, flowID, scheme, secret string, keepPrevious bool) (string, error)
	// SigningSecrets counts the signing secrets set.
	SigningSecrets(ep *store.Endpoint) (int, error)
}

// Flows manages folders, flows and their executions.
type Flows interface {
	Folders(ctx context.Context) ([]*Folder, error)
	CreateFolder(ctx context.Context, name string) (*Folder, error)
	// Flows lists the flows of a folder ("" for every folder).
	Flows(ctx context.Context, folderID string) ([]*FlowSummary, error)
	Flow(ctx context.Context, flowID string) (*Flow, error)
	// CreateFlow and SaveFlow validate the document first and return a
	// *dsl.ValidationError, changing nothing, when it is not valid.
	CreateFlow(ctx context.Context, folderID string, doc []byte) (*Flow, error)
	SaveFlow(ctx context.Context, flowID string, doc []byte) (*Flow, error)
	// SetFlowOn turns a flow on or off; turning on fails with a message
	// naming what is missing (a connection, a variable).
	SetFlowOn(ctx context.Context, flowID string, on bool) error
	Executions(ctx context.Context, f ExecutionFilter) (ExecutionPage, error)
	Execution(ctx context.Context, executionID string) (*Execution, error)
	// ExecutionsByID returns the executions of ids that exist, without
	// their steps, in one read.
	ExecutionsByID(ctx context.Context, ids []string) ([]Execution, error)
	// TestFlow starts a test run of a flow with input (a JSON document),
	// even when the flow is off, so a builder can try a flow before
	// turning it on. With dryRun its connectors record what they would
	// send instead of sending it. It returns the new execution's id; a
	// refusal is an *InputError and starts nothing.
	TestFlow(ctx context.Context, flowID string, input json.RawMessage, dryRun bool) (string, error)
	// CancelExecution ends a pending or running execution as cancelled.
	// An execution that has ended already is refused with an *InputError
	// and left as it is.
	CancelExecution(ctx context.Context, executionID string) error
	// OnDemandFlows lists the flows that are on and marked callable on
	// demand: the flows an issue page offers to run.
	OnDemandFlows(ctx context.Context) ([]*FlowSummary, error)
	// StartOnDemand starts such a flow with body as its request body and
	// returns the new execution's id. A flow that is off or not marked is
	// refused with an *InputError and nothing starts.
	StartOnDemand(ctx context.Context, flowID string, body any) (string, error)
	// IssueRuns lists the executions started by hand on an issue, newest
	// first.
	IssueRuns(ctx context.Context, issueID string) ([]Execution, error)
}

// Folder holds flows and tables; adding a template makes one. It is the
// flows service's own.
type Folder = flows.Folder

// FlowSummary is a flow as lists show it: the flows service's own.
type FlowSummary = flows.Flow

// Flow is one flow with the document of its current version.
type Flow struct {
	FlowSummary
	// Document is the YAML (or JSON) text as saved.
	Document []byte
	// Workflow is the parsed document, for the cards; nil if it cannot be
	// parsed (a document saved by an older version of Vigil).
	Workflow *dsl.Workflow
}

// ExecutionFilter selects executions for Flow history. Empty fields match
// everything.
type ExecutionFilter struct {
	FlowID string
	// Status is pending, running, succeeded, faulted or cancelled.
	Status      string
	MinDuration time.Duration
	MaxDuration time.Duration
	// Search matches part of the trigger event's issue id, title or user,
	// in any case.
	Search string
	// Before pages to older executions: those whose id sorts before it.
	Before string
	// Limit is the page size; 0 means 50.
	Limit int
}

// ExecutionPage is one page of executions, newest first.
type ExecutionPage struct {
	Executions []Execution
	// Total counts the executions the filter selects on every page.
	Total int
}

// Execution is one run of a flow.
type Execution struct {
	ID        string
	FlowID    string
	FlowTitle string
	Version   int
	Status    string
	// Test marks runs started by a hook's Test Connection or by the flow
	// page's Test flow form.
	Test bool
	// DryRun marks runs whose connectors recorded what they would send
	// instead of sending it.
	DryRun bool
	// IssueID, IssueTitle and User say what the run is about, from its
	// trigger event; empty for other input.
	IssueID    string
	IssueTitle string
	User       string
	// ParentID is the execution that started this one as a helper flow.
	ParentID string
	// Result is a short note such as "no matching route".
	Result    string
	StartedAt time.Time
	EndedAt   time.Time
	Duration  time.Duration
	// DataSaved tells whether the flow saved the data passing through it;
	// when false, Input, Output and the steps' data are empty.
	DataSaved bool
	Input     json.RawMessage
	Output    json.RawMessage
	// Error is the RFC 7807 error object of a fault.
	Error json.RawMessage
	// Steps, Notes and Children are filled by Execution, not by
	// Executions.
	Steps []Step
	// Notes are extra entries of the history: a request a dry-run
	// connection would have sent, an event emitted, a helper started.
	Notes []Note
	// Children are the helper flows the execution started without
	// waiting.
	Children []Execution
	// ConnectorCalls are the HTTP requests its connector actions made, or
	// in a dry run recorded without sending, with the answers; secrets
	// masked.
	ConnectorCalls []ConnectorCall
}

// ConnectorCall is one HTTP request a connector action made (or recorded,
// in a dry run) and its answer, secrets masked.
type ConnectorCall struct {
	// Reference is the calling task.
	Reference  string
	Connection string
	DryRun     bool
	Method     string
	URL        string
	Time       time.Time
	Duration   time.Duration
	// RequestHeaders and ResponseHeaders are JSON objects; the bodies are
	// JSON values (decoded JSON, a form, or text).
	RequestHeaders  json.RawMessage
	RequestBody     json.RawMessage
	Status          int
	ResponseHeaders json.RawMessage
	ResponseBody    json.RawMessage
	// Truncated tells that only the start of the answer was kept.
	Truncated bool
	// Error is why no answer came, when none did.
	Error string
}

// Note is an extra entry of an execution's history.
type Note struct {
	Reference string
	Kind      string
	Message   string
	Data      json.RawMessage
	Time      time.Time
}

// Step is one task of an execution.
type Step struct {
	Path      string
	Task      string
	Kind      string
	Status    string
	StartedAt time.Time
	Duration  time.Duration
	Input     json.RawMessage
	Output    json.RawMessage
	Error     json.RawMessage
}

// Tables reads the tables flows write to.
type Tables interface {
	// Tables lists the tables of a folder ("" for every folder).
	Tables(ctx context.Context, folderID string) ([]Table, error)
	Table(ctx context.Context, tableID string) (*Table, error)
	// Rows returns the rows whose text contains search (ignoring case),
	// newest first, skipping offset of them.
	Rows(ctx context.Context, tableID, search string, limit, offset int) (RowPage, error)
	// ExportCSV writes every row of the table as CSV, header first.
	ExportCSV(ctx context.Context, tableID string, w io.Writer) error
}

// Table is a named table of a folder.
type Table struct {
	ID         string
	FolderID   string
	FolderName string
	Name       string
	Columns    []Column
	Rows       int
}

// Column is a typed column of a table.
type Column struct {
	Name string
	// Type is text, number, boolean or datetime.
	Type string
}

// RowPage is one page of rows; More tells whether rows follow it.
type RowPage struct {
	Rows []Row
	More bool
}

// Row is one table row, its values by column name.
type Row struct {
	ID      string
	Values  map[string]any
	Created time.Time
	// FlowID and ExecutionID name the run that added the row; empty for a
	// row added otherwise.
	FlowID      string
	ExecutionID string
}

// Templates lists and adds template bundles.
type Templates interface {
	Templates(ctx context.Context) ([]Template, error)
	// AddTemplate creates a new folder with the template's flows (off) and
	// tables and returns it. When the folder exists already it returns a
	// *TemplatePresentError unless again is set, which makes a second
	// folder, "… (2)".
	AddTemplate(ctx context.Context, name, folder string, vars map[string]string, again bool) (*Folder, error)
}

// TemplatePresentError is AddTemplate's error when the folder it would
// make exists already: a second copy has its own flows and invoke URLs,
// so the console asks first.
type TemplatePresentError struct {
	Folder *Folder
}

func (e *TemplatePresentError) Error() string {
	return "the folder " + e.Folder.Name + " exists already"
}

// Template is a bundle of flows users can add in one go.
type Template struct {
	Name        string
	Title       string
	Description string
	Keywords    []string
	FlowTitles  []string
	Connectors  []string
	Variables   []TemplateVar
}

// TemplateVar is a value the user sets when adding a template.
type TemplateVar struct {
	Name string
	// Label is the name the form shows, such as "Okta MFA group id"; the
	// raw name stays the field's key.
	Label       string
	Description string
	Example     string
}

// Connections manages the connections (environments) flows call.
type Connections interface {
	Connections(ctx context.Context) ([]Connection, error)
	// ConnectionTypes describes the form of each connection type.
	ConnectionTypes() []FormType
	AddConnection(ctx context.Context, in ConnectionInput) (*Connection, error)
	TestConnection(ctx context.Context, name string) (CheckResult, error)
	SetDryRun(ctx context.Context, name string, on bool) error
	RemoveConnection(ctx context.Context, name string) error
	// Connection returns one connection with its non-secret values, for
	// the edit form.
	Connection(ctx context.Context, name string) (*Connection, error)
	// EditConnection saves a connection's name, values and dry-run
	// switch. Its type cannot change; a secret left empty keeps its saved
	// value, except where the service asks for it again (a moved host).
	EditConnection(ctx context.Context, name string, in ConnectionInput) (*Connection, error)
}

// Connection is a saved connection, without its secrets.
type Connection struct {
	Name   string
	Type   string
	DryRun bool
	// Summary is a non-secret description, such as the org URL.
	Summary string
	// Values holds the non-secret fields, by name; secrets are never
	// read back.
	Values    map[string]string
	UpdatedAt time.Time
}

// ConnectionInput is what the Add connection form sends.
type ConnectionInput struct {
	Type   string
	Name   string
	Values map[string]string
	DryRun bool
}

// FormType describes the fields of one kind of connection or source, so
// that one template renders every form.
type FormType struct {
	Type   string
	Label  string
	Fields []Field
}

// Field is one input of a FormType.
type Field struct {
	Name  string
	Label string
	Help  string
	// Kind is text (default), url, textarea or select.
	Kind        string
	Options     []string
	Placeholder string
	Required    bool
	// Secret fields are sent but never shown back.
	Secret bool
}

// CheckResult is the outcome of a Test button: one sentence for the user.
type CheckResult struct {
	OK      bool
	Message string
}

// Sources manages posture sources and scans.
type Sources interface {
	Sources(ctx context.Context) ([]Source, error)
	Source(ctx context.Context, name string) (*Source, error)
	SourceKinds() []FormType
	AddSource(ctx context.Context, in SourceInput) error
	// UpdateSource replaces a source's settings; secret fields left empty
	// keep their saved values.
	UpdateSource(ctx context.Context, name string, in SourceInput) error
	// TestSource reads a little from the configuration in (saved or not:
	// when name is set, empty secrets use the saved ones).
	TestSource(ctx context.Context, name string, in SourceInput) (CheckResult, error)
	RemoveSource(ctx context.Context, name, by string) error
	// QueueScan queues a scan of one source ("" for all); the scan list
	// shows it.
	QueueScan(ctx context.Context, name string) error
	Scan(ctx context.Context, scanID string) (*Scan, error)
	// Scans lists the latest scans, newest first.
	Scans(ctx context.Context, limit int) ([]Scan, error)
}

// Source is a configured posture source as the source service lists it
// (no secrets), with its settings as the form's values.
type Source struct {
	source.Source
	Values map[string]string
}

// SourceInput is what the source form sends.
type SourceInput struct {
	Name    string
	Kind    string
	Values  map[string]string
	Primary bool
}

// Scan is a scan's progress and result.
type Scan struct {
	ID string
	// Status is queued, running, succeeded, partial or failed.
	Status    string
	Trigger   string
	Sources   []string
	Progress  string
	Done      int
	Total     int
	StartedAt time.Time
	EndedAt   time.Time
	Error     string
	Accounts  int
	Opened    int
	Resolved  int
	Unchanged int
	// Errors are the sources that could not be read and why.
	Errors map[string]string
}

// Finished reports whether the scan has ended.
func (s *Scan) Finished() bool {
	return s.Status == "succeeded" || s.Status == "partial" || s.Status == "failed"
}

// Settings reads and changes server settings. *settings.Service
// satisfies it.
type Settings interface {
	Settings(ctx context.Context) (settings.Values, error)
	Save(ctx context.Context, v settings.Values) error
}

// Approvals lists the approval requests of flows (approval.request) and
// records people's decisions. *flows.Service satisfies it.
type Approvals interface {
	Approvals(ctx context.Context, f flows.ApprovalFilter) ([]*flows.Approval, error)
	PendingApprovals(ctx context.Context) (int, error)
	Decide(ctx context.Context, approvalID string, d flows.Decision) (*flows.Approval, error)
}
