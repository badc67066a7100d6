package issue

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/store"
)

// Outcome is what a bulk change did: the ids changed, and for each id left
// alone the reason, one sentence for the user.
type Outcome struct {
	Changed []string
	Skipped []Skip
}

// Skip is an issue a bulk change left alone.
type Skip struct {
	ID     string
	Reason string
}

// change is one kind of user action: from which statuses it is allowed,
// and what it does to a row.
type change struct {
	action string
	// audit is the action's name in the audit log.
	audit   string
	allowed []Status
	verb    string // for messages: "snooze", "acknowledge", …
	apply   func(r *store.PostureIssue, at time.Time)
}

// MaxBulk bounds how many issues one bulk change may name.
const MaxBulk = 10_000

// apply runs a user action on each issue in one transaction.
func (s *Service) apply(ctx context.Context, ids []string, note Note, c change) (Outcome, error) {
	var out Outcome
	if note.By == "" {
		return out, errors.New("a change of issue status needs the name of who makes it")
	}
	if len(ids) > MaxBulk {
		return out, fmt.Errorf("a bulk change may name at most %d issues; %d were given", MaxBulk, len(ids))
	}
	ids = uniq(ids)
	at := s.now()
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		out = Outcome{}
		if err := tx.LockPosture(ctx); err != nil {
			return fmt.Errorf("lock issues: %w", err)
		}
		rows, err := tx.PostureIssuesByID(ctx, ids)
		if err != nil {
			return fmt.Errorf("load issues: %w", err)
		}
		byID := make(map[string]*store.PostureIssue, len(rows))
		for _, r := range rows {
			byID[r.ID] = r
		}
		for _, issueID := range ids {
			r := byID[issueID]
			if r == nil {
				out.Skipped = append(out.Skipped, Skip{issueID, fmt.Sprintf("No issue has the id %s.", issueID)})
				continue
			}
			from := Status(r.Status)
			if !slices.Contains(c.allowed, from) {
				out.Skipped = append(out.Skipped, Skip{issueID, notAllowed(c.verb, from)})
				continue
			}
			c.apply(r, at)
			r.UpdatedAt = at
			if err := tx.UpdatePostureIssue(ctx, r); err != nil {
				return fmt.Errorf("update issue %s: %w", r.ID, err)
			}
			if err := s.record(ctx, tx, r, c.action, from, note, "", at); err != nil {
				return err
			}
			details := map[string]any{"from": string(from), "to": r.Status}
			if !r.SnoozedUntil.IsZero() {
				details["snoozedUntil"] = r.SnoozedUntil
			}
			if note.Why != "" {
				details["note"] = note.Why
			}
			if err := s.audit.RecordTx(ctx, tx.Queries, audit.Entry{Action: c.audit,
				Target: audit.Target{Kind: "issue", ID: r.ID, Name: r.Title + " — " + r.EntityName}, Details: details}); err != nil {
				return err
			}
			out.Changed = append(out.Changed, issueID)
		}
		if len(out.Changed) == 0 {
			return nil
		}
		return s.recordTrend(ctx, tx, at)
	})
	return out, err
}

func notAllowed(verb string, from Status) string {
	switch from {
	case StatusResolved:
		return fmt.Sprintf("A resolved issue cannot be %s; it reopens by itself when a scan finds it again.", pastTense(verb))
	case StatusFalsePositive:
		return fmt.Sprintf("An issue marked false positive cannot be %s; revert it first.", pastTense(verb))
	}
	return fmt.Sprintf("The issue is %s, so it cannot be %s.", statusWords(from), pastTense(verb))
}

func pastTense(verb string) string {
	switch verb {
	case "snooze":
		return "snoozed"
	case "acknowledge":
		return "acknowledged"
	case "mark false positive":
		return "marked false positive"
	case "reopen":
		return "reopened"
	}
	return verb
}

func statusWords(s Status) string {
	switch s {
	case StatusFalsePositive:
		return "marked false positive"
	case StatusOpen:
		return "already open"
	}
	return string(s)
}

