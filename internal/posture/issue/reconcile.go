package issue

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/posture/detect"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Scan is what a completed scan hands to Reconcile.
type Scan struct {
	// ID is the scan's id, kept in the history of the issues it changes.
	ID string
	// At is when the scan's data was read; default now.
	At time.Time
	// Scopes maps each scope this scan read successfully to the id of its
	// configured source. Only issues of these scopes are created, updated
	// or resolved; findings of other scopes (built from stored data of
	// sources not read now) are ignored.
	Scopes map[string]string
	// Unavailable are the scopes whose read failed in this scan or that
	// have no data at all. An issue that depends on one of them is never
	// resolved by this scan, because its absence may be the failure's doing.
	Unavailable map[string]bool
	// Findings are the detections of the scan, over the whole graph.
	Findings []detect.Finding
}

// TitleCounts says what a scan did to the issues of one title.
type TitleCounts struct {
	// Opened are new issues.
	Opened int `json:"opened"`
	// Reopened were resolved and found again.
	Reopened int `json:"reopened"`
	// Resolved were no longer found.
	Resolved int `json:"resolved"`
	// Unchanged were found again and keep their status (open, snoozed,
	// acknowledged or false positive).
	Unchanged int `json:"unchanged"`
	// Kept were no longer found but depend on a source that could not be
	// read, so they were left as they were.
	Kept int `json:"kept"`
}

func (c *TitleCounts) add(o TitleCounts) {
	c.Opened += o.Opened
	c.Reopened += o.Reopened
	c.Resolved += o.Resolved
	c.Unchanged += o.Unchanged
	c.Kept += o.Kept
}

// Summary is what Reconcile did, in all and per title.
type Summary struct {
	TitleCounts
	Titles map[string]*TitleCounts `json:"titles"`
}

func (s *Summary) count(title string, c TitleCounts) {
	if s.Titles == nil {
		s.Titles = map[string]*TitleCounts{}
	}
	t := s.Titles[title]
	if t == nil {
		t = &TitleCounts{}
		s.Titles[title] = t
	}
	t.add(c)
	s.add(c)
}

// Reconcile brings the issues of the scan's scopes in line with its
// findings, in tx: new findings open issues, resolved issues found again
// reopen with the same id, issues no longer found are resolved (unless a
// source they depend on is unavailable), and each transition is recorded
// and sent to the outbox. The caller commits tx, so the scan's data, issue
// changes and events become visible together.
func (s *Service) Reconcile(ctx context.Context, tx *store.Tx, scan Scan) (Summary, error) {
	var sum Summary
	at := scan.At
	if at.IsZero() {
		at = s.now()
	}
	at = at.UTC().Truncate(time.Microsecond)
	// The public URL is read once, for every event's link: read for each
	// event, it was read again whenever its cached value aged, each time
	// outside tx and so on another connection, which on SQLite can wait
	// for the writers tx holds back.
	base := s.publicURL(ctx)
	if err := tx.LockPosture(ctx); err != nil {
		return sum, fmt.Errorf("lock issues: %w", err)
	}
	rows, err := tx.AllPostureIssues(ctx)
	if err != nil {
		return sum, fmt.Errorf("load issues: %w", err)
	}
	byFP := make(map[string]*store.PostureIssue, len(rows))
	for _, r := range rows {
		byFP[r.Fingerprint] = r
	}
	note := Note{By: ByScan}
	w := &writes{}
	found := make(map[string]bool, len(scan.Findings))
	for i := range scan.Findings {
		f := &scan.Findings[i]
		sourceID, ok := scan.Scopes[f.Source]
		if !ok || found[f.Fingerprint] {
			continue
		}
		found[f.Fingerprint] = true
		c, err := s.upsert(ctx, tx, w, byFP[f.Fingerprint], f, sourceID, note, at)
		if err != nil {
			return sum, err
		}
		sum.count(f.Title, c)
	}
	for _, r := range rows {
		if _, ours := scan.Scopes[r.Scope]; !ours || found[r.Fingerprint] {
			continue
		}
		c, err := s.missing(ctx, tx, w, r, scan, note, at)
		if err != nil {
			return sum, err
		}
		sum.count(r.Title, c)
	}
	if err := s.flush(ctx, tx, w, scan.ID, base, at); err != nil {
		return sum, err
	}
	for scope := range scan.Scopes {
		if err := tx.TouchPostureIssues(ctx, scope, at); err != nil {
			return sum, fmt.Errorf("mark issues of %s as seen: %w", scope, err)
		}
	}
	if err := s.recordTrend(ctx, tx, at); err != nil {
		return sum, err
	}
	return sum, nil
}

// writes are what a reconciliation writes many rows at a time, after it
// has gone through every finding: the issues it creates, then the history
// of every transition and its event, in the order the transitions were
// made. A scan that opens thousands of issues wrote them one statement
// each, and on SQLite most of that time went to preparing statements.
type writes struct {
	created []*store.PostureIssue
	changes []transition
}

// transition is a change of an issue's status that a scan made.
type transition struct {
	r      *store.PostureIssue
	action string
	from   Status
	note   Note
}

func (w *writes) record(r *store.PostureIssue, action string, from Status, note Note) {
	w.changes = append(w.changes, transition{r: r, action: action, from: from, note: note})
}

