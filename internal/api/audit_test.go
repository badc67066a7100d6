package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/audit/audittest"
	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

func init() {
	// The export's answers are checked against the document like any
	// other; the checker needs to be told how to read JSON lines.
	openapi3filter.RegisterBodyDecoder("application/x-ndjson", openapi3filter.FileBodyDecoder)
}

// clientAddr is the address httptest gives every request, as the server's
// client address function reduces it.
const clientAddr = "192.0.2.1"

// byToken is what an audit row says of a request sent with the bundle's
// API token of role.
func byToken(role auth.Role, action string) audittest.Want {
	return audittest.Want{Action: action, ActorKind: string(audit.ActorToken), ActorName: string(role), Address: clientAddr,
		Outcome: string(audit.Success)}
}

func TestAuditSources(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		const token = "00aBcDeFgHiJkLmNoPqRsTuVwXyZ-audit-4321"
		okta := map[string]any{"name": "okta-audit", "kind": "okta", "settings": map[string]any{"url": "https://example.okta.com"},
			"credentials": map[string]any{"token": token}}
		want(t, "add", b.do(auth.RoleSuperAdmin, "POST", "/api/v1/sources", okta), http.StatusCreated, "")
		want(t, "schedule", b.do(auth.RoleSuperAdmin, "PUT", "/api/v1/sources/okta-audit/schedule", map[string]any{"scheduleSeconds": 7200}), http.StatusOK, "")
		want(t, "remove", b.do(auth.RoleSuperAdmin, "DELETE", "/api/v1/sources/okta-audit", nil), http.StatusNoContent, "")

		w := byToken(auth.RoleSuperAdmin, "source.create")
		w.TargetKind, w.TargetName, w.Details = "source", "okta-audit", []string{`"credentialsSet":true`}
		audittest.Has(t, st.Queries, w)
		w = byToken(auth.RoleSuperAdmin, "source.schedule")
		w.Details = []string{`"everySeconds":7200`}
		audittest.Has(t, st.Queries, w)
		audittest.Has(t, st.Queries, byToken(auth.RoleSuperAdmin, "source.delete"))
		audittest.NoSecret(t, st.Queries, token)
	})
}

func TestAuditConnections(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		const slackToken, newToken = "xoxb-3333-4444-audit-secret", "s3cr3t-audit-rotated-5555"
		slack := map[string]any{"name": "Slack", "kind": "slack", "fields": map[string]any{"token": slackToken}}
		want(t, "create", b.do(auth.RoleWorkflowsAdmin, "POST", "/api/v1/connections", slack), http.StatusCreated, "")
		want(t, "update", b.do(auth.RoleWorkflowsAdmin, "PUT", "/api/v1/connections/Local",
			map[string]any{"fields": map[string]any{"token": newToken}}), http.StatusOK, "")
		want(t, "dry run", b.do(auth.RoleWorkflowsAdmin, "PUT", "/api/v1/connections/Local/dry-run", map[string]any{"on": true}), http.StatusOK, "")
		want(t, "delete", b.do(auth.RoleWorkflowsAdmin, "DELETE", "/api/v1/connections/Slack", nil), http.StatusNoContent, "")

		w := byToken(auth.RoleWorkflowsAdmin, "connection.create")
		w.TargetName, w.Details = "Slack", []string{`"token"`}
		audittest.Has(t, st.Queries, w)
		w = byToken(auth.RoleWorkflowsAdmin, "connection.update")
		w.TargetName, w.Details = "Local", []string{`"changed":["token"]`}
		audittest.Has(t, st.Queries, w)
		w = byToken(auth.RoleWorkflowsAdmin, "connection.dryrun")
		w.Details = []string{`"dryRun":true`}
		audittest.Has(t, st.Queries, w)
		audittest.Has(t, st.Queries, byToken(auth.RoleWorkflowsAdmin, "connection.delete"))
		audittest.NoSecret(t, st.Queries, slackToken, newToken, b.connSecret)
	})
}