func uniq(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, v := range ids {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// one runs a single-issue action and turns a skip into an error.
func (s *Service) one(ctx context.Context, issueID string, note Note, c change) error {
	out, err := s.apply(ctx, []string{issueID}, note, c)
	if err != nil {
		return err
	}
	if len(out.Skipped) > 0 {
		sk := out.Skipped[0]
		r, gerr := s.st.PostureIssue(ctx, issueID)
		if errors.Is(gerr, store.ErrNotFound) {
			return fmt.Errorf("issue %s: %w", issueID, ErrNotFound)
		}
		from := Status("")
		if r != nil {
			from = Status(r.Status)
		}
		return &TransitionError{ID: issueID, From: from, Msg: sk.Reason}
	}
	return nil
}

func snooze(until time.Time) change {
	return change{
		action: ActionSnoozed, verb: "snooze", audit: "issue.snooze",
		allowed: []Status{StatusOpen, StatusAcknowledged, StatusSnoozed},
		apply: func(r *store.PostureIssue, _ time.Time) {
			r.Status = string(StatusSnoozed)
			r.SnoozedUntil = until.UTC()
		},
	}
}

func (s *Service) checkUntil(until time.Time) error {
	if !until.After(s.now()) {
		return errors.New("the snooze must end in the future; give a later date")
	}
	return nil
}

// Snooze hides an open or acknowledged issue until the given time; then it
// reopens if it is still present. Snoozing a snoozed issue moves the date.
func (s *Service) Snooze(ctx context.Context, issueID string, until time.Time, note Note) error {
	if err := s.checkUntil(until); err != nil {
		return err
	}
	return s.one(ctx, issueID, note, snooze(until))
}

// SnoozeMany is Snooze for several issues in one transaction; issues that
// cannot be snoozed are skipped.
func (s *Service) SnoozeMany(ctx context.Context, ids []string, until time.Time, note Note) (Outcome, error) {
	if err := s.checkUntil(until); err != nil {
		return Outcome{}, err
	}
	return s.apply(ctx, ids, note, snooze(until))
}

var acknowledge = change{
	action: ActionAcknowledged, verb: "acknowledge", audit: "issue.acknowledge",
	allowed: []Status{StatusOpen, StatusSnoozed},
	apply: func(r *store.PostureIssue, _ time.Time) {
		r.Status = string(StatusAcknowledged)
		r.SnoozedUntil = time.Time{}
	},
}

// Acknowledge hides an open or snoozed issue for as long as scans find it;
// it is resolved when they no longer do.
func (s *Service) Acknowledge(ctx context.Context, issueID string, note Note) error {
	return s.one(ctx, issueID, note, acknowledge)
}

// AcknowledgeMany is Acknowledge for several issues.
func (s *Service) AcknowledgeMany(ctx context.Context, ids []string, note Note) (Outcome, error) {
	return s.apply(ctx, ids, note, acknowledge)
}

var falsePositive = change{
	action: ActionFalsePositive, verb: "mark false positive", audit: "issue.false_positive",
	allowed: []Status{StatusOpen, StatusSnoozed, StatusAcknowledged, StatusResolved},
	apply: func(r *store.PostureIssue, _ time.Time) {
		r.Status = string(StatusFalsePositive)
		r.SnoozedUntil = time.Time{}
	},
}

// MarkFalsePositive says the finding is wrong: the issue never reopens,
// whatever scans find, until an admin reverts it with Reopen.
func (s *Service) MarkFalsePositive(ctx context.Context, issueID string, note Note) error {
	return s.one(ctx, issueID, note, falsePositive)
}

// MarkFalsePositiveMany is MarkFalsePositive for several issues.
func (s *Service) MarkFalsePositiveMany(ctx context.Context, ids []string, note Note) (Outcome, error) {
	return s.apply(ctx, ids, note, falsePositive)
}

var reopen = change{
	action: ActionReverted, verb: "reopen", audit: "issue.reopen",
	allowed: []Status{StatusSnoozed, StatusAcknowledged, StatusFalsePositive},
	apply: func(r *store.PostureIssue, at time.Time) {
		r.SnoozedUntil = time.Time{}
		if r.Present {
			r.Status = string(StatusOpen)
			return
		}
		// Not found by the last scan: the revert lands where the scan
		// would have put it.
		r.Status = string(StatusResolved)
		if r.ResolvedAt.IsZero() {
			r.ResolvedAt = at
		}
	},
}

// Reopen reverts a snooze, an acknowledgement or a false-positive mark: the
// issue becomes open if the last scan found it, resolved otherwise.
func (s *Service) Reopen(ctx context.Context, issueID string, note Note) error {
	return s.one(ctx, issueID, note, reopen)
}

// ReopenMany is Reopen for several issues.
func (s *Service) ReopenMany(ctx context.Context, ids []string, note Note) (Outcome, error) {
	return s.apply(ctx, ids, note, reopen)
}

// WakeSnoozed ends the snoozes whose date has passed: each issue reopens
// if the last scan found it and is resolved otherwise. It returns how many
// issues it changed. The periodic job calls it.
func (s *Service) WakeSnoozed(ctx context.Context) (int, error) {
	n := 0
	at := s.now()
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		n = 0
		if err := tx.LockPosture(ctx); err != nil {
			return fmt.Errorf("lock issues: %w", err)
		}
		rows, err := tx.PostureIssuesSnoozedUntil(ctx, at)
		if err != nil {
			return fmt.Errorf("load snoozed issues: %w", err)
		}
		for _, r := range rows {
			until := r.SnoozedUntil
			r.SnoozedUntil = time.Time{}
			r.UpdatedAt = at
			r.Status = string(StatusOpen)
			if !r.Present {
				r.Status = string(StatusResolved)
				r.ResolvedAt = at
			}
			if err := tx.UpdatePostureIssue(ctx, r); err != nil {
				return fmt.Errorf("end snooze of issue %s: %w", r.ID, err)
			}
			why := "snoozed until " + until.Format(time.RFC3339)
			if err := s.record(ctx, tx, r, ActionSnoozeEnded, StatusSnoozed, Note{By: BySystem, Why: why}, "", at); err != nil {
				return err
			}
			n++
		}
		if n == 0 {
			return nil
		}
		return s.recordTrend(ctx, tx, at)
	})
	return n, err
}

