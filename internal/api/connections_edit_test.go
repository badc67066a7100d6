package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

func TestConnectionEdit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		const slackToken, newToken = "xoxb-1111-2222-created-secret", "s3cr3t-rotated-bearer-7777"
		noSecret := func(what string, r response) {
			t.Helper()
			for _, s := range []string{slackToken, newToken, b.connSecret} {
				if strings.Contains(string(r.body), s) {
					t.Errorf("%s: the answer holds the secret %q in clear", what, s)
				}
			}
		}
		names := func() string {
			t.Helper()
			list, err := b.svc.Connections.List(b.ctx)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, c := range list {
				out = append(out, c.Name+":"+c.Secrets["token"]+":"+c.Settings["baseUrl"])
			}
			return strings.Join(out, ",")
		}

		slack := map[string]any{"name": "Slack", "kind": "slack", "fields": map[string]any{"token": slackToken}}
		r := b.do(auth.RoleWorkflowsAdmin, "POST", "/api/v1/connections", slack)
		want(t, "create", r, http.StatusCreated, "")
		noSecret("create", r)
		var c connection.Connection
		r.decode(t, &c)
		if c.ID == "" || c.Name != "Slack" || c.Kind != "slack" || !strings.HasSuffix(c.Secrets["token"], "cret") {
			t.Fatalf("created %+v", c)
		}

		before := names()
		b.refuseAll([]refusal{
			{"viewer creates", "POST", "/api/v1/connections", auth.RoleIssueViewer, slack, 403, "forbidden", ""},
			{"responder creates", "POST", "/api/v1/connections", auth.RoleIssueResponder, slack, 403, "forbidden", ""},
			{"taken", "POST", "/api/v1/connections", auth.RoleWorkflowsAdmin, map[string]any{"name": "slack", "kind": "slack",
				"fields": map[string]any{"token": slackToken}}, 409, "conflict", ""},
			{"bad kind", "POST", "/api/v1/connections", auth.RoleWorkflowsAdmin, map[string]any{"name": "X", "kind": "ftp"}, 400, "invalid", "kind"},
			{"no name", "POST", "/api/v1/connections", auth.RoleWorkflowsAdmin, map[string]any{"kind": "slack",
				"fields": map[string]any{"token": slackToken}}, 400, "invalid", "name"},
			{"unknown field", "POST", "/api/v1/connections", auth.RoleWorkflowsAdmin, map[string]any{"name": "X", "kind": "slack",
				"fields": map[string]any{"token": slackToken, "password": slackToken}}, 400, "invalid", "password"},
			{"viewer updates", "PUT", "/api/v1/connections/Local", auth.RoleIssueViewer, map[string]any{"fields": map[string]any{"token": newToken}}, 403, "forbidden", ""},
			{"rename to taken", "PUT", "/api/v1/connections/Local", auth.RoleWorkflowsAdmin, map[string]any{"name": "SLACK"}, 409, "conflict", ""},
			{"change kind", "PUT", "/api/v1/connections/Local", auth.RoleWorkflowsAdmin, map[string]any{"kind": "slack"}, 400, "invalid", "kind"},
			{"bad option", "PUT", "/api/v1/connections/Local", auth.RoleWorkflowsAdmin, map[string]any{"fields": map[string]any{"auth": "magic", "token": newToken}}, 400, "invalid", "auth"},
			{"update unknown", "PUT", "/api/v1/connections/Nope", auth.RoleWorkflowsAdmin, map[string]any{"name": "X"}, 404, "not_found", ""},
			{"responder deletes", "DELETE", "/api/v1/connections/Local", auth.RoleIssueResponder, nil, 403, "forbidden", ""},
			{"delete unknown", "DELETE", "/api/v1/connections/Nope", auth.RoleWorkflowsAdmin, nil, 404, "not_found", ""},
		}, noSecret, func(what string) {
			if after := names(); after != before {
				t.Fatalf("%s: connections %s; want %s, unchanged", what, after, before)
			}
		})

		// A new token alone: the base URL, name and dry-run switch stay.
		if _, err := b.svc.Connections.SetDryRun(b.ctx, "Local", true); err != nil {
			t.Fatal(err)
		}
		baseURL := b.conn.Settings["baseUrl"]
		r = b.do(auth.RoleWorkflowsAdmin, "PUT", "/api/v1/connections/local", map[string]any{"fields": map[string]any{"token": newToken}})
		want(t, "rotate", r, http.StatusOK, "")
		noSecret("rotate", r)
		r.decode(t, &c)
		if c.ID != b.conn.ID || c.Name != "Local" || !c.DryRun || c.Settings["baseUrl"] != baseURL || !strings.HasSuffix(c.Secrets["token"], "7777") {
			t.Errorf("rotated %+v", c)
		}
		resolved, err := b.svc.Connections.Resolve(b.ctx, "Local")
		if err != nil || resolved.Get("token") != newToken {
			t.Errorf("the new token is not stored: %v", err)
		}
		// A rename with no fields keeps the token.
		r = b.do(auth.RoleSuperAdmin, "PUT", "/api/v1/connections/"+b.conn.ID, map[string]any{"name": "Local API", "dryRun": false})
		want(t, "rename", r, http.StatusOK, "")
		noSecret("rename", r)
		r.decode(t, &c)
		if c.Name != "Local API" || c.DryRun || !strings.HasSuffix(c.Secrets["token"], "7777") {
			t.Errorf("renamed %+v", c)
		}

		r = b.do(auth.RoleWorkflowsAdmin, "DELETE", "/api/v1/connections/Slack", nil)
		want(t, "delete", r, http.StatusNoContent, "")
		if got, err := b.svc.Connections.List(b.ctx); err != nil || len(got) != 1 || got[0].Name != "Local API" {
			t.Errorf("connections after a delete: %v", names())
		}
		want(t, "deleted", b.do(auth.RoleWorkflowsAdmin, "GET", "/api/v1/connections/Slack", nil), 404, "not_found")
	})
}
