package store

import (
	"context"
	"time"
)

// IssueRun records that a flow was run by hand on an issue.
type IssueRun struct {
	ExecutionID string
	IssueID     string
	FlowID      string
	CreatedAt   time.Time
}

// AddIssueRun records r. It is written before the execution starts, so a
// run that fails to start leaves a row that IssueRunExecutions never shows.
func (q *Queries) AddIssueRun(ctx context.Context, r *IssueRun) error {
	_, err := q.c.exec(ctx, `INSERT INTO vigil_issue_run (execution_id, issue_id, flow_id, created_at) VALUES ($1, $2, $3, $4)`,
		r.ExecutionID, r.IssueID, r.FlowID, r.CreatedAt)
	return err
}

// IssueRunExecutions returns the executions run by hand on an issue that
// history still holds, newest first, at most limit (50 when zero).
func (q *Queries) IssueRunExecutions(ctx context.Context, issueID string, limit int) ([]*FlowExecution, error) {
	if limit <= 0 {
		limit = 50
	}
	return q.flowExecutionsWhere(ctx, `e.id IN (SELECT execution_id FROM vigil_issue_run WHERE issue_id = $1)`,
		" ORDER BY e.id DESC", limit, issueID)
}