// ResolveSource resolves, in tx, the issues raised from a configured
// source that is being removed: open, snoozed and acknowledged ones become
// resolved with an issue.resolved event; false positives stay marked. A
// source added again later reopens them with the same ids.
func (s *Service) ResolveSource(ctx context.Context, tx *store.Tx, sourceID, sourceName string, note Note) (int, error) {
	at := s.now()
	if err := tx.LockPosture(ctx); err != nil {
		return 0, fmt.Errorf("lock issues: %w", err)
	}
	rows, err := tx.PostureIssuesOfSource(ctx, sourceID)
	if err != nil {
		return 0, fmt.Errorf("load issues of source %s: %w", sourceName, err)
	}
	if note.Why == "" {
		note.Why = "source " + sourceName + " was removed"
	}
	n := 0
	for _, r := range rows {
		from := Status(r.Status)
		if !r.Present && (from == StatusResolved || from == StatusFalsePositive) {
			continue
		}
		r.Present = false
		r.UpdatedAt = at
		if from == StatusResolved || from == StatusFalsePositive {
			if err := tx.UpdatePostureIssue(ctx, r); err != nil {
				return n, fmt.Errorf("update issue %s: %w", r.ID, err)
			}
			continue
		}
		r.Status = string(StatusResolved)
		r.ResolvedAt = at
		r.SnoozedUntil = time.Time{}
		if err := tx.UpdatePostureIssue(ctx, r); err != nil {
			return n, fmt.Errorf("resolve issue %s: %w", r.ID, err)
		}
		if err := s.record(ctx, tx, r, ActionResolved, from, note, "", at); err != nil {
			return n, err
		}
		n++
	}
	if n > 0 {
		return n, s.recordTrend(ctx, tx, at)
	}
	return n, nil
}

// Offered tells which user actions an issue in status s allows, by the
// names the console and the API use (snooze, acknowledge, false_positive,
// reopen), so that a page offers only those.
func Offered(s Status) map[string]bool {
	out := map[string]bool{}
	for name, c := range map[string]change{"snooze": snooze(time.Time{}), "acknowledge": acknowledge,
		"false_positive": falsePositive, "reopen": reopen} {
		out[name] = slices.Contains(c.allowed, s)
	}
	return out
}
