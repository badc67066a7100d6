package store

import (
	"context"
	"database/sql"
	"time"
)

// PostureSource is a configured identity source. CredentialsSealed holds
// secret.Box output; this package never sees the plaintext.
type PostureSource struct {
	ID                string
	Name              string
	Kind              string
	SettingsJSON      string
	CredentialsSealed string
	Primary           bool
	// ScheduleSeconds is the interval between scheduled scans; 0 means
	// the source is scanned only on demand.
	ScheduleSeconds int64
	Enabled         bool
	LastScanID      string
	// LastScanAt is when the last scan that read this source finished,
	// successfully or not; zero before the first.
	LastScanAt    time.Time
	LastScanOK    bool
	LastError     string
	LastAccounts  int
	LastSuccessAt time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

const postureSourceCols = `id, name, kind, settings, credentials_sealed, is_primary, schedule_seconds, enabled,
	last_scan_id, last_scan_at, last_scan_ok, last_error, last_accounts, last_success_at, created_at, updated_at`

func scanPostureSource(scan func(...any) error) (*PostureSource, error) {
	var s PostureSource
	err := scan(&s.ID, &s.Name, &s.Kind, &s.SettingsJSON, &s.CredentialsSealed, &s.Primary, &s.ScheduleSeconds,
		&s.Enabled, &s.LastScanID, scanTime(&s.LastScanAt), &s.LastScanOK, &s.LastError, &s.LastAccounts,
		scanTime(&s.LastSuccessAt), scanTime(&s.CreatedAt), scanTime(&s.UpdatedAt))
	if err != nil {
		return nil, err
	}
	return &s, nil
}

func (q *Queries) postureSources(ctx context.Context, where string, args ...any) ([]*PostureSource, error) {
	var out []*PostureSource
	err := q.c.query(ctx, `SELECT `+postureSourceCols+` FROM vigil_posture_source `+where+` ORDER BY created_at, id`, args,
		func(r *sql.Rows) error {
			s, err := scanPostureSource(r.Scan)
			if err == nil {
				out = append(out, s)
			}
			return err
		})
	return out, err
}

// PostureSources lists every configured source in the order they were
// added, which is the order their accounts enter the identity graph.
func (q *Queries) PostureSources(ctx context.Context) ([]*PostureSource, error) {
	return q.postureSources(ctx, "")
}

// PostureSourceByName returns the source with the given name, or ErrNotFound.
func (q *Queries) PostureSourceByName(ctx context.Context, name string) (*PostureSource, error) {
	out, err := q.postureSources(ctx, `WHERE name = $1`, name)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, ErrNotFound
	}
	return out[0], nil
}