func TestAuditFlows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		flow := "/api/v1/flows/" + b.echo.ID
		renamed := strings.Replace(echoFlow, "title: Echo", "title: Echo Audited", 1)
		want(t, "save", b.do(auth.RoleWorkflowsAdmin, "PUT", flow, map[string]any{"document": renamed}), http.StatusOK, "")
		want(t, "on", b.do(auth.RoleWorkflowsAdmin, "POST", flow+"/on", nil), http.StatusOK, "")
		want(t, "off", b.do(auth.RoleWorkflowsAdmin, "POST", flow+"/off", nil), http.StatusOK, "")
		want(t, "delete", b.do(auth.RoleWorkflowsAdmin, "DELETE", "/api/v1/flows/"+b.open.ID, nil), http.StatusNoContent, "")
		want(t, "folder", b.do(auth.RoleWorkflowsAdmin, "POST", "/api/v1/folders", map[string]any{"name": "Audited"}), http.StatusCreated, "")

		w := byToken(auth.RoleWorkflowsAdmin, "flow.update")
		w.TargetKind, w.TargetName, w.Details = "flow", "Echo Audited", []string{`"version":2`}
		audittest.Has(t, st.Queries, w)
		for _, action := range []string{"flow.enable", "flow.disable"} {
			w := byToken(auth.RoleWorkflowsAdmin, action)
			w.TargetName = "Echo Audited"
			audittest.Has(t, st.Queries, w)
		}
		w = byToken(auth.RoleWorkflowsAdmin, "flow.delete")
		w.TargetName = "Open Door"
		audittest.Has(t, st.Queries, w)
		w = byToken(auth.RoleWorkflowsAdmin, "folder.create")
		w.TargetName = "Audited"
		audittest.Has(t, st.Queries, w)
	})
}

func TestAuditEndpointTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		path := "/api/v1/flows/" + b.echo.ID + "/endpoint"
		var shown, rotated Endpoint
		r := b.do(auth.RoleWorkflowsAdmin, "GET", path, nil)
		want(t, "reveal", r, http.StatusOK, "")
		r.decode(t, &shown)
		r = b.do(auth.RoleWorkflowsAdmin, "POST", path+"/rotate-token", map[string]any{"graceSeconds": 60})
		want(t, "rotate", r, http.StatusOK, "")
		r.decode(t, &rotated)
		if shown.ClientToken == "" || rotated.ClientToken == "" || shown.ClientToken == rotated.ClientToken {
			t.Fatalf("tokens shown %q and rotated %q; want two different tokens", shown.ClientToken, rotated.ClientToken)
		}

		w := byToken(auth.RoleWorkflowsAdmin, "flow.token.reveal")
		w.TargetKind, w.TargetName = "flow", "Echo"
		audittest.Has(t, st.Queries, w)
		w = byToken(auth.RoleWorkflowsAdmin, "flow.token.rotate")
		w.TargetName, w.Details = "Echo", []string{`"graceSeconds":60`}
		audittest.Has(t, st.Queries, w)
		// A rotation shows the new token, not the old one: one reveal only.
		page, err := audit.NewLog(st.Queries).List(b.ctx, audit.Filter{ActionPrefix: "flow.token.reveal"})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Entries) != 1 {
			t.Errorf("%d reveals recorded; want 1", len(page.Entries))
		}
		// Someone who may not see the token reveals nothing.
		want(t, "viewer", b.do(auth.RoleIssueResponder, "GET", path, nil), http.StatusForbidden, "forbidden")
		audittest.NoSecret(t, st.Queries, shown.ClientToken, rotated.ClientToken)
	})
}

func TestAuditIssues(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		var page IssuePage
		b.do(auth.RoleIssueViewer, "GET", "/api/v1/issues?status=open&limit=2", nil).decode(t, &page)
		if len(page.Issues) < 2 {
			t.Fatalf("%d open issues; the test needs 2", len(page.Issues))
		}
		one, two := page.Issues[0].ID, page.Issues[1].ID
		want(t, "acknowledge", b.do(auth.RoleIssueResponder, "POST", "/api/v1/issues/"+one+"/acknowledge", map[string]any{"note": "seen"}), http.StatusOK, "")
		want(t, "snooze", b.do(auth.RoleIssueResponder, "POST", "/api/v1/issues/"+two+"/snooze",
			map[string]any{"until": testNow.Add(48 * time.Hour)}), http.StatusOK, "")
		want(t, "reopen", b.do(auth.RoleIssueResponder, "POST", "/api/v1/issues/"+two+"/reopen", nil), http.StatusOK, "")

		w := byToken(auth.RoleIssueResponder, "issue.acknowledge")
		w.TargetKind, w.Details = "issue", []string{`"from":"open"`, `"to":"acknowledged"`}
		e := audittest.Has(t, st.Queries, w)
		if e.TargetID != one {
			t.Errorf("acknowledge recorded for %s; want %s", e.TargetID, one)
		}
		w = byToken(auth.RoleIssueResponder, "issue.snooze")
		w.Details = []string{`"to":"snoozed"`, `"snoozedUntil"`}
		audittest.Has(t, st.Queries, w)
		w = byToken(auth.RoleIssueResponder, "issue.reopen")
		w.Details = []string{`"from":"snoozed"`}
		audittest.Has(t, st.Queries, w)
	})
}

