package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Approval statuses.
const (
	ApprovalPending  = store.ApprovalPending
	ApprovalApproved = store.ApprovalApproved
	ApprovalDenied   = store.ApprovalDenied
	ApprovalExpired  = store.ApprovalExpired
	// ApprovalCancelled is the status of a request whose execution was
	// cancelled before anyone decided.
	ApprovalCancelled = store.ApprovalCancelled
)

// Errors of decisions, tested with errors.Is.
var (
	// ErrDecided is returned when a request was decided already, expired,
	// or its execution ended: it cannot be decided (again).
	ErrDecided = errors.New("the approval request is not pending")
	// ErrNotApprover is returned when the user is not one of the
	// request's approvers.
	ErrNotApprover = errors.New("the user is not an approver of the request")
)

// Approval is a flow's request for a person's decision (approval.request).
// Its JSON form is stable.
type Approval struct {
	ID          string `json:"id"`
	ExecutionID string `json:"executionId"`
	FlowID      string `json:"flowId"`
	FlowTitle   string `json:"flowTitle"`
	FolderID    string `json:"folderId"`
	Message     string `json:"message"`
	// Approvers are "role:NAME" and "user:NAME" entries.
	Approvers []string `json:"approvers"`
	// Issue, AffectedEntity and Action are what the request is about: the
	// issue event the execution handles and the call the approval guards.
	Issue          map[string]any `json:"issue,omitempty"`
	AffectedEntity map[string]any `json:"affectedEntity,omitempty"`
	Action         map[string]any `json:"action,omitempty"`
	// Status is pending, approved, denied, expired or cancelled.
	Status      string     `json:"status"`
	RequestedAt time.Time  `json:"requestedAt"`
	ExpiresAt   time.Time  `json:"expiresAt"`
	DecidedBy   string     `json:"decidedBy,omitempty"`
	DecidedAt   *time.Time `json:"decidedAt,omitempty"`
	Comment     string     `json:"comment,omitempty"`
	// ExecutionStatus is the status of the execution that asked.
	ExecutionStatus string `json:"executionStatus"`
}

// MayDecide tells whether a user of that name and role may decide a.
func (a *Approval) MayDecide(user, role string) bool {
	return catalog.MayDecide(a.Approvers, user, role)
}

func approvalOf(r *store.FlowApproval) *Approval {
	a := &Approval{ID: r.ID, ExecutionID: r.ExecutionID, FlowID: r.FlowID, FlowTitle: r.FlowTitle, FolderID: r.FolderID,
		Message: r.Message, Status: r.Status, RequestedAt: r.RequestedAt, ExpiresAt: r.ExpiresAt, DecidedBy: r.DecidedBy,
		DecidedAt: timePtr(r.DecidedAt), Comment: r.Comment, ExecutionStatus: r.ExecutionStatus}
	_ = json.Unmarshal([]byte(r.Approvers), &a.Approvers)
	var d struct {
		Issue          map[string]any `json:"issue"`
		AffectedEntity map[string]any `json:"affectedEntity"`
		Action         map[string]any `json:"action"`
	}
	if json.Unmarshal([]byte(r.Details), &d) == nil {
		a.Issue, a.AffectedEntity, a.Action = d.Issue, d.AffectedEntity, d.Action
	}
	return a
}

// ApprovalFilter selects requests to list: Status "" lists all, newest
// first; "pending" lists those waiting, the oldest first.
type ApprovalFilter = store.FlowApprovalFilter

// Approvals lists approval requests.
func (s *Service) Approvals(ctx context.Context, f ApprovalFilter) ([]*Approval, error) {
	rs, err := s.st.FlowApprovals(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list approval requests: %w", err)
	}
	out := make([]*Approval, len(rs))
	for i, r := range rs {
		out[i] = approvalOf(r)
	}
	return out, nil
}

// PendingApprovals counts the requests waiting for a decision, for the
// console's header.
func (s *Service) PendingApprovals(ctx context.Context) (int, error) {
	n, err := s.st.CountPendingFlowApprovals(ctx)
	if err != nil {
		return 0, fmt.Errorf("count pending approval requests: %w", err)
	}
	return n, nil
}

// Approval returns one request.
func (s *Service) Approval(ctx context.Context, approvalID string) (*Approval, error) {
	r, err := s.st.FlowApproval(ctx, approvalID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, kindErrorf(ErrNotFound, "no approval request has id %s", approvalID)
	}
	if err != nil {
		return nil, fmt.Errorf("read approval request %s: %w", approvalID, err)
	}
	return approvalOf(r), nil
}

// Decision is a person's answer to an approval request.
type Decision struct {
	Approve bool
	// User and Role are the deciding user's name and role; only a user
	// the request lists, by name or by role, may decide.
	User    string
	Role    string
	Comment string
}

// MaxApprovalComment bounds a decision's comment, in characters.
const MaxApprovalComment = 1000

