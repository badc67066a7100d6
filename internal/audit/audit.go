// Package audit records who did what, when and from where: every
// administrative action taken through the console, the JSON API or the
// command line, and every sign-in and failed sign-in.
//
// Services record the actions they carry out, so the three front ends get
// the same record without each doing it: the front end puts an Actor in the
// context (the HTTP middleware of package auth for the console and the API,
// the command line for itself) and the service's Recorder reads it from
// there. An entry names the fields that changed but never holds a secret
// value: passwords, tokens and credentials appear only as "changed".
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/store"
)

// ActorKind says how an actor proved who it is.
type ActorKind string

// The kinds of actor.
const (
	// ActorUser is a user signed in to the console with a session.
	ActorUser ActorKind = "user"
	// ActorToken is a user calling the API with one of their API tokens.
	ActorToken ActorKind = "token"
	// ActorCLI is the vigil command working on the database directly.
	ActorCLI ActorKind = "cli"
	// ActorAnonymous is an HTTP caller not signed in (a failed sign-in).
	ActorAnonymous ActorKind = "anonymous"
	// ActorSystem is Vigil itself, for an action with no actor in its
	// context (a background job).
	ActorSystem ActorKind = "system"
)

// Actor is who did something and from where.
type Actor struct {
	Kind ActorKind
	// ID and Name are the user's; empty for the command line, an anonymous
	// caller and the system.
	ID   string
	Name string
	// Token is the name of the API token used, for ActorToken.
	Token string
	// Address is the client address as the server sees it (auth's
	// ClientIP), or "cli" for the command line.
	Address string
}

// CLI is the actor of the vigil command: it works on the database
// directly, so it has no user and no address.
var CLI = Actor{Kind: ActorCLI, Name: "cli", Address: "cli"}

type actorKey struct{}

// WithActor returns ctx carrying a, for the Recorder of any service the
// context reaches.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor ctx carries, or the system actor when none.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{Kind: ActorSystem, Name: "system"}
}

// Outcome says whether the action took effect.
type Outcome string

// The outcomes.
const (
	Success Outcome = "success"
	Failure Outcome = "failure"
)

// Target is the record an action was taken on.
type Target struct {
	Kind string `json:"kind"`
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// Entry is what a service says about one action. The actor comes from the
// context unless Actor is set.
type Entry struct {
	// Action is a stable dotted name, object first: "flow.enable",
	// "hook.update", "auth.signin.failed".
	Action string
	Target Target
	// Outcome defaults to Success.
	Outcome Outcome
	// Details names what changed. Never put a secret value here: name a
	// secret field in Changed and leave its value out.
	Details map[string]any
	// Actor, when set, replaces the context's actor (a sign-in names the
	// user who signed in).
	Actor *Actor
}

// Changed returns details that list the names of changed fields, for the
// common case of an update. Secret fields are listed by name only.
func Changed(fields ...string) map[string]any {
	if len(fields) == 0 {
		return nil
	}
	return map[string]any{"changed": fields}
}

// Writer stores audit rows; *store.Store and *store.Queries satisfy it.
type Writer interface {
	CreateAuditEntry(ctx context.Context, e *store.AuditEntry) error
}

// Recorder writes entries to the audit table. A service builds one from
// the store, logger and clock it already has.
type Recorder struct {
	w   Writer
	log *slog.Logger
	now func() time.Time
}

// NewRecorder returns a Recorder writing with w, a service's store. A nil
// logger discards, a nil clock is time.Now.
func NewRecorder(w Writer, log *slog.Logger, now func() time.Time) *Recorder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Recorder{w: w, log: log, now: now}
}

// Record writes e after its action has taken effect. A failure to write is
// logged rather than returned: the action has happened and saying otherwise
// to its caller would be wrong.
func (r *Recorder) Record(ctx context.Context, e Entry) {
	if r == nil {
		return
	}
	if err := r.write(context.WithoutCancel(ctx), r.w, e); err != nil {
		r.log.Error("cannot write an audit entry", "action", e.Action, "error", err)
	}
}

// RecordTx writes e with q, a transaction's queries when the entry must
// commit or roll back with the action.
func (r *Recorder) RecordTx(ctx context.Context, q *store.Queries, e Entry) error {
	return r.write(ctx, q, e)
}

func (r *Recorder) write(ctx context.Context, w Writer, e Entry) error {
	row, err := r.row(ctx, e)
	if err != nil {
		return err
	}
	if err := w.CreateAuditEntry(ctx, row); err != nil {
		return fmt.Errorf("write audit entry %s: %w", e.Action, err)
	}
	return nil
}

func (r *Recorder) row(ctx context.Context, e Entry) (*store.AuditEntry, error) {
	a := ActorFrom(ctx)
	if e.Actor != nil {
		if e.Actor.Address == "" {
			e.Actor.Address = a.Address
		}
		a = *e.Actor
	}
	if e.Outcome == "" {
		e.Outcome = Success
	}
	details := "{}"
	if len(e.Details) > 0 {
		b, err := json.Marshal(e.Details)
		if err != nil {
			return nil, fmt.Errorf("encode audit details of %s: %w", e.Action, err)
		}
		details = string(b)
	}
	now := r.now().UTC()
	return &store.AuditEntry{
		ID: id.NewAt("aud", now), At: now,
		ActorKind: string(a.Kind), ActorID: a.ID, ActorName: a.Name, TokenName: a.Token, Address: a.Address,
		Action: e.Action, TargetKind: e.Target.Kind, TargetID: e.Target.ID, TargetName: e.Target.Name,
		Outcome: string(e.Outcome), Details: details,
	}, nil
}
