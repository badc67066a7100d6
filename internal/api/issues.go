package api

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/httpjson"
	"github.com/vigil-ispm/vigil/internal/posture/detect"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
)

// maxNote bounds the note a user leaves with a change of status.
const maxNote = 2000

// Issue is an issue as the API shows it: the eventData fields of its
// webhook events (docs in DESIGN §3) and its lifecycle.
type Issue struct {
	event.Issue
	// Present tells whether the last completed scan of its source found it.
	Present         bool       `json:"present"`
	SnoozedUntil    *time.Time `json:"snoozedUntil,omitempty"`
	Scope           string     `json:"scope"`
	FirstDetectedAt time.Time  `json:"firstDetectedAt"`
	LastSeenAt      time.Time  `json:"lastSeenAt"`
	ResolvedAt      *time.Time `json:"resolvedAt,omitempty"`
	UpdatedAt       time.Time  `json:"updatedAt"`
	// History is set by GET /api/v1/issues/{id} only, oldest first.
	History []Change `json:"history,omitempty"`
}

// Change is one transition in an issue's history.
type Change struct {
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	Action string    `json:"action"`
	From   string    `json:"from,omitempty"`
	To     string    `json:"to"`
	Reason string    `json:"reason,omitempty"`
	ScanID string    `json:"scanId,omitempty"`
}