// flush writes w in tx: the new issues, the history and, one by one, the
// events (linked under the public URL base), as record would have for each
// transition in turn.
func (s *Service) flush(ctx context.Context, tx *store.Tx, w *writes, scanID, base string, at time.Time) error {
	if err := tx.InsertPostureIssues(ctx, w.created); err != nil {
		return fmt.Errorf("create %d issues: %w", len(w.created), err)
	}
	history := make([]*store.PostureIssueChange, len(w.changes))
	for i, c := range w.changes {
		history[i] = &store.PostureIssueChange{ID: s.changeID(at), IssueID: c.r.ID, At: at, Actor: c.note.By, Action: c.action,
			From: string(c.from), To: c.r.Status, Reason: c.note.Why, ScanID: scanID}
	}
	if err := tx.InsertPostureIssueChanges(ctx, history); err != nil {
		return fmt.Errorf("record the history of %d issues: %w", len(history), err)
	}
	for _, c := range w.changes {
		d, err := dataUnder(base, c.r)
		if err != nil {
			return err
		}
		if err := s.publish(ctx, tx, eventType(c.action, Status(c.r.Status)), d, at); err != nil {
			return err
		}
	}
	return nil
}

// upsert creates the issue of a finding, or refreshes the existing one
// and reopens it if it was resolved.
func (s *Service) upsert(ctx context.Context, tx *store.Tx, w *writes, r *store.PostureIssue, f *detect.Finding, sourceID string, note Note, at time.Time) (TitleCounts, error) {
	d := eventData(f)
	data, hash, err := encodeData(&d)
	if err != nil {
		return TitleCounts{}, err
	}
	depsJSON, err := json.Marshal(deps(f))
	if err != nil {
		return TitleCounts{}, fmt.Errorf("encode issue sources: %w", err)
	}
	e := &f.Entity
	if r == nil {
		r = &store.PostureIssue{
			ID: id.NewAt("iss", at), Fingerprint: f.Fingerprint, Title: f.Title,
			Status: string(StatusOpen), Present: true, FirstDetectedAt: at, DetectedAt: at, CreatedAt: at,
		}
		fill(r, f, e, sourceID, string(depsJSON), data, hash, at)
		w.created = append(w.created, r)
		w.record(r, ActionCreated, "", note)
		return TitleCounts{Opened: 1}, nil
	}
	changed := r.DataHash != hash || !r.Present || r.Scope != f.Source || r.SourceID != sourceID || r.DepsJSON != string(depsJSON)
	fill(r, f, e, sourceID, string(depsJSON), data, hash, at)
	r.Present = true
	if Status(r.Status) != StatusResolved {
		if !changed {
			return TitleCounts{Unchanged: 1}, nil // last_seen_at is set for all at once
		}
		if err := tx.UpdatePostureIssue(ctx, r); err != nil {
			return TitleCounts{}, fmt.Errorf("update issue %s: %w", r.ID, err)
		}
		return TitleCounts{Unchanged: 1}, nil
	}
	r.Status = string(StatusOpen)
	r.DetectedAt = at
	r.ResolvedAt = time.Time{}
	if err := tx.UpdatePostureIssue(ctx, r); err != nil {
		return TitleCounts{}, fmt.Errorf("reopen issue %s: %w", r.ID, err)
	}
	w.record(r, ActionReopened, StatusResolved, Note{By: note.By, Why: "found again by a scan"})
	return TitleCounts{Reopened: 1}, nil
}

// fill copies a finding's details into a row.
func fill(r *store.PostureIssue, f *detect.Finding, e *detect.Entity, sourceID, depsJSON, data, hash string, at time.Time) {
	r.Category = string(f.Category)
	r.Severity = string(f.Severity)
	r.SeverityRank = severityRank(string(f.Severity))
	r.EntityType = string(e.Type)
	r.EntityKey = e.Key
	r.EntityName = e.DisplayName
	r.EntityLogin = e.IdentifierInService
	r.Product = string(e.SourceProductName)
	r.Tenant = e.SourceProductTenant
	r.SourceID = sourceID
	r.Scope = f.Source
	r.DepsJSON = depsJSON
	r.DataJSON = data
	r.DataHash = hash
	r.LastSeenAt = at
	r.UpdatedAt = at
}

func deps(f *detect.Finding) []string {
	if len(f.Sources) == 0 {
		return []string{f.Source}
	}
	return f.Sources
}

// missing handles an issue of a scanned scope that the scan did not find.
func (s *Service) missing(ctx context.Context, tx *store.Tx, w *writes, r *store.PostureIssue, scan Scan, note Note, at time.Time) (TitleCounts, error) {
	from := Status(r.Status)
	if !r.Present && (from == StatusResolved || from == StatusFalsePositive) {
		return TitleCounts{}, nil
	}
	var ds []string
	if err := json.Unmarshal([]byte(r.DepsJSON), &ds); err != nil {
		return TitleCounts{}, fmt.Errorf("issue %s: decode its sources: %w", r.ID, err)
	}
	if slices.ContainsFunc(append(ds, r.Scope), func(d string) bool { return scan.Unavailable[d] }) {
		return TitleCounts{Kept: 1}, nil
	}
	r.Present = false
	r.UpdatedAt = at
	if from == StatusResolved || from == StatusFalsePositive {
		if err := tx.UpdatePostureIssue(ctx, r); err != nil {
			return TitleCounts{}, fmt.Errorf("update issue %s: %w", r.ID, err)
		}
		return TitleCounts{}, nil
	}
	r.Status = string(StatusResolved)
	r.ResolvedAt = at
	r.SnoozedUntil = time.Time{}
	if err := tx.UpdatePostureIssue(ctx, r); err != nil {
		return TitleCounts{}, fmt.Errorf("resolve issue %s: %w", r.ID, err)
	}
	w.record(r, ActionResolved, from, Note{By: note.By, Why: "no longer found by a scan"})
	return TitleCounts{Resolved: 1}, nil
}