func TestAuditList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		flow := "/api/v1/flows/" + b.echo.ID
		for range 3 {
			want(t, "on", b.do(auth.RoleWorkflowsAdmin, "POST", flow+"/on", nil), http.StatusOK, "")
			want(t, "off", b.do(auth.RoleWorkflowsAdmin, "POST", flow+"/off", nil), http.StatusOK, "")
		}
		list := func(query string) audit.Page {
			t.Helper()
			r := b.do(auth.RoleSuperAdmin, "GET", "/api/v1/audit?"+query, nil)
			want(t, query, r, http.StatusOK, "")
			var p audit.Page
			r.decode(t, &p)
			return p
		}
		p := list("actor=workflows_admin&action=flow")
		if len(p.Entries) != 6 || p.Next != "" {
			t.Fatalf("workflows_admin's flow actions: %d entries, next %q; want 6 and no next", len(p.Entries), p.Next)
		}
		if e := p.Entries[0]; e.Action != "flow.disable" || e.Actor.Kind != audit.ActorToken || e.Actor.Token != "test" ||
			e.Actor.Address != clientAddr || e.Target.ID != b.echo.ID {
			t.Errorf("newest entry %+v; want flow.disable of the echo flow by the test token from %s", e, clientAddr)
		}
		if p := list("action=flow.enable"); len(p.Entries) != 3 {
			t.Errorf("action=flow.enable: %d entries; want 3", len(p.Entries))
		}
		if p := list("action=flo"); len(p.Entries) != 0 {
			t.Errorf("action=flo matched %d entries; a prefix matches whole dotted parts only", len(p.Entries))
		}

		// Paging: one at a time through the six, newest first, no repeats.
		seen := map[string]bool{}
		query := "actor=workflows_admin&action=flow&limit=4"
		var pages int
		for {
			p := list(query)
			pages++
			for _, e := range p.Entries {
				if seen[e.ID] {
					t.Fatalf("entry %s on two pages", e.ID)
				}
				seen[e.ID] = true
			}
			if p.Next == "" {
				break
			}
			query = "actor=workflows_admin&action=flow&limit=4&before=" + url.QueryEscape(p.Next)
		}
		if len(seen) != 6 || pages != 2 {
			t.Errorf("paging gave %d entries on %d pages; want 6 on 2", len(seen), pages)
		}

		// Time: every entry was written at the tests' fixed clock.
		at := testNow.Format(time.RFC3339)
		if p := list("actor=workflows_admin&since=" + url.QueryEscape(at)); len(p.Entries) != 6 {
			t.Errorf("since the clock: %d entries; want 6", len(p.Entries))
		}
		if p := list("actor=workflows_admin&until=" + url.QueryEscape(at)); len(p.Entries) != 0 {
			t.Errorf("until the clock: %d entries; want 0", len(p.Entries))
		}

		// Export: every match as JSON lines, whatever the page size.
		r := b.do(auth.RoleSuperAdmin, "GET", "/api/v1/audit?format=jsonl&action=flow&actor=workflows_admin&limit=1", nil)
		want(t, "export", r, http.StatusOK, "")
		if ct := r.header.Get("Content-Type"); ct != "application/x-ndjson" {
			t.Errorf("export Content-Type %q", ct)
		}
		var lines int
		sc := bufio.NewScanner(bytes.NewReader(r.body))
		for sc.Scan() {
			var e audit.Record
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatalf("export line %q: %v", sc.Text(), err)
			}
			if !strings.HasPrefix(e.Action, "flow.") || e.Actor.Name != "workflows_admin" {
				t.Errorf("export line %+v does not match the filter", e)
			}
			lines++
		}
		if lines != 6 {
			t.Errorf("export gave %d lines; want 6", lines)
		}

		for _, tc := range []struct{ query, field string }{
			{"since=yesterday", "since"},
			{"until=2026-13-01", "until"},
			{"since=2026-12-02&until=2026-12-01", "until"},
			{"action=flow%25", "action"},
			{"limit=0", "limit"},
			{"limit=501", "limit"},
			{"before=x", "before"},
			{"format=csv", "format"},
		} {
			r := b.do(auth.RoleSuperAdmin, "GET", "/api/v1/audit?"+tc.query, nil)
			want(t, tc.query, r, http.StatusBadRequest, "invalid")
			if _, field := r.errorCode(); field != tc.field {
				t.Errorf("%s: field %q; want %q", tc.query, field, tc.field)
			}
		}
		for _, role := range []auth.Role{auth.RoleWorkflowsAdmin, auth.RoleIssueResponder, auth.RoleIssueViewer} {
			want(t, string(role), b.do(role, "GET", "/api/v1/audit", nil), http.StatusForbidden, "forbidden")
		}
	})
}
