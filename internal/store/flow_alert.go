package store

import (
	"context"
	"database/sql"
	"time"
)

// FlowAlert is a failure notification rule: where to say that an
// execution of a flow, or of any flow of a folder, faulted.
type FlowAlert struct {
	ID string
	// FolderID or FlowID is set, never both.
	FolderID string
	FlowID   string
	// Channel is "slack" or "webhook".
	Channel    string
	Connection string
	// Target is the Slack channel, or the path under the http
	// connection's base URL.
	Target    string
	CreatedBy string
	CreatedAt time.Time
	// LastAt, LastOK and LastMessage describe the last attempt to notify.
	LastAt      time.Time
	LastOK      bool
	LastMessage string
	// FolderName and FlowTitle are filled by FlowAlerts, for lists.
	FolderName string
	FlowTitle  string
}

const flowAlertCols = `a.id, a.folder_id, a.flow_id, a.channel, a.connection, a.target, a.created_by, a.created_at,
	a.last_at, a.last_ok, a.last_message, COALESCE(d.name, fd.name, ''), COALESCE(f.title, '')`

const flowAlertFrom = ` FROM vigil_flow_alert a
	LEFT JOIN vigil_flow f ON f.id = a.flow_id
	LEFT JOIN vigil_flow_folder fd ON fd.id = f.folder_id
	LEFT JOIN vigil_flow_folder d ON d.id = a.folder_id`

func scanFlowAlert(scan func(...any) error) (*FlowAlert, error) {
	var a FlowAlert
	var folderID, flowID sql.NullString
	err := scan(&a.ID, &folderID, &flowID, &a.Channel, &a.Connection, &a.Target, &a.CreatedBy, scanTime(&a.CreatedAt),
		scanTime(&a.LastAt), &a.LastOK, &a.LastMessage, &a.FolderName, &a.FlowTitle)
	if err != nil {
		return nil, err
	}
	a.FolderID, a.FlowID = folderID.String, flowID.String
	return &a, nil
}

// CreateFlowAlert inserts a.
func (q *Queries) CreateFlowAlert(ctx context.Context, a *FlowAlert) error {
	_, err := q.c.exec(ctx, `INSERT INTO vigil_flow_alert (id, folder_id, flow_id, channel, connection, target, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		a.ID, nullString(a.FolderID), nullString(a.FlowID), a.Channel, a.Connection, a.Target, a.CreatedBy, a.CreatedAt)
	return err
}

// FlowAlert returns the rule with this id, or ErrNotFound.
func (q *Queries) FlowAlert(ctx context.Context, id string) (*FlowAlert, error) {
	as, err := q.flowAlertsWhere(ctx, `a.id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, ErrNotFound
	}
	return as[0], nil
}

// FlowAlerts lists every rule, folder rules first, oldest first.
func (q *Queries) FlowAlerts(ctx context.Context) ([]*FlowAlert, error) {
	return q.flowAlertsWhere(ctx, `1 = 1`)
}

// FlowAlertsFor lists the rules that cover a flow: its own and its
// folder's.
func (q *Queries) FlowAlertsFor(ctx context.Context, flowID string) ([]*FlowAlert, error) {
	return q.flowAlertsWhere(ctx, `a.flow_id = $1 OR a.folder_id = (SELECT folder_id FROM vigil_flow WHERE id = $1)`, flowID)
}

func (q *Queries) flowAlertsWhere(ctx context.Context, where string, args ...any) ([]*FlowAlert, error) {
	var out []*FlowAlert
	err := q.c.query(ctx, `SELECT `+flowAlertCols+flowAlertFrom+` WHERE `+where+` ORDER BY a.folder_id IS NULL, a.id`, args,
		func(r *sql.Rows) error {
			a, err := scanFlowAlert(r.Scan)
			if err != nil {
				return err
			}
			out = append(out, a)
			return nil
		})
	return out, err
}

// RecordFlowAlert keeps the outcome of the last attempt to notify.
func (q *Queries) RecordFlowAlert(ctx context.Context, id string, at time.Time, ok bool, message string) error {
	_, err := q.c.exec(ctx, `UPDATE vigil_flow_alert SET last_at = $2, last_ok = $3, last_message = $4 WHERE id = $1`,
		id, at, ok, message)
	return err
}

// DeleteFlowAlert deletes a rule; ErrNotFound if there is none.
func (q *Queries) DeleteFlowAlert(ctx context.Context, id string) error {
	res, err := q.c.exec(ctx, `DELETE FROM vigil_flow_alert WHERE id = $1`, id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return ErrNotFound
	}
	return nil
}
