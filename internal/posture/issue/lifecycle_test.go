package issue

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/posture/detect"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

var admin = Note{By: "alice", Why: "checked with the owner"}

func TestScanOpensResolvesAndReopensWithTheSameID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		a := finding(detect.TitleUnusedAdmin, "ali")
		c := finding(detect.TitleNoMFAAccount, "bo")

		sum := b.reconcile(t, Scan{ID: "scn_1", Findings: []detect.Finding{a, c}})
		if sum.Opened != 2 || sum.Titles[a.Title].Opened != 1 {
			t.Fatalf("summary %+v", sum)
		}
		evs := b.events(t)
		wantEvents(t, evs, "issue.created:open", "issue.created:open")
		first := b.issueOf(t, c)
		wantStatus(t, first, StatusOpen)

		// The payload is the design's eventData, complete.
		ev := evs[1].Event
		d := ev.EventData
		if ev.Source != event.Source || ev.ID == "" || d.ID != first.ID || d.Link != "https://vigil.example.com/ispm/issues/"+first.ID ||
			!d.DetectedAt.Equal(t0) || d.Title != c.Title || d.AffectedEntity.IdentifierInService != "bo@example.com" ||
			!strings.HasPrefix(d.AffectedEntity.ID, "acc_") || d.AffectedEntity.SourceProductName != "Okta" {
			t.Fatalf("event %+v", ev)
		}

		// Found again: unchanged, no event, last seen moves.
		b.clock.Add(time.Hour)
		sum = b.reconcile(t, Scan{ID: "scn_2", Findings: []detect.Finding{a, c}})
		if sum.Unchanged != 2 || sum.Opened+sum.Resolved+sum.Reopened != 0 {
			t.Fatalf("summary %+v", sum)
		}
		wantEvents(t, b.events(t))
		if got := b.issueOf(t, c); !got.LastSeenAt.Equal(t0.Add(time.Hour)) || got.ID != first.ID {
			t.Fatalf("after rescan: %+v", got)
		}

		// Not found: resolved, with an issue.resolved event.
		b.clock.Add(time.Hour)
		sum = b.reconcile(t, Scan{ID: "scn_3", Findings: []detect.Finding{a}})
		if sum.Resolved != 1 || sum.Titles[c.Title].Resolved != 1 || sum.Unchanged != 1 {
			t.Fatalf("summary %+v", sum)
		}
		wantEvents(t, b.events(t), "issue.resolved:resolved")
		got := b.issueOf(t, c)
		wantStatus(t, got, StatusResolved)
		if got.Present || !got.ResolvedAt.Equal(t0.Add(2*time.Hour)) {
			t.Fatalf("resolved issue %+v", got)
		}

		// Found again: reopened with the same id, detectedAt moves.
		b.clock.Add(time.Hour)
		sum = b.reconcile(t, Scan{ID: "scn_4", Findings: []detect.Finding{a, c}})
		if sum.Reopened != 1 {
			t.Fatalf("summary %+v", sum)
		}
		evs = b.events(t)
		wantEvents(t, evs, "issue.updated:open")
		got = b.issueOf(t, c)
		wantStatus(t, got, StatusOpen)
		if got.ID != first.ID || evs[0].IssueID != first.ID || !got.DetectedAt.Equal(t0.Add(3*time.Hour)) ||
			!got.FirstDetectedAt.Equal(t0) || !got.ResolvedAt.IsZero() {
			t.Fatalf("reopened issue %+v", got)
		}
		wantActions(t, got, ActionCreated, ActionResolved, ActionReopened)
		if h := got.History[1]; h.By != ByScan || h.ScanID != "scn_3" || h.From != StatusOpen || h.To != StatusResolved {
			t.Fatalf("history entry %+v", h)
		}
	})
}