// IssuePage is one page of GET /api/v1/issues.
type IssuePage struct {
	Issues []*Issue `json:"issues"`
	// Total is the number of issues the filter selects, on every page.
	Total int `json:"total"`
	// Offset is how many selected issues come before this page.
	Offset int `json:"offset"`
	// Next is the cursor of the next page (?cursor=), empty on the last;
	// Prev the cursor of the page before (?before=), empty on the first.
	Next string `json:"next,omitempty"`
	Prev string `json:"prev,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func issueOf(i *issue.Issue) *Issue {
	out := &Issue{Issue: i.Data, Present: i.Present, SnoozedUntil: timePtr(i.SnoozedUntil), Scope: i.Scope,
		FirstDetectedAt: i.FirstDetectedAt, LastSeenAt: i.LastSeenAt, ResolvedAt: timePtr(i.ResolvedAt), UpdatedAt: i.UpdatedAt}
	out.History = HistoryOf(i.History)
	return out
}

// HistoryOf is an issue's history as the API and the CLI's --json show it.
func HistoryOf(h []issue.Change) []Change {
	var out []Change
	for _, c := range h {
		out = append(out, Change{At: c.At, By: c.By, Action: c.Action, From: string(c.From), To: string(c.To),
			Reason: c.Reason, ScanID: c.ScanID})
	}
	return out
}

var severities = []string{string(detect.SeverityCritical), string(detect.SeverityHigh), string(detect.SeverityMedium), string(detect.SeverityLow)}

var categories = []string{string(detect.CategoryMFA), string(detect.CategoryLeastPrivilege),
	string(detect.CategoryCredentialHygiene), string(detect.CategoryAccountLifecycle)}

// issueFilter reads the query of GET /api/v1/issues. Parameters that
// take several values are repeated (?status=open&status=snoozed).
func issueFilter(r *http.Request) (issue.Filter, error) {
	q := r.URL.Query()
	f := issue.Filter{Titles: q["title"], Products: q["product"], Sources: q["source"],
		Search: strings.TrimSpace(q.Get("q")), After: q.Get("cursor"), Before: q.Get("before")}
	for _, v := range q["status"] {
		s, err := issue.ParseStatus(v)
		if err != nil {
			return f, invalid("status", "The status %q is not one of open, resolved, snoozed, acknowledged or false_positive.", v)
		}
		f.Statuses = append(f.Statuses, s)
	}
	for _, v := range q["severity"] {
		i := slices.IndexFunc(severities, func(s string) bool { return strings.EqualFold(s, v) })
		if i < 0 {
			return f, invalid("severity", "The severity %q is not one of Critical, High, Medium or Low.", v)
		}
		f.Severities = append(f.Severities, severities[i])
	}
	for _, v := range q["category"] {
		i := slices.IndexFunc(categories, func(s string) bool { return strings.EqualFold(s, v) })
		if i < 0 {
			return f, invalid("category", "The category %q is not one of MFA, Least Privilege, Credential Hygiene or Account Lifecycle.", v)
		}
		f.Categories = append(f.Categories, categories[i])
	}
	if f.After != "" && f.Before != "" {
		return f, invalid("cursor", "Give cursor or before, not both.")
	}
	n, err := limit(r, 50, 500)
	if err != nil {
		return f, err
	}
	f.Limit = n
	return f, nil
}

// listIssues serves GET /api/v1/issues: most severe and most recently
// detected first, paged by cursor.
func (a *API) listIssues(w http.ResponseWriter, r *http.Request) error {
	f, err := issueFilter(r)
	if err != nil {
		return err
	}
	page, err := a.svc.Issues.List(r.Context(), f)
	if errors.Is(err, issue.ErrBadCursor) {
		field := "cursor"
		if f.Before != "" {
			field = "before"
		}
		return invalid(field, "The page cursor is not one this list gave; start again from the first page.")
	}
	if err != nil {
		return err
	}
	out := IssuePage{Issues: make([]*Issue, 0, len(page.Issues)), Total: page.Total, Offset: page.Offset, Next: page.Next, Prev: page.Prev}
	for _, i := range page.Issues {
		out.Issues = append(out.Issues, issueOf(i))
	}
	httpjson.Write(w, http.StatusOK, out)
	return nil
}

// getIssue serves GET /api/v1/issues/{id}: the issue with its history.
func (a *API) getIssue(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	i, err := a.svc.Issues.Get(r.Context(), id)
	if errors.Is(err, issue.ErrNotFound) {
		return notFound("No issue has the id %s.", id)
	}
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, issueOf(i))
	return nil
}

// issueChange is the body of the issue actions.
type issueChange struct {
	// Note says why; it is kept in the issue's history.
	Note string `json:"note"`
	// Until is when a snooze ends (snooze only).
	Until *time.Time `json:"until,omitempty"`
}

func readIssueChange(w http.ResponseWriter, r *http.Request, snooze bool) (issueChange, error) {
	var in issueChange
	if err := decode(w, r, &in); err != nil {
		return in, err
	}
	if utf8.RuneCountInString(in.Note) > maxNote {
		return in, invalid("note", "The note is longer than %d characters.", maxNote)
	}
	if !snooze && in.Until != nil {
		return in, invalid("until", "Only a snooze takes an end date.")
	}
	return in, nil
}

// changeIssue runs one action on the issue named in the path and answers
// the issue as it now stands.
func (a *API) changeIssue(w http.ResponseWriter, r *http.Request, in issueChange,
	act func(id string, note issue.Note) error) error {
	id := r.PathValue("id")
	err := act(id, issue.Note{By: userName(r), Why: strings.TrimSpace(in.Note)})
	if errors.Is(err, issue.ErrNotFound) {
		return notFound("No issue has the id %s.", id)
	}
	if err != nil {
		return err
	}
	return a.getIssue(w, r)
}

// acknowledgeIssue serves POST /api/v1/issues/{id}/acknowledge.
func (a *API) acknowledgeIssue(w http.ResponseWriter, r *http.Request) error {
	in, err := readIssueChange(w, r, false)
	if err != nil {
		return err
	}
	return a.changeIssue(w, r, in, func(id string, note issue.Note) error {
		return a.svc.Issues.Acknowledge(r.Context(), id, note)
	})
}

// snoozeIssue serves POST /api/v1/issues/{id}/snooze {"until": …}.
func (a *API) snoozeIssue(w http.ResponseWriter, r *http.Request) error {
	in, err := readIssueChange(w, r, true)
	if err != nil {
		return err
	}
	if in.Until == nil {
		return invalid("until", "Give the date and time the snooze ends, such as \"until\": \"2026-12-31T00:00:00Z\".")
	}
	if !in.Until.After(a.cfg.Now()) {
		return invalid("until", "The snooze must end in the future; give a later date.")
	}
	return a.changeIssue(w, r, in, func(id string, note issue.Note) error {
		return a.svc.Issues.Snooze(r.Context(), id, *in.Until, note)
	})
}

// markFalsePositive serves POST /api/v1/issues/{id}/false-positive.
func (a *API) markFalsePositive(w http.ResponseWriter, r *http.Request) error {
	in, err := readIssueChange(w, r, false)
	if err != nil {
		return err
	}
	return a.changeIssue(w, r, in, func(id string, note issue.Note) error {
		return a.svc.Issues.MarkFalsePositive(r.Context(), id, note)
	})
}

// reopenIssue serves POST /api/v1/issues/{id}/reopen: it reverts a
// snooze, an acknowledgement or a false-positive mark.
func (a *API) reopenIssue(w http.ResponseWriter, r *http.Request) error {
	in, err := readIssueChange(w, r, false)
	if err != nil {
		return err
	}
	return a.changeIssue(w, r, in, func(id string, note issue.Note) error {
		return a.svc.Issues.Reopen(r.Context(), id, note)
	})
}
