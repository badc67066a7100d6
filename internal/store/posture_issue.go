package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// PostureIssue is an issue row. DataJSON holds the issue event's eventData
// without the fields the row owns (id, status, link, detectedAt).
type PostureIssue struct {
	ID           string
	Fingerprint  string
	Title        string
	Category     string
	Severity     string
	SeverityRank int
	EntityType   string
	EntityKey    string
	EntityName   string
	EntityLogin  string
	Product      string
	Tenant       string
	SourceID     string
	Scope        string
	// DepsJSON is a JSON array of the scopes the finding depends on.
	DepsJSON        string
	Status          string
	Present         bool
	SnoozedUntil    time.Time
	DataJSON        string
	DataHash        string
	FirstDetectedAt time.Time
	DetectedAt      time.Time
	LastSeenAt      time.Time
	ResolvedAt      time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

const postureIssueCols = `id, fingerprint, title, category, severity, severity_rank, entity_type, entity_key, entity_name,
	entity_login, product, tenant, source_id, scope, deps, status, present, snoozed_until, data, data_hash,
	first_detected_at, detected_at, last_seen_at, resolved_at, created_at, updated_at`

func scanPostureIssue(scan func(...any) error) (*PostureIssue, error) {
	var i PostureIssue
	err := scan(&i.ID, &i.Fingerprint, &i.Title, &i.Category, &i.Severity, &i.SeverityRank, &i.EntityType, &i.EntityKey,
		&i.EntityName, &i.EntityLogin, &i.Product, &i.Tenant, &i.SourceID, &i.Scope, &i.DepsJSON, &i.Status, &i.Present,
		scanTime(&i.SnoozedUntil), &i.DataJSON, &i.DataHash, scanTime(&i.FirstDetectedAt), scanTime(&i.DetectedAt),
		scanTime(&i.LastSeenAt), scanTime(&i.ResolvedAt), scanTime(&i.CreatedAt), scanTime(&i.UpdatedAt))
	if err != nil {
		return nil, err
	}
	return &i, nil
}

// InsertPostureIssue inserts a new issue; a known fingerprint gives
// ErrConflict.
func (q *Queries) InsertPostureIssue(ctx context.Context, i *PostureIssue) error {
	_, err := q.c.exec(ctx, `INSERT INTO vigil_posture_issue (`+postureIssueCols+`) VALUES
		($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)`,
		i.ID, i.Fingerprint, i.Title, i.Category, i.Severity, i.SeverityRank, i.EntityType, i.EntityKey, i.EntityName,
		i.EntityLogin, i.Product, i.Tenant, i.SourceID, i.Scope, i.DepsJSON, i.Status, i.Present, i.SnoozedUntil,
		i.DataJSON, i.DataHash, i.FirstDetectedAt, i.DetectedAt, i.LastSeenAt, i.ResolvedAt, i.CreatedAt, i.UpdatedAt)
	return err
}

// UpdatePostureIssue writes every mutable column of i (all but id,
// fingerprint, title and the creation times).
func (q *Queries) UpdatePostureIssue(ctx context.Context, i *PostureIssue) error {
	res, err := q.c.exec(ctx, `UPDATE vigil_posture_issue SET category = $1, severity = $2, severity_rank = $3,
		entity_type = $4, entity_key = $5, entity_name = $6, entity_login = $7, product = $8, tenant = $9, source_id = $10,
		scope = $11, deps = $12, status = $13, present = $14, snoozed_until = $15, data = $16, data_hash = $17,
		detected_at = $18, last_seen_at = $19, resolved_at = $20, updated_at = $21 WHERE id = $22`,
		i.Category, i.Severity, i.SeverityRank, i.EntityType, i.EntityKey, i.EntityName, i.EntityLogin, i.Product, i.Tenant,
		i.SourceID, i.Scope, i.DepsJSON, i.Status, i.Present, i.SnoozedUntil, i.DataJSON, i.DataHash, i.DetectedAt,
		i.LastSeenAt, i.ResolvedAt, i.UpdatedAt, i.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// TouchPostureIssues sets last_seen_at on every present issue of a scope:
// one statement for the issues a scan found unchanged.
func (q *Queries) TouchPostureIssues(ctx context.Context, scope string, seen time.Time) error {
	_, err := q.c.exec(ctx, `UPDATE vigil_posture_issue SET last_seen_at = $1 WHERE scope = $2 AND present`, seen, scope)
	return err
}

// PostureIssue returns the issue with the given id, or ErrNotFound.
func (q *Queries) PostureIssue(ctx context.Context, id string) (*PostureIssue, error) {
	out, err := q.postureIssues(ctx, `WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, ErrNotFound
	}
	return out[0], nil
}

// PostureIssuesByID returns the issues with the given ids that exist, in
// no particular order.
func (q *Queries) PostureIssuesByID(ctx context.Context, ids []string) ([]*PostureIssue, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []*PostureIssue
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		args := make([]any, len(chunk))
		marks := make([]string, len(chunk))
		for i, id := range chunk {
			args[i] = id
			marks[i] = fmt.Sprintf("$%d", i+1)
		}
		part, err := q.postureIssues(ctx, `WHERE id IN (`+strings.Join(marks, ", ")+`)`, args...)
		if err != nil {
			return nil, err
		}
		out = append(out, part...)
	}
	return out, nil
}

// AllPostureIssues returns every issue, for a scan to reconcile against.
func (q *Queries) AllPostureIssues(ctx context.Context) ([]*PostureIssue, error) {
	return q.postureIssues(ctx, ``)
}

// PostureIssuesSnoozedUntil returns the snoozed issues whose snooze ended
// at or before t.
func (q *Queries) PostureIssuesSnoozedUntil(ctx context.Context, t time.Time) ([]*PostureIssue, error) {
	return q.postureIssues(ctx, `WHERE status = 'snoozed' AND snoozed_until <= $1`, t)
}

// PostureIssuesOfSource returns the issues raised from a configured source.
func (q *Queries) PostureIssuesOfSource(ctx context.Context, sourceID string) ([]*PostureIssue, error) {
	return q.postureIssues(ctx, `WHERE source_id = $1`, sourceID)
}

func (q *Queries) postureIssues(ctx context.Context, where string, args ...any) ([]*PostureIssue, error) {
	var out []*PostureIssue
	err := q.c.query(ctx, `SELECT `+postureIssueCols+` FROM vigil_posture_issue `+where, args, func(r *sql.Rows) error {
		i, err := scanPostureIssue(r.Scan)
		if err == nil {
			out = append(out, i)
		}
		return err
	})
	return out, err
}

// PostureIssueFilter selects issues. Empty fields match everything; list
// fields match any of their values.
type PostureIssueFilter struct {
	Statuses   []string
	Severities []string
	Categories []string
	Titles     []string
	Products   []string
	// SourceIDs match the configured source an issue came from.
	SourceIDs []string
	// Search matches, case-insensitively, part of the title, the entity's
	// name or login, or the tenant.
	Search string
	// Limit bounds the page; 0 means no limit. Offset skips rows.
	Limit  int
	Offset int
}

func (f *PostureIssueFilter) where() (string, []any) {
	var conds []string
	var args []any
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		marks := make([]string, len(vals))
		for i, v := range vals {
			args = append(args, v)
			marks[i] = fmt.Sprintf("$%d", len(args))
		}
		conds = append(conds, col+" IN ("+strings.Join(marks, ", ")+")")
	}
	in("status", f.Statuses)
	in("severity", f.Severities)
	in("category", f.Categories)
	in("title", f.Titles)
	in("product", f.Products)
	in("source_id", f.SourceIDs)
	if s := strings.TrimSpace(f.Search); s != "" {
		args = append(args, "%"+escapeLike(strings.ToLower(s))+"%")
		n := len(args)
		conds = append(conds, fmt.Sprintf(`(LOWER(title) LIKE $%[1]d ESCAPE '\' OR LOWER(entity_name) LIKE $%[1]d ESCAPE '\'
			OR LOWER(entity_login) LIKE $%[1]d ESCAPE '\' OR LOWER(tenant) LIKE $%[1]d ESCAPE '\')`, n))
	}
	if len(conds) == 0 {
		return "", args
	}
	return "WHERE " + strings.Join(conds, " AND "), args
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// FindPostureIssues returns one page of the issues f selects, most severe
// and most recently detected first, and how many f selects in all.
func (q *Queries) FindPostureIssues(ctx context.Context, f PostureIssueFilter) ([]*PostureIssue, int, error) {
	where, args := f.where()
	var total int
	if err := q.c.queryRow(ctx, `SELECT COUNT(*) FROM vigil_posture_issue `+where, args, &total); err != nil {
		return nil, 0, err
	}
	page := where + ` ORDER BY severity_rank DESC, detected_at DESC, id DESC`
	if f.Limit > 0 {
		page += fmt.Sprintf(" LIMIT %d OFFSET %d", f.Limit, max(f.Offset, 0))
	}
	out, err := q.postureIssues(ctx, page, args...)
	return out, total, err
}

// PostureIssueCount is a number of issues with one value of a column.
type PostureIssueCount struct {
	Value string
	Count int
}

// CountPostureIssues counts the issues f selects, grouped by one of the
// columns status, severity, category, title, product or source_id. Limit
// and Offset are ignored.
func (q *Queries) CountPostureIssues(ctx context.Context, f PostureIssueFilter, by string) ([]PostureIssueCount, error) {
	switch by {
	case "status", "severity", "category", "title", "product", "source_id":
	default:
		return nil, fmt.Errorf("store: cannot count issues by %q", by)
	}
	where, args := f.where()
	var out []PostureIssueCount
	err := q.c.query(ctx, `SELECT `+by+`, COUNT(*) FROM vigil_posture_issue `+where+` GROUP BY `+by+` ORDER BY `+by, args,
		func(r *sql.Rows) error {
			var c PostureIssueCount
			if err := r.Scan(&c.Value, &c.Count); err != nil {
				return err
			}
			out = append(out, c)
			return nil
		})
	return out, err
}

// PostureIssueChange is one transition of an issue.
type PostureIssueChange struct {
	ID      string
	IssueID string
	At      time.Time
	Actor   string
	Action  string
	From    string
	To      string
	Reason  string
	ScanID  string
}

// InsertPostureIssueChange records a transition.
func (q *Queries) InsertPostureIssueChange(ctx context.Context, c *PostureIssueChange) error {
	_, err := q.c.exec(ctx, `INSERT INTO vigil_posture_issue_history (id, issue_id, at, actor, action, from_status, to_status,
		reason, scan_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		c.ID, c.IssueID, c.At, c.Actor, c.Action, c.From, c.To, c.Reason, c.ScanID)
	return err
}

// PostureIssueHistory returns an issue's transitions, oldest first.
func (q *Queries) PostureIssueHistory(ctx context.Context, issueID string) ([]*PostureIssueChange, error) {
	var out []*PostureIssueChange
	err := q.c.query(ctx, `SELECT id, issue_id, at, actor, action, from_status, to_status, reason, scan_id
		FROM vigil_posture_issue_history WHERE issue_id = $1 ORDER BY at, id`, []any{issueID}, func(r *sql.Rows) error {
		var c PostureIssueChange
		if err := r.Scan(&c.ID, &c.IssueID, scanTime(&c.At), &c.Actor, &c.Action, &c.From, &c.To, &c.Reason, &c.ScanID); err != nil {
			return err
		}
		out = append(out, &c)
		return nil
	})
	return out, err
}

// PostureTrendPoint is the number of open issues of one severity at the
// end of one day (YYYY-MM-DD, UTC); an empty Severity holds the day's total.
type PostureTrendPoint struct {
	Day      string
	Severity string
	Open     int
}

// RecordPostureTrend stores today's open-issue counts per severity,
// replacing what an earlier change of the same day stored.
func (q *Queries) RecordPostureTrend(ctx context.Context, day string) error {
	if _, err := q.c.exec(ctx, `DELETE FROM vigil_posture_trend WHERE day = $1`, day); err != nil {
		return err
	}
	// The row with an empty severity holds the total, so that a day with no
	// open issue still has a row and is not mistaken for a day without data.
	if _, err := q.c.exec(ctx, `INSERT INTO vigil_posture_trend (day, severity, open_count)
		SELECT CAST($1 AS TEXT), '', COUNT(*) FROM vigil_posture_issue WHERE status = 'open'`, day); err != nil {
		return err
	}
	_, err := q.c.exec(ctx, `INSERT INTO vigil_posture_trend (day, severity, open_count)
		SELECT CAST($1 AS TEXT), severity, COUNT(*) FROM vigil_posture_issue WHERE status = 'open' GROUP BY severity`, day)
	return err
}

// PostureTrend returns the stored points of the days from since to until
// (inclusive, YYYY-MM-DD), and the last point before since for each
// severity, so a caller can carry values over days without a scan.
func (q *Queries) PostureTrend(ctx context.Context, since, until string) ([]PostureTrendPoint, error) {
	var out []PostureTrendPoint
	scan := func(r *sql.Rows) error {
		var p PostureTrendPoint
		if err := r.Scan(&p.Day, &p.Severity, &p.Open); err != nil {
			return err
		}
		out = append(out, p)
		return nil
	}
	// The latest day before the window, whole (all its severities).
	if err := q.c.query(ctx, `SELECT day, severity, open_count FROM vigil_posture_trend
		WHERE day = (SELECT MAX(day) FROM vigil_posture_trend WHERE day < $1)`, []any{since}, scan); err != nil {
		return nil, err
	}
	err := q.c.query(ctx, `SELECT day, severity, open_count FROM vigil_posture_trend WHERE day >= $1 AND day <= $2
		ORDER BY day, severity`, []any{since, until}, scan)
	return out, err
}