func TestSnooze(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		ctx := t.Context()
		a := finding(detect.TitleNoMFAAdmin, "ali")
		b.reconcile(t, Scan{Findings: []detect.Finding{a}})
		b.events(t)
		is := b.issueOf(t, a)

		if err := b.svc.Snooze(ctx, is.ID, t0.Add(-time.Minute), admin); err == nil {
			t.Fatal("a snooze into the past was accepted")
		}
		until := t0.Add(48 * time.Hour)
		if err := b.svc.Snooze(ctx, is.ID, until, admin); err != nil {
			t.Fatal(err)
		}
		wantEvents(t, b.events(t), "issue.updated:snoozed")
		got := b.issueOf(t, a)
		wantStatus(t, got, StatusSnoozed)
		if !got.SnoozedUntil.Equal(until) {
			t.Fatalf("snoozed until %v", got.SnoozedUntil)
		}

		// Still present: stays snoozed, silently.
		b.reconcile(t, Scan{Findings: []detect.Finding{a}})
		wantEvents(t, b.events(t))
		wantStatus(t, b.issueOf(t, a), StatusSnoozed)

		// Not yet due.
		b.clock.Add(24 * time.Hour)
		if n, err := b.svc.WakeSnoozed(ctx); err != nil || n != 0 {
			t.Fatalf("woke %d, %v", n, err)
		}
		// Due and still present: reopens.
		b.clock.Add(24 * time.Hour)
		if n, err := b.svc.WakeSnoozed(ctx); err != nil || n != 1 {
			t.Fatalf("woke %d, %v", n, err)
		}
		wantEvents(t, b.events(t), "issue.updated:open")
		got = b.issueOf(t, a)
		wantStatus(t, got, StatusOpen)
		if !got.SnoozedUntil.IsZero() {
			t.Fatal("snooze date kept after the snooze ended")
		}
		wantActions(t, got, ActionCreated, ActionSnoozed, ActionSnoozeEnded)
		if h := got.History[1]; h.By != "alice" || h.Reason != "checked with the owner" {
			t.Fatalf("snooze history %+v", h)
		}
		if h := got.History[2]; h.By != BySystem {
			t.Fatalf("wake history %+v", h)
		}

		// Snoozed and no longer found: resolved, snooze cleared.
		if err := b.svc.Snooze(ctx, got.ID, b.clock.Now().Add(time.Hour), admin); err != nil {
			t.Fatal(err)
		}
		b.reconcile(t, Scan{})
		wantEvents(t, b.events(t), "issue.updated:snoozed", "issue.resolved:resolved")
		got = b.issueOf(t, a)
		wantStatus(t, got, StatusResolved)
		if !got.SnoozedUntil.IsZero() {
			t.Fatal("resolved issue keeps its snooze")
		}
		b.clock.Add(2 * time.Hour)
		if n, err := b.svc.WakeSnoozed(ctx); err != nil || n != 0 {
			t.Fatalf("woke %d resolved issues, %v", n, err)
		}
	})
}

func TestAcknowledge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		ctx := t.Context()
		a := finding(detect.TitleOldPasswordAccount, "ali")
		b.reconcile(t, Scan{Findings: []detect.Finding{a}})
		b.events(t)
		is := b.issueOf(t, a)

		if err := b.svc.Acknowledge(ctx, is.ID, admin); err != nil {
			t.Fatal(err)
		}
		wantEvents(t, b.events(t), "issue.updated:acknowledged")
		b.reconcile(t, Scan{Findings: []detect.Finding{a}})
		wantEvents(t, b.events(t))
		wantStatus(t, b.issueOf(t, a), StatusAcknowledged)

		// Gone: resolved; back: open again (the acknowledgement was for
		// the earlier occurrence).
		b.reconcile(t, Scan{})
		wantEvents(t, b.events(t), "issue.resolved:resolved")
		b.reconcile(t, Scan{Findings: []detect.Finding{a}})
		wantEvents(t, b.events(t), "issue.updated:open")
		got := b.issueOf(t, a)
		wantStatus(t, got, StatusOpen)
		wantActions(t, got, ActionCreated, ActionAcknowledged, ActionResolved, ActionReopened)
	})
}