// Decide records a decision on a pending request and queues its execution
// to go on, in one transaction. It returns ErrNotFound for an unknown
// request, ErrNotApprover when the user may not decide it, and ErrDecided
// when it was decided already, expired, or its execution ended.
func (s *Service) Decide(ctx context.Context, approvalID string, d Decision) (*Approval, error) {
	a, err := s.Approval(ctx, approvalID)
	if err != nil {
		return nil, err
	}
	if len([]rune(d.Comment)) > MaxApprovalComment {
		return nil, invalid(fmt.Errorf("the comment is longer than %d characters; shorten it", MaxApprovalComment))
	}
	if err := decidable(a, s.now()); err != nil {
		return nil, err
	}
	if !a.MayDecide(d.User, d.Role) {
		return nil, kindErrorf(ErrNotApprover, "user %s is not an approver of request %s; ask one of: %s", d.User, a.ID, approverList(a.Approvers))
	}
	status := ApprovalDenied
	if d.Approve {
		status = ApprovalApproved
	}
	decided := false
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		ok, err := tx.DecideFlowApproval(ctx, a.ID, status, d.User, d.Comment, s.now())
		if err != nil || !ok {
			return err
		}
		decided = true
		return s.wakeTx(ctx, tx, a.ExecutionID)
	})
	if err != nil {
		return nil, fmt.Errorf("record the decision on approval request %s: %w", a.ID, err)
	}
	if !decided {
		a, err := s.Approval(ctx, approvalID)
		if err != nil {
			return nil, err
		}
		return nil, decidable(a, s.now())
	}
	s.cfg.Logger.Info("approval request decided", "approval", a.ID, "execution", a.ExecutionID, "status", status, "user", d.User)
	s.audit.Record(ctx, audit.Entry{Action: "approval.decide", Target: audit.Target{Kind: "approval", ID: a.ID},
		Details: map[string]any{"status": string(status), "execution": a.ExecutionID}})
	return s.Approval(ctx, approvalID)
}

// decidable says why a request cannot be decided, or nil.
func decidable(a *Approval, now time.Time) error {
	switch {
	case a.Status != ApprovalPending:
		by := ""
		if a.DecidedBy != "" {
			by = " by " + a.DecidedBy
		}
		at := ""
		if a.DecidedAt != nil {
			at = " at " + a.DecidedAt.UTC().Format(time.RFC3339)
		}
		return kindErrorf(ErrDecided, "approval request %s was already %s%s%s and cannot be decided again", a.ID, a.Status, by, at)
	case !now.Before(a.ExpiresAt):
		return kindErrorf(ErrDecided, "approval request %s expired at %s and cannot be decided; the execution goes on as denied",
			a.ID, a.ExpiresAt.UTC().Format(time.RFC3339))
	case final(a.ExecutionStatus):
		return kindErrorf(ErrDecided, "the execution of approval request %s has ended (%s); the request cannot be decided", a.ID, a.ExecutionStatus)
	}
	return nil
}

func approverList(approvers []string) string {
	b := []byte{}
	for i, a := range approvers {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, a...)
	}
	return string(b)
}

// wakeTx queues a waiting execution to run again, in tx. An execution
// not waiting (still running towards its park, or ended) is left alone:
// the worker that parks it looks for decided requests first.
func (s *Service) wakeTx(ctx context.Context, tx *store.Tx, execID string) error {
	if s.queue == nil {
		return ErrNoQueue
	}
	gen, err := tx.WakeFlowExecution(ctx, execID, s.now())
	if err != nil || gen == 0 {
		return err
	}
	_, err = s.queue.InsertTx(ctx, tx, runArgs{ExecutionID: execID, Generation: gen}, s.insertOpts())
	return err
}

// ExpireApprovals denies the pending requests whose expiry passed and
// queues their executions to go on; maintenance runs it. It returns how
// many it expired.
func (s *Service) ExpireApprovals(ctx context.Context) (int, error) {
	now := s.now()
	expired, err := s.st.ExpiredFlowApprovals(ctx, now, 500)
	if err != nil {
		return 0, fmt.Errorf("find expired approval requests: %w", err)
	}
	n := 0
	for _, a := range expired {
		err := s.st.InTx(ctx, func(tx *store.Tx) error {
			ok, err := tx.DecideFlowApproval(ctx, a.ID, ApprovalExpired, "", "", a.ExpiresAt)
			if err != nil || !ok {
				return err
			}
			n++
			return s.wakeTx(ctx, tx, a.ExecutionID)
		})
		if err != nil {
			return n, fmt.Errorf("expire approval request %s: %w", a.ID, err)
		}
	}
	return n, nil
}

