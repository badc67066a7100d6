package store

import (
	"context"
	"database/sql"
	"time"
)

// PostureScan is one run of the posture scan.
type PostureScan struct {
	ID string
	// Trigger says what started the scan: "cli", "schedule", "api".
	Trigger string
	// RequestedJSON is a JSON array of the source names asked for; empty
	// means every enabled source.
	RequestedJSON string
	// Status is "running", "ok", "partial" (some sources failed) or
	// "failed" (no source could be read, or the scan itself failed).
	Status     string
	Error      string
	ResultJSON string
	StartedAt  time.Time
	FinishedAt time.Time
}

const postureScanCols = `id, trigger_kind, requested, status, error, result, started_at, finished_at`

func scanPostureScan(scan func(...any) error) (*PostureScan, error) {
	var s PostureScan
	if err := scan(&s.ID, &s.Trigger, &s.RequestedJSON, &s.Status, &s.Error, &s.ResultJSON,
		scanTime(&s.StartedAt), scanTime(&s.FinishedAt)); err != nil {
		return nil, err
	}
	return &s, nil
}

// CreatePostureScan records the start of a scan.
func (q *Queries) CreatePostureScan(ctx context.Context, s *PostureScan) error {
	_, err := q.c.exec(ctx, `INSERT INTO vigil_posture_scan (id, trigger_kind, requested, status, error, result, started_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, s.ID, s.Trigger, s.RequestedJSON, s.Status, s.Error, s.ResultJSON, s.StartedAt)
	return err
}

// FinishPostureScan records the end of a running scan. A scan that has
// already ended is left as it is and ErrNotFound returned: recovery fails a
// scan whose lease lapsed and queues the work again, so a run that was only
// slow, not dead, must not turn that scan back to ok afterwards.
func (q *Queries) FinishPostureScan(ctx context.Context, id, status, errText, resultJSON string, at time.Time) error {
	res, err := q.c.exec(ctx, `UPDATE vigil_posture_scan SET status = $1, error = $2, result = $3, finished_at = $4
		WHERE id = $5 AND status = 'running'`,
		status, errText, resultJSON, at, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// PostureScan returns the scan with the given id, or ErrNotFound.
func (q *Queries) PostureScan(ctx context.Context, id string) (*PostureScan, error) {
	var out *PostureScan
	err := q.c.query(ctx, `SELECT `+postureScanCols+` FROM vigil_posture_scan WHERE id = $1`, []any{id}, func(r *sql.Rows) error {
		var err error
		out, err = scanPostureScan(r.Scan)
		return err
	})
	if err == nil && out == nil {
		err = ErrNotFound
	}
	return out, err
}

// PostureScans lists the latest scans, newest first.
func (q *Queries) PostureScans(ctx context.Context, limit int) ([]*PostureScan, error) {
	var out []*PostureScan
	err := q.c.query(ctx, `SELECT `+postureScanCols+` FROM vigil_posture_scan ORDER BY started_at DESC, id DESC LIMIT $1`,
		[]any{limit}, func(r *sql.Rows) error {
			s, err := scanPostureScan(r.Scan)
			if err == nil {
				out = append(out, s)
			}
			return err
		})
	return out, err
}

// postureLockKey is the PostgreSQL advisory lock that serializes changes to
// issues across nodes.
const postureLockKey = 7126354

// LockPosture serializes the transactions that change issues (scan
// reconciliation, status changes), so that two nodes never reconcile the
// same issues at once. On PostgreSQL it takes a transaction-scoped advisory
// lock; on SQLite the write transaction already holds the database lock.
// Call it first in the transaction.
func (q *Queries) LockPosture(ctx context.Context) error {
	if q.d != Postgres {
		return nil
	}
	_, err := q.c.exec(ctx, `SELECT pg_advisory_xact_lock($1)`, postureLockKey)
	return err
}