func TestFalsePositiveNeverReopensUntilReverted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		ctx := t.Context()
		a := finding(detect.TitleWeakMFAAdmin, "ali")
		b.reconcile(t, Scan{Findings: []detect.Finding{a}})
		b.events(t)
		is := b.issueOf(t, a)

		if err := b.svc.MarkFalsePositive(ctx, is.ID, admin); err != nil {
			t.Fatal(err)
		}
		wantEvents(t, b.events(t), "issue.updated:false_positive")

		b.reconcile(t, Scan{}) // gone
		wantEvents(t, b.events(t))
		got := b.issueOf(t, a)
		wantStatus(t, got, StatusFalsePositive)
		if got.Present {
			t.Fatal("an issue not found is still present")
		}
		b.reconcile(t, Scan{Findings: []detect.Finding{a}}) // back
		wantEvents(t, b.events(t))
		got = b.issueOf(t, a)
		wantStatus(t, got, StatusFalsePositive)
		if !got.Present {
			t.Fatal("an issue found is not present")
		}

		// Revert while present: open.
		if err := b.svc.Reopen(ctx, is.ID, admin); err != nil {
			t.Fatal(err)
		}
		wantEvents(t, b.events(t), "issue.updated:open")
		wantStatus(t, b.issueOf(t, a), StatusOpen)

		// Revert while absent: resolved.
		if err := b.svc.MarkFalsePositive(ctx, is.ID, admin); err != nil {
			t.Fatal(err)
		}
		b.reconcile(t, Scan{})
		b.events(t)
		if err := b.svc.Reopen(ctx, is.ID, admin); err != nil {
			t.Fatal(err)
		}
		wantEvents(t, b.events(t), "issue.resolved:resolved")
		got = b.issueOf(t, a)
		wantStatus(t, got, StatusResolved)
		wantActions(t, got, ActionCreated, ActionFalsePositive, ActionReverted, ActionFalsePositive, ActionReverted)

		// A resolved issue may be marked false positive, and then it does
		// not reopen when found.
		if err := b.svc.MarkFalsePositive(ctx, is.ID, admin); err != nil {
			t.Fatal(err)
		}
		b.reconcile(t, Scan{Findings: []detect.Finding{a}})
		wantStatus(t, b.issueOf(t, a), StatusFalsePositive)
	})
}

func TestReopenAfterSnoozeAndAcknowledge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		ctx := t.Context()
		a := finding(detect.TitleUnusedAccount, "ali")
		b.reconcile(t, Scan{Findings: []detect.Finding{a}})
		is := b.issueOf(t, a)
		for _, set := range []func() error{
			func() error { return b.svc.Snooze(ctx, is.ID, t0.Add(time.Hour), admin) },
			func() error { return b.svc.Acknowledge(ctx, is.ID, admin) },
		} {
			if err := set(); err != nil {
				t.Fatal(err)
			}
			if err := b.svc.Reopen(ctx, is.ID, admin); err != nil {
				t.Fatal(err)
			}
			got := b.issueOf(t, a)
			wantStatus(t, got, StatusOpen)
			if !got.SnoozedUntil.IsZero() {
				t.Fatal("snooze kept after reopen")
			}
		}
	})
}

func TestTransitionsNotAllowed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		ctx := t.Context()
		open := finding(detect.TitleUnusedAccount, "open")
		gone := finding(detect.TitleUnusedAccount, "gone")
		fp := finding(detect.TitleUnusedAccount, "fp")
		b.reconcile(t, Scan{Findings: []detect.Finding{open, gone, fp}})
		b.reconcile(t, Scan{Findings: []detect.Finding{open, fp}})
		openID, goneID, fpID := b.issueOf(t, open).ID, b.issueOf(t, gone).ID, b.issueOf(t, fp).ID
		if err := b.svc.MarkFalsePositive(ctx, fpID, admin); err != nil {
			t.Fatal(err)
		}
		b.events(t)
		later := t0.Add(time.Hour)
		for _, tc := range []struct {
			name string
			do   func() error
		}{
			{"snooze resolved", func() error { return b.svc.Snooze(ctx, goneID, later, admin) }},
			{"acknowledge resolved", func() error { return b.svc.Acknowledge(ctx, goneID, admin) }},
			{"reopen resolved", func() error { return b.svc.Reopen(ctx, goneID, admin) }},
			{"reopen open", func() error { return b.svc.Reopen(ctx, openID, admin) }},
			{"snooze false positive", func() error { return b.svc.Snooze(ctx, fpID, later, admin) }},
			{"acknowledge false positive", func() error { return b.svc.Acknowledge(ctx, fpID, admin) }},
			{"mark false positive twice", func() error { return b.svc.MarkFalsePositive(ctx, fpID, admin) }},
		} {
			err := tc.do()
			if !isTransitionError(err) {
				t.Errorf("%s: got %v, want a transition error", tc.name, err)
			}
			if err != nil && strings.Count(err.Error(), ".") != 1 {
				t.Errorf("%s: message %q is not one sentence", tc.name, err)
			}
		}
		if err := b.svc.Acknowledge(ctx, "iss_nope", admin); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown id: %v", err)
		}
		if err := b.svc.Acknowledge(ctx, openID, Note{}); err == nil {
			t.Error("a change without an actor was accepted")
		}
		wantEvents(t, b.events(t))
	})
}

func TestBulkChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		ctx := t.Context()
		var fs []detect.Finding
		for _, login := range []string{"a", "b", "c"} {
			fs = append(fs, finding(detect.TitleNoMFAAccount, login))
		}
		b.reconcile(t, Scan{Findings: fs})
		b.reconcile(t, Scan{Findings: fs[:2]}) // c resolved
		b.events(t)
		ids := []string{b.issueOf(t, fs[0]).ID, b.issueOf(t, fs[1]).ID, b.issueOf(t, fs[2]).ID, "iss_missing", b.issueOf(t, fs[0]).ID}

		out, err := b.svc.SnoozeMany(ctx, ids, t0.Add(time.Hour), admin)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Changed) != 2 || len(out.Skipped) != 2 {
			t.Fatalf("outcome %+v", out)
		}
		wantEvents(t, b.events(t), "issue.updated:snoozed", "issue.updated:snoozed")
		if out, err = b.svc.AcknowledgeMany(ctx, ids[:2], admin); err != nil || len(out.Changed) != 2 {
			t.Fatalf("acknowledge: %+v, %v", out, err)
		}
		if out, err = b.svc.MarkFalsePositiveMany(ctx, ids[:3], admin); err != nil || len(out.Changed) != 3 {
			t.Fatalf("false positive: %+v, %v", out, err)
		}
		if out, err = b.svc.ReopenMany(ctx, ids[:3], admin); err != nil || len(out.Changed) != 3 {
			t.Fatalf("reopen: %+v, %v", out, err)
		}
		wantStatus(t, b.issueOf(t, fs[0]), StatusOpen)
		wantStatus(t, b.issueOf(t, fs[2]), StatusResolved)
	})
}

func TestFailedSourceResolvesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		oktaOnly := finding(detect.TitleNoMFAAccount, "ali")
		cross := finding(detect.TitleOrphanedAccount, "bo")
		cross.Source, cross.Sources = "salesforce", []string{"salesforce", "okta"}
		entraF := finding(detect.TitleUnusedAccount, "cy")
		entraF.Source, entraF.Sources = "entra", []string{"entra"}
		all := map[string]string{"okta": "src_okta", "salesforce": "src_sf", "entra": "src_entra"}
		b.reconcile(t, Scan{Scopes: all, Findings: []detect.Finding{oktaOnly, cross, entraF}})
		b.events(t)

		// Okta failed (its stored data is unusable), Salesforce was read:
		// Okta's issues are not touched (not in scope), and the Salesforce
		// orphan, which depends on Okta, is kept.
		sum := b.reconcile(t, Scan{
			Scopes:      map[string]string{"salesforce": "src_sf"},
			Unavailable: map[string]bool{"okta": true},
		})
		if sum.Resolved != 0 || sum.Kept != 1 {
			t.Fatalf("summary %+v", sum)
		}
		wantEvents(t, b.events(t))
		for _, f := range []detect.Finding{oktaOnly, cross, entraF} {
			wantStatus(t, b.issueOf(t, f), StatusOpen)
		}

		// A scan of Okta alone that does not find the Entra finding (Entra
		// is not in scope) leaves it open; Okta's own issue is resolved.
		sum = b.reconcile(t, Scan{Scopes: map[string]string{"okta": "src_okta"}})
		if sum.Resolved != 1 || sum.Titles[oktaOnly.Title].Resolved != 1 {
			t.Fatalf("summary %+v", sum)
		}
		wantStatus(t, b.issueOf(t, entraF), StatusOpen)
		wantStatus(t, b.issueOf(t, cross), StatusOpen)

		// Both read: the orphan goes.
		sum = b.reconcile(t, Scan{Scopes: map[string]string{"okta": "src_okta", "salesforce": "src_sf"}})
		if sum.Resolved != 1 {
			t.Fatalf("summary %+v", sum)
		}
		wantStatus(t, b.issueOf(t, cross), StatusResolved)
	})
}

