package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"
)

// Approval statuses. Only a pending request may be decided.
const (
	ApprovalPending  = "pending"
	ApprovalApproved = "approved"
	ApprovalDenied   = "denied"
	ApprovalExpired  = "expired"
	// ApprovalCancelled marks the pending request of an execution that
	// was cancelled: there is nothing left to decide.
	ApprovalCancelled = "cancelled"
)

// FlowApproval is a flow's request for a person's decision.
type FlowApproval struct {
	ID          string
	ExecutionID string
	// StepKey is the journal key of the task that asked.
	StepKey string
	Message string
	// Approvers is JSON: ["role:super_admin", "user:ali"].
	Approvers string
	// Details is JSON of what the approver is shown.
	Details     string
	Status      string
	RequestedAt time.Time
	ExpiresAt   time.Time
	DecidedBy   string
	DecidedAt   time.Time
	Comment     string
	// FlowID, FlowTitle, FolderID and ExecutionStatus are filled by
	// reads, which join the execution and its flow.
	FlowID          string
	FlowTitle       string
	FolderID        string
	ExecutionStatus string
}

const flowApprovalCols = `a.id, a.execution_id, a.step_key, a.message, a.approvers, a.details, a.status, a.requested_at,
	a.expires_at, a.decided_by, a.decided_at, a.comment, e.flow_id, f.title, f.folder_id, e.status`

const flowApprovalFrom = ` FROM vigil_flow_approval a JOIN vigil_flow_execution e ON e.id = a.execution_id
	JOIN vigil_flow f ON f.id = e.flow_id`

