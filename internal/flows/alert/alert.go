// Package alert sends failure notifications: when an execution of a flow
// faults, every rule that covers the flow (its own, or its folder's) posts
// the error and a link to the execution to a Slack channel or to a
// webhook, as Okta Workflows' error notifications and n8n's error
// workflows do.
//
// A rule names a connection rather than holding an address or a token, so
// that the message goes through the connector actions and with them
// through the connection's credentials, its dry-run switch and the
// SSRF-guarded client: slack.postMessage for Slack, http.request (a POST
// of a JSON body to a path under the connection's base URL) for a
// webhook. The job that sends a notification is inserted in the
// transaction that records the fault, so a fault is notified once it is
// recorded, even across a restart. Test runs are not notified: whoever
// started one is watching it.
package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/input"
	"github.com/vigil-ispm/vigil/internal/queue"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Channels a rule may post to.
const (
	ChannelSlack   = "slack"
	ChannelWebhook = "webhook"
)

// connectionKind is the kind of connection each channel posts through.
var connectionKind = map[string]string{ChannelSlack: "slack", ChannelWebhook: "http"}

// ErrNotFound is matched by the error of a lookup of a rule that does not
// exist.
var ErrNotFound = store.ErrNotFound

// InvalidError is a rule that cannot be saved; its message is one sentence
// for the user and Field names the form field at fault.
type InvalidError = input.InvalidError

// Caller runs a connector action by name. *connector.Connectors satisfies
// it.
type Caller interface {
	Call(ctx context.Context, name string, args map[string]any, env *engine.CallEnv) (any, error)
}

// Connections finds the connection a rule names, to check its kind before
// saving the rule. *connection.Service satisfies it.
type Connections interface {
	Get(ctx context.Context, nameOrID string) (*connection.Connection, error)
}

// JobInserter inserts River jobs in a store transaction: the
// application's *queue.Queue, or a test's wrapper of one.
type JobInserter = queue.TxInserter

// Config wires a Service. Zero values mean the default named on each
// field.
type Config struct {
	// Caller sends the messages. Required to send.
	Caller Caller
	// Connections checks the connection a rule names; unchecked when nil.
	Connections Connections
	// PublicURL is the console's address, for the link to the execution.
	PublicURL string
	// Queue inserts the notification jobs; it may be set later with
	// SetQueue.
	Queue JobInserter
	// QueueName is the River queue notifications run on. Default
	// "default".
	QueueName string
	// MaxAttempts bounds the tries of one notification. Default 5.
	MaxAttempts int
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives a line for each notification that could not be
	// sent. Default: discard.
	Logger *slog.Logger
}

// Service keeps the rules and sends the notifications.
type Service struct {
	st    *store.Store
	cfg   Config
	queue JobInserter
}