// park puts a running execution aside while it waits for a decision. If
// the request was decided between the run's ask and now, it wakes it at
// once, so no decision is missed. The rows its journal j has not
// committed are committed with the park.
func (s *Service) park(ctx context.Context, r *store.FlowExecution, steps int, p *engine.Park, j *dbJournal, release handBack) error {
	ctx = context.WithoutCancel(ctx)
	journal := j.commitTx(ctx)
	var ok bool
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if ok, err = tx.ParkFlowExecution(ctx, r.ID, r.Generation, steps, s.now()); err != nil || !ok {
			return err
		}
		return journal(tx)
	})
	if err != nil {
		return release(ctx, r.ID, r.Generation, fmt.Errorf("park execution %s: %w", r.ID, err))
	}
	if !ok {
		return nil // cancelled meanwhile, or queued anew
	}
	s.cfg.Logger.Info("execution waits", "execution", r.ID, "reason", p.Reason)
	pending, err := s.st.FlowApprovals(ctx, store.FlowApprovalFilter{ExecutionID: r.ID, Status: ApprovalPending, Limit: 1})
	if err != nil {
		return fmt.Errorf("read the approval requests of execution %s: %w", r.ID, err)
	}
	if len(pending) > 0 {
		return nil
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error { return s.wakeTx(ctx, tx, r.ID) })
}

// waited is how long an execution has spent waiting for decisions, which
// does not count against its time limit.
func (s *Service) waited(ctx context.Context, execID string, now time.Time) (time.Duration, error) {
	as, err := s.st.FlowApprovals(ctx, store.FlowApprovalFilter{ExecutionID: execID, Limit: 1000})
	if err != nil {
		return 0, fmt.Errorf("read the approval requests of execution %s: %w", execID, err)
	}
	var d time.Duration
	for _, a := range as {
		end := a.DecidedAt
		if end.IsZero() {
			end = now
		}
		d += end.Sub(a.RequestedAt)
	}
	return d, nil
}

// dbApprovals keeps the requests of approval.request in the database.
type dbApprovals struct{ s *Service }

// Request finds the request the calling task made, making it the first
// time, and parks the execution while it is pending. A pending request
// whose expiry passed is expired here too, so a late run does not wait.
func (a *dbApprovals) Request(ctx context.Context, req *catalog.ApprovalRequest, env *engine.CallEnv) (*catalog.ApprovalDecision, error) {
	s := a.s
	if env == nil || env.RootID == "" {
		return nil, &engine.Fault{Type: engine.ErrConfiguration, Status: 400, Title: "Approval not available",
			Detail: "approval.request runs only in an execution of a saved flow"}
	}
	execID, key := env.RootID, env.Key()
	r, err := s.st.FlowApprovalByStep(ctx, execID, key)
	if errors.Is(err, store.ErrNotFound) {
		r, err = a.create(ctx, req, env)
	}
	if err != nil {
		return nil, fmt.Errorf("read the approval request of execution %s: %w", execID, err)
	}
	now := s.now()
	if r.Status == ApprovalPending && !now.Before(r.ExpiresAt) {
		if _, err := s.st.DecideFlowApproval(ctx, r.ID, ApprovalExpired, "", "", r.ExpiresAt); err != nil {
			return nil, fmt.Errorf("expire approval request %s: %w", r.ID, err)
		}
		id := r.ID
		if r, err = s.st.FlowApproval(ctx, id); err != nil {
			return nil, fmt.Errorf("read approval request %s: %w", id, err)
		}
	}
	if r.Status == ApprovalPending {
		return nil, &engine.Park{Until: r.ExpiresAt, Reason: "approval request " + r.ID}
	}
	return &catalog.ApprovalDecision{Status: r.Status, DecidedBy: r.DecidedBy, DecidedAt: r.DecidedAt, Comment: r.Comment}, nil
}

func (a *dbApprovals) create(ctx context.Context, req *catalog.ApprovalRequest, env *engine.CallEnv) (*store.FlowApproval, error) {
	s := a.s
	now := s.now()
	approvers, err := json.Marshal(req.Approvers)
	if err != nil {
		return nil, err
	}
	// Approvers (issue responders among them) see the request, and it is
	// stored in clear: the secrets the flow uses are redacted from it, as
	// from its history.
	var red secretRedactor
	if j := journalOf(ctx); j != nil {
		red = j.red
	}
	message, _ := red.redact(req.Message).(string)
	details, err := json.Marshal(red.redact(req.Details))
	if err != nil {
		return nil, err
	}
	r := &store.FlowApproval{ID: id.NewAt("apr", now), ExecutionID: env.RootID, StepKey: env.Key(), Message: message,
		Approvers: string(approvers), Details: string(details), Status: ApprovalPending, RequestedAt: now,
		ExpiresAt: now.Add(req.ExpiresAfter)}
	if err := s.st.CreateFlowApproval(ctx, r); err != nil && !errors.Is(err, store.ErrConflict) {
		return nil, err
	}
	if err := env.Record(ctx, "approval", fmt.Sprintf("asked for approval (request %s): %s", r.ID, req.Message),
		map[string]any{"approvalId": r.ID, "approvers": req.Approvers, "expiresAt": r.ExpiresAt.Format(time.RFC3339)}); err != nil {
		return nil, err
	}
	return s.st.FlowApprovalByStep(ctx, env.RootID, env.Key())
}