// CreatePostureSource inserts s; a taken name gives ErrConflict.
func (q *Queries) CreatePostureSource(ctx context.Context, s *PostureSource) error {
	_, err := q.c.exec(ctx, `INSERT INTO vigil_posture_source (id, name, kind, settings, credentials_sealed, is_primary,
		schedule_seconds, enabled, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		s.ID, s.Name, s.Kind, s.SettingsJSON, s.CredentialsSealed, s.Primary, s.ScheduleSeconds, s.Enabled,
		s.CreatedAt, s.UpdatedAt)
	return err
}

// DeletePostureSource removes the source and its stored accounts, or
// returns ErrNotFound.
func (q *Queries) DeletePostureSource(ctx context.Context, id string) error {
	// The data row is deleted explicitly: SQLite enforces ON DELETE CASCADE
	// only with foreign keys on, and this must not depend on it.
	if _, err := q.c.exec(ctx, `DELETE FROM vigil_posture_source_data WHERE source_id = $1`, id); err != nil {
		return err
	}
	res, err := q.c.exec(ctx, `DELETE FROM vigil_posture_source WHERE id = $1`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// SetPosturePrimary makes the source with the given id the only primary
// one; an empty id leaves no source primary.
func (q *Queries) SetPosturePrimary(ctx context.Context, id string, now time.Time) error {
	if _, err := q.c.exec(ctx, `UPDATE vigil_posture_source SET is_primary = FALSE, updated_at = $1 WHERE is_primary AND id <> $2`,
		now, id); err != nil {
		return err
	}
	if id == "" {
		return nil
	}
	res, err := q.c.exec(ctx, `UPDATE vigil_posture_source SET is_primary = TRUE, updated_at = $1 WHERE id = $2`, now, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// UpdatePostureSchedule sets how often the source is scanned (0: never on
// a schedule) and whether it is scanned at all.
func (q *Queries) UpdatePostureSchedule(ctx context.Context, id string, scheduleSeconds int64, enabled bool, now time.Time) error {
	res, err := q.c.exec(ctx, `UPDATE vigil_posture_source SET schedule_seconds = $1, enabled = $2, updated_at = $3 WHERE id = $4`,
		scheduleSeconds, enabled, now, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// PostureSourceResult is what one scan did with one source.
type PostureSourceResult struct {
	SourceID string
	ScanID   string
	At       time.Time
	OK       bool
	// Error is empty when OK.
	Error    string
	Accounts int
}

// RecordPostureSourceResult stores the outcome of the latest scan of a
// source. A failed scan keeps the account count and success time of the
// last successful one.
func (q *Queries) RecordPostureSourceResult(ctx context.Context, r PostureSourceResult) error {
	if r.OK {
		_, err := q.c.exec(ctx, `UPDATE vigil_posture_source SET last_scan_id = $1, last_scan_at = $2, last_scan_ok = TRUE,
			last_error = '', last_accounts = $3, last_success_at = $2 WHERE id = $4`, r.ScanID, r.At, r.Accounts, r.SourceID)
		return err
	}
	_, err := q.c.exec(ctx, `UPDATE vigil_posture_source SET last_scan_id = $1, last_scan_at = $2, last_scan_ok = FALSE,
		last_error = $3 WHERE id = $4`, r.ScanID, r.At, r.Error, r.SourceID)
	return err
}

// PutPostureSourceData replaces the stored accounts of a source with the
// result of a successful read.
func (q *Queries) PutPostureSourceData(ctx context.Context, sourceID string, parts []byte, accounts int, readAt time.Time) error {
	_, err := q.c.exec(ctx, `INSERT INTO vigil_posture_source_data (source_id, parts, accounts, read_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (source_id) DO UPDATE SET parts = excluded.parts, accounts = excluded.accounts, read_at = excluded.read_at`,
		sourceID, string(parts), accounts, readAt)
	return err
}

// PostureSourceData returns the stored accounts of a source and when they
// were read, or ErrNotFound when no read has succeeded yet.
func (q *Queries) PostureSourceData(ctx context.Context, sourceID string) ([]byte, time.Time, error) {
	var parts []byte
	var at time.Time
	err := q.c.queryRow(ctx, `SELECT parts, read_at FROM vigil_posture_source_data WHERE source_id = $1`,
		[]any{sourceID}, &parts, scanTime(&at))
	return parts, at, err
}

// ClaimDuePostureSources returns the sources whose schedule makes them due
// at now (never scanned, or last scanned at least their interval ago) and
// marks them as scanned at now, so that another node checking at the same
// time does not scan them too. Run it in a transaction after LockPosture.
func (q *Queries) ClaimDuePostureSources(ctx context.Context, now time.Time) ([]*PostureSource, error) {
	all, err := q.postureSources(ctx, `WHERE schedule_seconds > 0 AND enabled`)
	if err != nil {
		return nil, err
	}
	var due []*PostureSource
	for _, s := range all {
		if !s.LastScanAt.IsZero() && s.LastScanAt.Add(time.Duration(s.ScheduleSeconds)*time.Second).After(now) {
			continue
		}
		if _, err := q.c.exec(ctx, `UPDATE vigil_posture_source SET last_scan_at = $1 WHERE id = $2`, now, s.ID); err != nil {
			return nil, err
		}
		due = append(due, s)
	}
	return due, nil
}