func TestOutboxFailureRollsBackTheScan(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		b.outbox.fail = errors.New("outbox is down")
		if _, err := b.try(t, Scan{Findings: []detect.Finding{finding(detect.TitleNoMFAAccount, "ali")}}); err == nil {
			t.Fatal("reconcile succeeded without its events")
		}
		page, err := b.svc.List(t.Context(), Filter{Statuses: Statuses()})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 0 {
			t.Fatalf("%d issues kept from a rolled-back scan", page.Total)
		}
	})
}

func TestResolveSource(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		ctx := t.Context()
		a, c := finding(detect.TitleNoMFAAccount, "ali"), finding(detect.TitleNoMFAAccount, "bo")
		b.reconcile(t, Scan{Findings: []detect.Finding{a, c}})
		if err := b.svc.MarkFalsePositive(ctx, b.issueOf(t, c).ID, admin); err != nil {
			t.Fatal(err)
		}
		b.events(t)
		err := st.InTx(ctx, func(tx *store.Tx) error {
			n, err := b.svc.ResolveSource(ctx, tx, "src_okta", "okta", Note{By: "alice"})
			if n != 1 {
				t.Errorf("resolved %d", n)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		wantEvents(t, b.events(t), "issue.resolved:resolved")
		wantStatus(t, b.issueOf(t, c), StatusFalsePositive)
		got := b.issueOf(t, a)
		if h := got.History[len(got.History)-1]; h.Reason != "source okta was removed" {
			t.Fatalf("history %+v", h)
		}
	})
}

// TestTransitionMatrix checks every user action from every status: allowed
// ones land on the documented status with one event, the others are
// refused and change nothing.
func TestTransitionMatrix(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		ctx := t.Context()
		later := t0.Add(time.Hour)
		actions := []struct {
			name string
			do   func(id string) error
		}{
			{"snooze", func(id string) error { return b.svc.Snooze(ctx, id, later, admin) }},
			{"acknowledge", func(id string) error { return b.svc.Acknowledge(ctx, id, admin) }},
			{"false positive", func(id string) error { return b.svc.MarkFalsePositive(ctx, id, admin) }},
			{"reopen", func(id string) error { return b.svc.Reopen(ctx, id, admin) }},
		}
		// want[from][action] is the status reached, "" when refused.
		want := map[Status][4]Status{
			StatusOpen:          {StatusSnoozed, StatusAcknowledged, StatusFalsePositive, ""},
			StatusSnoozed:       {StatusSnoozed, StatusAcknowledged, StatusFalsePositive, StatusOpen},
			StatusAcknowledged:  {StatusSnoozed, "", StatusFalsePositive, StatusOpen},
			StatusFalsePositive: {"", "", "", StatusOpen},
			StatusResolved:      {"", "", StatusFalsePositive, ""},
		}
		n := 0
		for from, row := range want {
			for i, act := range actions {
				n++
				f := finding(detect.TitleNoMFAAccount, fmt.Sprintf("m%d", n))
				other := finding(detect.TitleNoMFAAccount, fmt.Sprintf("keep%d", n))
				b.reconcile(t, Scan{Findings: []detect.Finding{f, other}})
				id := b.issueOf(t, f).ID
				switch from {
				case StatusSnoozed:
					must(t, b.svc.Snooze(ctx, id, later, admin))
				case StatusAcknowledged:
					must(t, b.svc.Acknowledge(ctx, id, admin))
				case StatusFalsePositive:
					must(t, b.svc.MarkFalsePositive(ctx, id, admin))
				case StatusResolved:
					b.reconcile(t, Scan{Findings: []detect.Finding{other}})
				}
				b.events(t)
				err := act.do(id)
				got := b.issueOf(t, f).Status
				evs := b.events(t)
				if row[i] == "" {
					if !isTransitionError(err) || got != from || len(evs) != 0 {
						t.Errorf("%s from %s: err %v, status %s, %d events; want refused", act.name, from, err, got, len(evs))
					}
					continue
				}
				if err != nil || got != row[i] || len(evs) != 1 || evs[0].Status != string(row[i]) {
					t.Errorf("%s from %s: err %v, status %s, %d events; want %s", act.name, from, err, got, len(evs), row[i])
				}
			}
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
