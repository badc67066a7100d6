package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
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

// postureIssueColList is postureIssueCols on one line, for a list of names.
const postureIssueColList = `id, fingerprint, title, category, severity, severity_rank, entity_type, entity_key, entity_name, ` +
	`entity_login, product, tenant, source_id, scope, deps, status, present, snoozed_until, data, data_hash, ` +
	`first_detected_at, detected_at, last_seen_at, resolved_at, created_at, updated_at`

const postureIssueCols = postureIssueColList

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

// InsertPostureIssues inserts new issues many to a statement, as a scan
// that finds thousands at once does; a known fingerprint gives ErrConflict.
func (q *Queries) InsertPostureIssues(ctx context.Context, issues []*PostureIssue) error {
	return q.insertRows(ctx, "vigil_posture_issue", strings.Split(postureIssueColList, ", "), len(issues), func(k int) []any {
		i := issues[k]
		return []any{i.ID, i.Fingerprint, i.Title, i.Category, i.Severity, i.SeverityRank, i.EntityType, i.EntityKey, i.EntityName,
			i.EntityLogin, i.Product, i.Tenant, i.SourceID, i.Scope, i.DepsJSON, i.Status, i.Present, i.SnoozedUntil,
			i.DataJSON, i.DataHash, i.FirstDetectedAt, i.DetectedAt, i.LastSeenAt, i.ResolvedAt, i.CreatedAt, i.UpdatedAt}
	}, "")
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
	for start := 0; start < len(ids); start += maxInList {
		marks, args := q.inList(ids[start:min(start+maxInList, len(ids))], 1)
		part, err := q.postureIssues(ctx, `WHERE id IN (`+marks+`)`, args...)
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

// PostureIssueKey is an issue's place in the list order: most severe
// first, then most recently detected, then by id descending, so that no two
// issues tie and a key marks one place in the list.
type PostureIssueKey struct {
	SeverityRank int
	DetectedAt   time.Time
	ID           string
}

// Key returns the issue's place in the list order.
func (i *PostureIssue) Key() PostureIssueKey {
	return PostureIssueKey{SeverityRank: i.SeverityRank, DetectedAt: i.DetectedAt, ID: i.ID}
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
	// Limit bounds the page; 0 means no limit. Offset skips rows, and only
	// applies with a Limit.
	Limit  int
	Offset int
	// After starts the page just after this key in the list order; Before
	// ends it just before the key (the page is then the last Limit issues
	// before it, still in list order). Paging by key reads the list's index
	// from the key, so a page deep in the list costs what the first does.
	// Offset counts from the key. Totals ignore both.
	After  *PostureIssueKey
	Before *PostureIssueKey
	// Sort orders the page by another column than the list order: one of
	// the keys of PostureIssueSorts, ascending unless Desc, then by id.
	// A sorted page goes by Offset; After and Before are ignored.
	Sort string
	Desc bool
}

// PostureIssueSorts are the columns the issue list can be sorted by, under
// the names a request uses. Only these names reach ORDER BY.
var PostureIssueSorts = map[string]string{
	"severity": "severity_rank", "title": "title", "affected": "entity_name", "product": "product",
	"category": "category", "status": "status", "detected": "detected_at",
}

// sortOrder is the ORDER BY of a sorted page.
func (f *PostureIssueFilter) sortOrder() (string, error) {
	col, ok := PostureIssueSorts[f.Sort]
	if !ok {
		return "", fmt.Errorf("store: cannot sort issues by %q", f.Sort)
	}
	dir := " ASC"
	if f.Desc {
		dir = " DESC"
	}
	return col + dir + ", id" + dir, nil
}

func (f *PostureIssueFilter) conds() ([]string, []any) {
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
	return conds, args
}

func (f *PostureIssueFilter) where() (string, []any) {
	conds, args := f.conds()
	return whereOf(conds), args
}

func whereOf(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return "WHERE " + strings.Join(conds, " AND ")
}

// keyCond compares the list order's columns with a key: op "<" selects the
// issues listed after it, ">" those listed before it. Both databases read a
// row-value comparison as a range of the list's indexes.
func keyCond(op string, k *PostureIssueKey, args []any) (string, []any) {
	n := len(args)
	args = append(args, k.SeverityRank, k.DetectedAt, k.ID)
	return fmt.Sprintf("(severity_rank, detected_at, id) %s ($%d, $%d, $%d)", op, n+1, n+2, n+3), args
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// postureIssueOrder is the list order; the indexes of migration 0201 follow it.
const (
	postureIssueOrder        = `severity_rank DESC, detected_at DESC, id DESC`
	postureIssueReverseOrder = `severity_rank, detected_at, id`
)

// FindPostureIssues returns one page of the issues f selects, most severe
// and most recently detected first, and how many f selects in all (After
// and Before aside).
func (q *Queries) FindPostureIssues(ctx context.Context, f PostureIssueFilter) ([]*PostureIssue, int, error) {
	where, args := f.where()
	var total int
	if err := q.c.queryRow(ctx, `SELECT COUNT(*) FROM vigil_posture_issue `+where, args, &total); err != nil {
		return nil, 0, err
	}
	out, err := q.PostureIssuePage(ctx, f)
	return out, total, err
}

// PostureIssuePage returns one page of the issues f selects, in list order,
// without counting them. The page is chosen on the order's columns alone,
// through the list's indexes, and only its rows are read whole: no query
// sorts the issues' data.
func (q *Queries) PostureIssuePage(ctx context.Context, f PostureIssueFilter) ([]*PostureIssue, error) {
	conds, args := f.conds()
	order := postureIssueOrder
	if f.Sort != "" {
		var err error
		if order, err = f.sortOrder(); err != nil {
			return nil, err
		}
		f.After, f.Before = nil, nil
	}
	if f.After != nil {
		var c string
		c, args = keyCond("<", f.After, args)
		conds = append(conds, c)
	}
	if f.Before != nil {
		var c string
		c, args = keyCond(">", f.Before, args)
		conds = append(conds, c)
		order = postureIssueReverseOrder
	}
	var out []*PostureIssue
	var err error
	if f.Limit > 0 {
		ids := `SELECT id FROM vigil_posture_issue ` + whereOf(conds) + ` ORDER BY ` + order +
			fmt.Sprintf(" LIMIT %d OFFSET %d", f.Limit, max(f.Offset, 0))
		out, err = q.postureIssues(ctx, `WHERE id IN (`+ids+`) ORDER BY `+order, args...)
	} else {
		out, err = q.postureIssues(ctx, whereOf(conds)+` ORDER BY `+order, args...)
	}
	if f.Before != nil {
		slices.Reverse(out)
	}
	return out, err
}

// CountPostureIssuesBefore counts the issues f selects that list before
// key: the position of the issue at key in the list f selects. f's After,
// Before, Limit and Offset are ignored.
func (q *Queries) CountPostureIssuesBefore(ctx context.Context, f PostureIssueFilter, key PostureIssueKey) (int, error) {
	conds, args := f.conds()
	c, args := keyCond(">", &key, args)
	var n int
	err := q.c.queryRow(ctx, `SELECT COUNT(*) FROM vigil_posture_issue `+whereOf(append(conds, c)), args, &n)
	return n, err
}

// PostureIssueCount is a number of issues with one value of a column.
type PostureIssueCount struct {
	Value string
	Count int
}

// CountPostureIssues counts the issues f selects, grouped by one of the
// columns status, severity, category, title, product or source_id. Limit,
// Offset, After and Before are ignored.
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

// PostureIssueTally is the number of issues with one status, severity,
// category and title.
type PostureIssueTally struct {
	Status   string
	Severity string
	Category string
	Title    string
	Count    int
}

// TallyPostureIssues counts the issues f selects by status, severity,
// category and title at once: the dashboard's counts in one pass over the
// list's index, which holds those columns, instead of one pass over the
// issues per grouping. Limit, Offset, After and Before are ignored.
func (q *Queries) TallyPostureIssues(ctx context.Context, f PostureIssueFilter) ([]PostureIssueTally, error) {
	where, args := f.where()
	var out []PostureIssueTally
	err := q.c.query(ctx, `SELECT status, severity, category, title, COUNT(*) FROM vigil_posture_issue `+where+`
		GROUP BY status, severity, category, title`, args, func(r *sql.Rows) error {
		var t PostureIssueTally
		if err := r.Scan(&t.Status, &t.Severity, &t.Category, &t.Title, &t.Count); err != nil {
			return err
		}
		out = append(out, t)
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

// InsertPostureIssueChanges records transitions many to a statement.
func (q *Queries) InsertPostureIssueChanges(ctx context.Context, changes []*PostureIssueChange) error {
	cols := []string{"id", "issue_id", "at", "actor", "action", "from_status", "to_status", "reason", "scan_id"}
	return q.insertRows(ctx, "vigil_posture_issue_history", cols, len(changes), func(k int) []any {
		c := changes[k]
		return []any{c.ID, c.IssueID, c.At, c.Actor, c.Action, c.From, c.To, c.Reason, c.ScanID}
	}, "")
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
