package api

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

func TestIssueList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		var all IssuePage
		r := b.do(auth.RoleIssueViewer, "GET", "/api/v1/issues?limit=500", nil)
		want(t, "list", r, http.StatusOK, "")
		r.decode(t, &all)
		if all.Total == 0 || len(all.Issues) != all.Total {
			t.Fatalf("the scan's issues: total %d, listed %d; want some, all listed", all.Total, len(all.Issues))
		}

		var crit IssuePage
		b.do(auth.RoleIssueViewer, "GET", "/api/v1/issues?status=open&severity=critical&limit=500", nil).decode(t, &crit)
		if crit.Total == 0 || crit.Total >= all.Total {
			t.Errorf("critical issues: %d of %d; want some but not all", crit.Total, all.Total)
		}
		for _, i := range crit.Issues {
			if i.Severity != "Critical" || i.Status != "open" {
				t.Errorf("filtered list holds %s %s issue %s", i.Severity, i.Status, i.ID)
			}
		}

		// Two pages by cursor, then back.
		var p1, p2, back IssuePage
		b.do(auth.RoleIssueViewer, "GET", "/api/v1/issues?limit=2", nil).decode(t, &p1)
		if len(p1.Issues) != 2 || p1.Next == "" || p1.Prev != "" {
			t.Fatalf("first page: %d issues, next %q, prev %q; want 2, a next cursor and no prev", len(p1.Issues), p1.Next, p1.Prev)
		}
		b.do(auth.RoleIssueViewer, "GET", "/api/v1/issues?limit=2&cursor="+url.QueryEscape(p1.Next), nil).decode(t, &p2)
		if len(p2.Issues) != 2 || p2.Offset != 2 || p2.Issues[0].ID == p1.Issues[0].ID || p2.Issues[0].ID != all.Issues[2].ID {
			t.Errorf("second page starts at offset %d with %v; want offset 2 starting with the third issue %s", p2.Offset, p2.Issues[0].ID, all.Issues[2].ID)
		}
		b.do(auth.RoleIssueViewer, "GET", "/api/v1/issues?limit=2&before="+url.QueryEscape(p2.Prev), nil).decode(t, &back)
		if len(back.Issues) != 2 || back.Issues[0].ID != p1.Issues[0].ID {
			t.Errorf("the page before the second is not the first")
		}

		for _, tc := range []struct{ query, field string }{
			{"status=bogus", "status"},
			{"severity=Urgent", "severity"},
			{"category=Hygiene", "category"},
			{"limit=0", "limit"},
			{"limit=501", "limit"},
			{"limit=ten", "limit"},
			{"cursor=not-a-cursor", "cursor"},
			{"before=not-a-cursor", "before"},
			{"cursor=a&before=b", "cursor"},
		} {
			r := b.do(auth.RoleIssueViewer, "GET", "/api/v1/issues?"+tc.query, nil)
			want(t, tc.query, r, http.StatusBadRequest, "invalid")
			if _, field := r.errorCode(); field != tc.field {
				t.Errorf("%s: field %q; want %q", tc.query, field, tc.field)
			}
		}
		want(t, "anonymous", b.do("", "GET", "/api/v1/issues", nil), http.StatusUnauthorized, "unauthorized")
	})
}

func TestIssueGetAndChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		var page IssuePage
		b.do(auth.RoleIssueViewer, "GET", "/api/v1/issues?status=open&limit=1", nil).decode(t, &page)
		id := page.Issues[0].ID
		path := "/api/v1/issues/" + id

		var got Issue
		b.do(auth.RoleIssueViewer, "GET", path, nil).decode(t, &got)
		if got.ID != id || got.Title == "" || got.AffectedEntity.SourceProductName == "" || len(got.History) != 1 || got.History[0].Action != "created" {
			t.Fatalf("issue %s: %+v; want its event data and one created change", id, got)
		}
		want(t, "unknown issue", b.do(auth.RoleIssueViewer, "GET", "/api/v1/issues/iss_nope", nil), http.StatusNotFound, "not_found")

		status := func() string {
			t.Helper()
			var i Issue
			b.do(auth.RoleIssueViewer, "GET", path, nil).decode(t, &i)
			return i.Status
		}
		until := testNow.Add(48 * time.Hour)
		events := b.outbox.len()
		for _, tc := range []struct {
			role   auth.Role
			action string
			body   any
			status int
			code   string
			after  string
		}{
			// Refusals change nothing.
			{auth.RoleIssueViewer, "acknowledge", nil, 403, "forbidden", "open"},
			{auth.RoleWorkflowsAdmin, "acknowledge", nil, 403, "forbidden", "open"},
			{auth.RoleIssueResponder, "snooze", map[string]any{}, 400, "invalid", "open"},
			{auth.RoleIssueResponder, "snooze", map[string]any{"until": testNow.Add(-time.Hour)}, 400, "invalid", "open"},
			{auth.RoleIssueResponder, "snooze", `{"until": "tomorrow"}`, 400, "invalid", "open"},
			{auth.RoleIssueResponder, "acknowledge", map[string]any{"until": until}, 400, "invalid", "open"},
			{auth.RoleIssueResponder, "acknowledge", map[string]any{"reason": "typo"}, 400, "invalid", "open"},
			{auth.RoleIssueResponder, "acknowledge", `{"note": "a"} {"note": "b"}`, 400, "invalid", "open"},
			{auth.RoleIssueResponder, "reopen", nil, 409, "conflict", "open"},
			// The lifecycle.
			{auth.RoleIssueResponder, "acknowledge", map[string]any{"note": "owner is on leave"}, 200, "", "acknowledged"},
			{auth.RoleIssueResponder, "snooze", map[string]any{"until": until, "note": "until Monday"}, 200, "", "snoozed"},
			{auth.RoleIssueResponder, "reopen", nil, 200, "", "open"},
			{auth.RoleSuperAdmin, "false-positive", map[string]any{"note": "a test account"}, 200, "", "false_positive"},
			{auth.RoleIssueResponder, "acknowledge", nil, 409, "conflict", "false_positive"},
			{auth.RoleIssueResponder, "snooze", map[string]any{"until": until}, 409, "conflict", "false_positive"},
		} {
			what := fmt.Sprintf("%s %s %v", tc.role, tc.action, tc.body)
			r := b.do(tc.role, "POST", path+"/"+tc.action, tc.body)
			want(t, what, r, tc.status, tc.code)
			if got := status(); got != tc.after {
				t.Errorf("%s: issue is %s; want %s", what, got, tc.after)
			}
			if tc.status == 200 {
				events++
				var i Issue
				r.decode(t, &i)
				last := i.History[len(i.History)-1]
				if i.Status != tc.after || last.By != string(tc.role) {
					t.Errorf("%s: answered status %s, last change by %q; want %s by %s", what, i.Status, last.By, tc.after, tc.role)
				}
			}
			if n := b.outbox.len(); n != events {
				t.Errorf("%s: %d issue events; want %d", what, n, events)
			}
		}
		var i Issue
		b.do(auth.RoleIssueViewer, "GET", path, nil).decode(t, &i)
		if h := i.History[1]; h.Action != "acknowledged" || h.Reason != "owner is on leave" {
			t.Errorf("first change %+v; want acknowledged with the note", h)
		}
		if h := i.History[2]; h.Action != "snoozed" || h.To != "snoozed" {
			t.Errorf("second change %+v; want snoozed", h)
		}

		for _, action := range []string{"acknowledge", "snooze", "false-positive", "reopen"} {
			r := b.do(auth.RoleIssueResponder, "POST", "/api/v1/issues/iss_nope/"+action, map[string]any{"until": until})
			if action != "snooze" {
				r = b.do(auth.RoleIssueResponder, "POST", "/api/v1/issues/iss_nope/"+action, nil)
			}
			want(t, action+" unknown", r, http.StatusNotFound, "not_found")
		}
	})
}
