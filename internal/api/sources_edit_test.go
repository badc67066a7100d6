package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

func TestSourceEdit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st)
		const token = "00aBcDeFgHiJkLmNoPqRsTuVwXyZ-secret-9876"
		noSecret := func(what string, r response) {
			t.Helper()
			if strings.Contains(string(r.body), token) || strings.Contains(string(r.body), "BEGIN PRIVATE KEY") {
				t.Errorf("%s: the answer holds a credential: %s", what, r.body)
			}
		}
		names := func() string {
			t.Helper()
			list, err := b.svc.Sources.List(b.ctx)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, s := range list {
				out = append(out, s.Name)
			}
			return strings.Join(out, ",")
		}

		okta := map[string]any{"name": "okta-prod", "kind": "okta", "settings": map[string]any{"url": "https://example.okta.com"},
			"credentials": map[string]any{"token": token}, "scheduleSeconds": 3600}
		r := b.do(auth.RoleSuperAdmin, "POST", "/api/v1/sources", okta)
		want(t, "add", r, http.StatusCreated, "")
		noSecret("add", r)
		var s Source
		r.decode(t, &s)
		if s.Name != "okta-prod" || s.Kind != "okta" || !s.HasCredentials || s.ScheduleSeconds != 3600 || !s.Primary ||
			s.Settings.URL != "https://example.okta.com" {
			t.Fatalf("added %+v", s)
		}
		for _, path := range []string{"/api/v1/sources", "/api/v1/sources/okta-prod"} {
			noSecret(path, b.do(auth.RoleSuperAdmin, "GET", path, nil))
		}

		before := names()
		badKey := "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----"
		b.refuseAll([]refusal{
			{"workflows admin adds", "POST", "/api/v1/sources", auth.RoleWorkflowsAdmin, okta, 403, "forbidden", ""},
			{"responder adds", "POST", "/api/v1/sources", auth.RoleIssueResponder, okta, 403, "forbidden", ""},
			{"taken", "POST", "/api/v1/sources", auth.RoleSuperAdmin, okta, 409, "conflict", ""},
			{"bad name", "POST", "/api/v1/sources", auth.RoleSuperAdmin, map[string]any{"name": "a b", "kind": "okta"}, 400, "invalid", "name"},
			{"bad kind", "POST", "/api/v1/sources", auth.RoleSuperAdmin, map[string]any{"name": "x", "kind": "ldap"}, 400, "invalid", "kind"},
			{"no token", "POST", "/api/v1/sources", auth.RoleSuperAdmin, map[string]any{"name": "x", "kind": "okta",
				"settings": map[string]any{"url": "https://example.okta.com"}}, 400, "invalid", "token"},
			{"bad key", "POST", "/api/v1/sources", auth.RoleSuperAdmin, map[string]any{"name": "x", "kind": "okta",
				"settings":    map[string]any{"url": "https://example.okta.com", "clientId": "0oa1"},
				"credentials": map[string]any{"privateKey": badKey}}, 400, "invalid", "settings"},
			{"bad schedule", "POST", "/api/v1/sources", auth.RoleSuperAdmin, map[string]any{"name": "x", "kind": "okta",
				"settings": map[string]any{"url": "https://example.okta.com"}, "credentials": map[string]any{"token": token},
				"scheduleSeconds": -5}, 400, "invalid", "scheduleSeconds"},
			{"unknown credential", "POST", "/api/v1/sources", auth.RoleSuperAdmin, map[string]any{"name": "x", "kind": "okta",
				"credentials": map[string]any{"password": token}}, 400, "invalid", "body"},
			{"workflows admin removes", "DELETE", "/api/v1/sources/okta-prod", auth.RoleWorkflowsAdmin, nil, 403, "forbidden", ""},
			{"viewer removes", "DELETE", "/api/v1/sources/okta-prod", auth.RoleIssueViewer, nil, 403, "forbidden", ""},
			{"remove unknown", "DELETE", "/api/v1/sources/nope", auth.RoleSuperAdmin, nil, 404, "not_found", ""},
		}, noSecret, func(what string) {
			if after := names(); after != before {
				t.Fatalf("%s: sources %s; want %s, unchanged", what, after, before)
			}
		})

		// The schedule: 0 is on demand, under a minute is a minute.
		schedule := func() int64 {
			t.Helper()
			s, err := b.svc.Sources.Get(b.ctx, "okta-prod")
			if err != nil {
				t.Fatal(err)
			}
			return int64(s.Schedule.Seconds())
		}
		for _, tc := range []struct {
			role   auth.Role
			name   string
			body   any
			status int
			code   string
			secs   int64
		}{
			{auth.RoleWorkflowsAdmin, "okta-prod", map[string]any{"scheduleSeconds": 0}, 403, "forbidden", 3600},
			{auth.RoleSuperAdmin, "okta-prod", map[string]any{}, 400, "invalid", 3600},
			{auth.RoleSuperAdmin, "okta-prod", map[string]any{"scheduleSeconds": -1}, 400, "invalid", 3600},
			{auth.RoleSuperAdmin, "okta-prod", map[string]any{"scheduleSeconds": 1 << 40}, 400, "invalid", 3600},
			{auth.RoleSuperAdmin, "okta-prod", `{"scheduleSeconds": "daily"}`, 400, "invalid", 3600},
			{auth.RoleSuperAdmin, "nope", map[string]any{"scheduleSeconds": 60}, 404, "not_found", 3600},
			{auth.RoleSuperAdmin, "okta-prod", map[string]any{"scheduleSeconds": 0}, 200, "", 0},
			{auth.RoleSuperAdmin, "okta-prod", map[string]any{"scheduleSeconds": 5}, 200, "", 60},
		} {
			what := string(tc.role) + " schedule " + tc.name
			r := b.do(tc.role, "PUT", "/api/v1/sources/"+tc.name+"/schedule", tc.body)
			want(t, what, r, tc.status, tc.code)
			noSecret(what, r)
			if got := schedule(); got != tc.secs {
				t.Errorf("%s: schedule %d s; want %d", what, got, tc.secs)
			}
			if tc.status == 200 {
				var s Source
				if r.decode(t, &s); s.ScheduleSeconds != tc.secs {
					t.Errorf("%s: answered %d s", what, s.ScheduleSeconds)
				}
			}
		}

		r = b.do(auth.RoleSuperAdmin, "DELETE", "/api/v1/sources/okta-prod", nil)
		want(t, "remove", r, http.StatusNoContent, "")
		if got := names(); got != "org" {
			t.Errorf("sources after a removal: %s; want org", got)
		}
		want(t, "removed", b.do(auth.RoleSuperAdmin, "GET", "/api/v1/sources/okta-prod", nil), 404, "not_found")
	})
}