// New returns a Service over st.
func New(st *store.Store, cfg Config) *Service {
	if cfg.QueueName == "" {
		cfg.QueueName = river.QueueDefault
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	return &Service{st: st, cfg: cfg, queue: cfg.Queue}
}

// SetQueue sets the job inserter (the queue is built after the workers
// are registered).
func (s *Service) SetQueue(q JobInserter) { s.queue = q }

// Register adds the notification worker.
func (s *Service) Register(workers *river.Workers) {
	river.AddWorker(workers, &notifyWorker{s: s})
}

// Rule is a failure notification rule.
type Rule = store.FlowAlert

// Input is a rule to add: FolderID or FlowID, a channel, the connection
// to post through and the target (a Slack channel, or a path under the
// http connection's base URL).
type Input struct {
	FolderID   string
	FlowID     string
	Channel    string
	Connection string
	Target     string
	By         string
}

// Rules lists every rule.
func (s *Service) Rules(ctx context.Context) ([]*Rule, error) {
	return s.st.FlowAlerts(ctx)
}

// Add checks and saves a rule. Bad input is an *InvalidError and saves
// nothing.
func (s *Service) Add(ctx context.Context, in Input) (*Rule, error) {
	in.Connection, in.Target = strings.TrimSpace(in.Connection), strings.TrimSpace(in.Target)
	if (in.FolderID == "") == (in.FlowID == "") {
		return nil, &InvalidError{Field: "scope", Message: "Choose the folder or the flow whose failures to notify."}
	}
	kind, ok := connectionKind[in.Channel]
	if !ok {
		return nil, &InvalidError{Field: "channel", Message: "Choose Slack or webhook as the channel."}
	}
	if in.Connection == "" {
		return nil, &InvalidError{Field: "connection", Message: "Name the connection to send the notification through."}
	}
	if len(in.Target) > 500 || strings.ContainsAny(in.Target, "\r\n") {
		return nil, &InvalidError{Field: "target", Message: "The channel or path must be one line of at most 500 characters."}
	}
	if in.Channel == ChannelWebhook && in.Target != "" && !strings.HasPrefix(in.Target, "/") {
		return nil, &InvalidError{Field: "target", Message: "The webhook path must start with / (it is added to the connection's base URL)."}
	}
	if s.cfg.Connections != nil {
		c, err := s.cfg.Connections.Get(ctx, in.Connection)
		if errors.Is(err, connection.ErrNotFound) {
			return nil, &InvalidError{Field: "connection", Message: fmt.Sprintf("There is no connection %q; add it under Connections first.", in.Connection)}
		}
		if err != nil {
			return nil, err
		}
		if c.Kind != kind {
			return nil, &InvalidError{Field: "connection", Message: fmt.Sprintf("Connection %q is a %s connection; a %s notification needs a %s connection.", c.Name, c.Kind, in.Channel, kind)}
		}
		in.Connection = c.Name
	}
	if in.FolderID != "" {
		if _, err := s.st.FlowFolder(ctx, in.FolderID); err != nil {
			return nil, notFoundOr(err, "scope", "The folder does not exist.")
		}
	} else if _, err := s.st.Flow(ctx, in.FlowID); err != nil {
		return nil, notFoundOr(err, "scope", "The flow does not exist.")
	}
	now := s.cfg.Now().UTC()
	a := &store.FlowAlert{ID: id.NewAt("alr", now), FolderID: in.FolderID, FlowID: in.FlowID, Channel: in.Channel,
		Connection: in.Connection, Target: in.Target, CreatedBy: in.By, CreatedAt: now}
	if err := s.st.CreateFlowAlert(ctx, a); err != nil {
		return nil, fmt.Errorf("save the failure notification: %w", err)
	}
	return s.st.FlowAlert(ctx, a.ID)
}

func notFoundOr(err error, field, msg string) error {
	if errors.Is(err, store.ErrNotFound) {
		return &InvalidError{Field: field, Message: msg}
	}
	return err
}

// Remove deletes a rule; ErrNotFound if there is none.
func (s *Service) Remove(ctx context.Context, ruleID string) error {
	if err := s.st.DeleteFlowAlert(ctx, ruleID); err != nil {
		return fmt.Errorf("remove failure notification %s: %w", ruleID, err)
	}
	return nil
}

// notifyArgs is the job that sends one rule's notification of one fault.
type notifyArgs struct {
	AlertID     string `json:"alert_id"`
	ExecutionID string `json:"execution_id"`
}

// Kind names the job in River's job table.
func (notifyArgs) Kind() string { return "flow_alert" }

// ExecutionFaulted inserts, in tx, a job per rule that covers the faulted
// execution's flow. It implements flows.FaultWatcher.
func (s *Service) ExecutionFaulted(ctx context.Context, tx *store.Tx, e *store.FlowExecution) error {
	if e.Test {
		return nil
	}
	rules, err := tx.FlowAlertsFor(ctx, e.FlowID)
	if err != nil || len(rules) == 0 {
		return err
	}
	if s.queue == nil {
		s.cfg.Logger.Warn("a failure notification cannot be queued: no job queue is configured", "execution", e.ID)
		return nil
	}
	for _, a := range rules {
		if _, err := s.queue.InsertTx(ctx, tx, notifyArgs{AlertID: a.ID, ExecutionID: e.ID},
			&river.InsertOpts{Queue: s.cfg.QueueName, MaxAttempts: s.cfg.MaxAttempts}); err != nil {
			return fmt.Errorf("queue the failure notification %s: %w", a.ID, err)
		}
	}
	return nil
}

type notifyWorker struct {
	river.WorkerDefaults[notifyArgs]
	s *Service
}

// Work sends the alert for one faulted execution through its rule's channel.
func (w *notifyWorker) Work(ctx context.Context, job *river.Job[notifyArgs]) error {
	s := w.s
	a, err := s.st.FlowAlert(ctx, job.Args.AlertID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // the rule was removed since
	}
	if err != nil {
		return err
	}
	e, err := s.st.FlowExecution(ctx, job.Args.ExecutionID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // pruned by retention
	}
	if err != nil {
		return err
	}
	folder := ""
	if f, err := s.st.FlowFolder(ctx, e.FolderID); err == nil {
		folder = f.Name
	}
	msg := s.message(e, folder)
	out, err := s.send(ctx, a, msg)
	now := s.cfg.Now().UTC()
	if err != nil {
		note := "Not sent: " + err.Error()
		if job.Attempt < job.MaxAttempts {
			note += " (will try again)"
		}
		if rerr := s.st.RecordFlowAlert(ctx, a.ID, now, false, note); rerr != nil {
			s.cfg.Logger.Warn("cannot record a failure notification", "alert", a.ID, "err", rerr)
		}
		s.cfg.Logger.Warn("failure notification not sent", "alert", a.ID, "execution", e.ID, "attempt", job.Attempt, "err", err)
		return err
	}
	note := "Sent for execution " + e.ID + "."
	if m, ok := out.(map[string]any); ok && m["dryRun"] == true {
		note = "Recorded only for execution " + e.ID + ": the connection " + a.Connection + " is in dry run."
	}
	return s.st.RecordFlowAlert(ctx, a.ID, now, true, note)
}

// message is what a notification says about a fault.
type message struct {
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Execution executionRef    `json:"execution"`
	Error     json.RawMessage `json:"error"`
	// text is the one-paragraph form, for Slack.
	text string
}

type executionRef struct {
	ID        string    `json:"id"`
	Link      string    `json:"link"`
	FlowID    string    `json:"flowId"`
	FlowTitle string    `json:"flowTitle"`
	Folder    string    `json:"folder"`
	ParentID  string    `json:"parentId,omitempty"`
	StartedAt time.Time `json:"startedAt,omitzero"`
	EndedAt   time.Time `json:"endedAt"`
}

func (s *Service) message(e *store.FlowExecution, folder string) message {
	link := s.cfg.PublicURL + "/workflows/executions/" + e.ID
	m := message{Type: "execution.faulted", Timestamp: s.cfg.Now().UTC(),
		Execution: executionRef{ID: e.ID, Link: link, FlowID: e.FlowID, FlowTitle: e.FlowTitle, Folder: folder,
			ParentID: e.ParentID, StartedAt: e.StartedAt, EndedAt: e.EndedAt},
		Error: json.RawMessage(`{}`)}
	var f engine.Fault
	if e.Error != "" && json.Unmarshal([]byte(e.Error), &f) == nil {
		m.Error = json.RawMessage(e.Error)
	}
	what := f.Title
	if f.Detail != "" {
		what += ": " + f.Detail
	}
	if what == "" {
		what = "no error was recorded"
	}
	m.text = fmt.Sprintf("Flow %q (folder %s) faulted: %s\nExecution %s: %s", e.FlowTitle, folder, what, e.ID, link)
	return m
}

// send posts the message through the rule's connection.
func (s *Service) send(ctx context.Context, a *store.FlowAlert, m message) (any, error) {
	if s.cfg.Caller == nil {
		return nil, errors.New("connector actions are not available on this server")
	}
	switch a.Channel {
	case ChannelSlack:
		return s.cfg.Caller.Call(ctx, "slack.postMessage", map[string]any{"connection": a.Connection, "channel": a.Target, "text": m.text}, nil)
	case ChannelWebhook:
		b, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		var body map[string]any
		if err := json.Unmarshal(b, &body); err != nil {
			return nil, err
		}
		body["text"] = m.text
		return s.cfg.Caller.Call(ctx, "http.request", map[string]any{"connection": a.Connection, "method": "POST", "path": a.Target, "body": body}, nil)
	}
	return nil, fmt.Errorf("unknown channel %q", a.Channel)
}