// CreateFlowApproval inserts a; ErrConflict when the execution already has
// a request at that step.
func (q *Queries) CreateFlowApproval(ctx context.Context, a *FlowApproval) error {
	_, err := q.c.exec(ctx, `INSERT INTO vigil_flow_approval (id, execution_id, step_key, message, approvers, details, status,
		requested_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		a.ID, a.ExecutionID, a.StepKey, a.Message, a.Approvers, a.Details, a.Status, a.RequestedAt, a.ExpiresAt)
	return err
}

// FlowApproval returns the request with this id, or ErrNotFound.
func (q *Queries) FlowApproval(ctx context.Context, id string) (*FlowApproval, error) {
	as, err := q.flowApprovalsWhere(ctx, `a.id = $1`, "", 1, id)
	return flowOne(as, err)
}

// FlowApprovalByStep returns the request an execution made at a step, or
// ErrNotFound.
func (q *Queries) FlowApprovalByStep(ctx context.Context, executionID, stepKey string) (*FlowApproval, error) {
	as, err := q.flowApprovalsWhere(ctx, `a.execution_id = $1 AND a.step_key = $2`, "", 1, executionID, stepKey)
	return flowOne(as, err)
}

// FlowApprovalFilter selects requests to list. Zero fields select all.
type FlowApprovalFilter struct {
	// Status selects one status; "" selects all.
	Status      string
	ExecutionID string
	// Limit defaults to 100.
	Limit int
}

// FlowApprovals lists requests, oldest first when listing pending ones
// (the next to expire on top), newest first otherwise.
func (q *Queries) FlowApprovals(ctx context.Context, f FlowApprovalFilter) ([]*FlowApproval, error) {
	cond, args := "1 = 1", []any{}
	if f.Status != "" {
		args = append(args, f.Status)
		cond += " AND a.status = $" + strconv.Itoa(len(args))
	}
	if f.ExecutionID != "" {
		args = append(args, f.ExecutionID)
		cond += " AND a.execution_id = $" + strconv.Itoa(len(args))
	}
	order := " ORDER BY a.requested_at DESC, a.id DESC"
	if f.Status == ApprovalPending {
		order = " ORDER BY a.requested_at, a.id"
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	return q.flowApprovalsWhere(ctx, cond, order, limit, args...)
}

// CountPendingFlowApprovals counts the requests waiting for a decision.
func (q *Queries) CountPendingFlowApprovals(ctx context.Context) (int, error) {
	var n int
	err := q.c.queryRow(ctx, `SELECT COUNT(*) FROM vigil_flow_approval WHERE status = 'pending'`, nil, &n)
	return n, err
}

// ExpiredFlowApprovals lists pending requests whose expiry is before now.
func (q *Queries) ExpiredFlowApprovals(ctx context.Context, now time.Time, limit int) ([]*FlowApproval, error) {
	return q.flowApprovalsWhere(ctx, `a.status = 'pending' AND a.expires_at <= $1`, " ORDER BY a.expires_at", limit, now)
}

// DecideFlowApproval records the decision on a pending request. It
// reports false when the request was not pending any more. Run it in the
// transaction that then wakes the execution (WakeFlowExecution).
//
// On PostgreSQL it first locks the request's execution row, so that the
// decision and the worker's park (ParkFlowExecution, then a read of the
// requests still pending) never cross: a decision whose wake found the
// execution still running, committed after the park's read, left it
// waiting for ever. With the lock the park waits for the decision's
// commit and then sees it decided, or the wake waits for the park's and
// finds it waiting. SQLite runs write transactions one at a time.
func (q *Queries) DecideFlowApproval(ctx context.Context, id, status, decidedBy, comment string, at time.Time) (bool, error) {
	if q.d == Postgres {
		if _, err := q.c.exec(ctx, `SELECT 1 FROM vigil_flow_execution
			WHERE id = (SELECT execution_id FROM vigil_flow_approval WHERE id = $1) FOR UPDATE`, id); err != nil {
			return false, err
		}
	}
	res, err := q.c.exec(ctx, `UPDATE vigil_flow_approval SET status = $2, decided_by = $3, comment = $4, decided_at = $5
		WHERE id = $1 AND status = 'pending'`, id, status, decidedBy, comment, at)
	return flowChanged(res, err)
}

// CancelFlowApprovals closes the pending requests of an execution that
// was cancelled.
func (q *Queries) CancelFlowApprovals(ctx context.Context, executionID string, now time.Time) error {
	_, err := q.c.exec(ctx, `UPDATE vigil_flow_approval SET status = 'cancelled', decided_at = $2
		WHERE execution_id = $1 AND status = 'pending'`, executionID, now)
	return err
}

func (q *Queries) flowApprovalsWhere(ctx context.Context, where, order string, limit int, args ...any) ([]*FlowApproval, error) {
	var out []*FlowApproval
	err := q.c.query(ctx, `SELECT `+flowApprovalCols+flowApprovalFrom+` WHERE `+where+order+` LIMIT `+strconv.Itoa(limit), args,
		func(r *sql.Rows) error {
			var a FlowApproval
			if err := r.Scan(&a.ID, &a.ExecutionID, &a.StepKey, &a.Message, &a.Approvers, &a.Details, &a.Status,
				scanTime(&a.RequestedAt), scanTime(&a.ExpiresAt), &a.DecidedBy, scanTime(&a.DecidedAt), &a.Comment,
				&a.FlowID, &a.FlowTitle, &a.FolderID, &a.ExecutionStatus); err != nil {
				return err
			}
			out = append(out, &a)
			return nil
		})
	return out, err
}

// ParkFlowExecution puts a running execution of the given generation
// aside while it waits (status waiting, no lease, no job): a decision or
// maintenance wakes it. It reports false when the execution had ended or
// moved on.
func (q *Queries) ParkFlowExecution(ctx context.Context, id string, generation, steps int, now time.Time) (bool, error) {
	res, err := q.c.exec(ctx, `UPDATE vigil_flow_execution SET status = 'waiting', lease_until = NULL, steps = $3, updated_at = $4
		WHERE id = $1 AND generation = $2 AND status = 'running'`, id, generation, steps, now)
	return flowChanged(res, err)
}

// WakeFlowExecution makes a waiting execution pending in a new generation
// and returns that generation (0 when it was not waiting). The caller
// queues its job in the same transaction.
func (q *Queries) WakeFlowExecution(ctx context.Context, id string, now time.Time) (int, error) {
	var gen int
	err := q.c.queryRow(ctx, `UPDATE vigil_flow_execution SET status = 'pending', generation = generation + 1, updated_at = $2
		WHERE id = $1 AND status = 'waiting' RETURNING generation`, []any{id, now}, &gen)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	return gen, err
}
