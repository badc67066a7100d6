package auth

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vigil-ispm/vigil/internal/audit"
	"github.com/vigil-ispm/vigil/internal/audit/audittest"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestAuditAccounts checks that sign-ins, failed sign-ins, user changes and
// API tokens are written to the audit log with the actor and the client
// address, and that no password, token or cookie reaches it.
func TestAuditAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		const (
			addr         = "198.51.100.7"
			adminPass    = "correct horse battery staple"
			wrongPass    = "wrong horse battery staple"
			typedAsName  = "hunter2-typed-into-the-name-field"
			bobPass      = "bob's first long passphrase"
			bobResetPass = "bob's reset long passphrase"
		)
		admin, err := b.svc.CreateUser(audit.WithActor(b.ctx, audit.CLI), "admin", RoleSuperAdmin, adminPass)
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		b.svc.Register(mux)
		h := b.svc.Authenticate(mux)
		var cookie *http.Cookie
		do := func(method, path string, body any) *httptest.ResponseRecorder {
			t.Helper()
			raw, _ := json.Marshal(body)
			req := httptest.NewRequest(method, path, bytes.NewReader(raw))
			req.RemoteAddr = addr + ":51234"
			req.Header.Set("Content-Type", "application/json")
			if cookie != nil {
				req.AddCookie(cookie)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec
		}
		expect := func(what string, rec *httptest.ResponseRecorder, status int) {
			t.Helper()
			if rec.Code != status {
				t.Fatalf("%s: %d %s; want %d", what, rec.Code, rec.Body, status)
			}
		}

		expect("wrong password", do("POST", "/api/v1/session", map[string]string{"name": "admin", "password": wrongPass}), http.StatusUnauthorized)
		expect("unknown name", do("POST", "/api/v1/session", map[string]string{"name": typedAsName, "password": adminPass}), http.StatusUnauthorized)
		rec := do("POST", "/api/v1/session", map[string]string{"name": "admin", "password": adminPass})
		expect("sign in", rec, http.StatusOK)
		for _, c := range rec.Result().Cookies() {
			if c.Name == SessionCookie {
				cookie = c
			}
		}
		if cookie == nil {
			t.Fatal("signing in set no session cookie")
		}

		rec = do("POST", "/api/v1/users", map[string]string{"name": "bob", "role": "issue_viewer", "password": bobPass})
		expect("create bob", rec, http.StatusCreated)
		var created struct{ User User }
		if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil || created.User.ID == "" {
			t.Fatalf("create answer %s: %v", rec.Body, err)
		}
		bob := created.User
		expect("update bob", do("PATCH", "/api/v1/users/"+bob.ID, map[string]any{"role": "workflows_admin", "password": bobResetPass}), http.StatusOK)
		rec = do("POST", "/api/v1/tokens", map[string]string{"name": "deploy"})
		expect("create token", rec, http.StatusCreated)
		var tok struct {
			APIToken Token  `json:"apiToken"`
			Token    string `json:"token"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil || tok.Token == "" {
			t.Fatalf("token answer %s: %v", rec.Body, err)
		}
		expect("revoke token", do("DELETE", "/api/v1/tokens/"+tok.APIToken.ID, nil), http.StatusNoContent)
		expect("sign out", do("DELETE", "/api/v1/session", nil), http.StatusNoContent)

		q := st.Queries
		audittest.Has(t, q, audittest.Want{Action: "user.create", ActorKind: "cli", ActorName: "cli", Address: "cli", TargetName: "admin"})
		audittest.Has(t, q, audittest.Want{Action: "auth.signin.failed", ActorKind: "anonymous", Address: addr, TargetName: "admin",
			Outcome: "failure", Details: []string{`"reason":"wrong password"`}})
		audittest.Has(t, q, audittest.Want{Action: "auth.signin.failed", ActorKind: "anonymous", Address: addr, TargetName: "(unknown)",
			Outcome: "failure", Details: []string{`"reason":"unknown user"`}})
		signin := audittest.Has(t, q, audittest.Want{Action: "auth.signin", ActorKind: "user", ActorName: "admin", Address: addr, Outcome: "success"})
		if signin.ActorID != admin.ID {
			t.Errorf("sign-in recorded for %s; want %s", signin.ActorID, admin.ID)
		}
		byAdmin := func(action, target string, details ...string) {
			t.Helper()
			audittest.Has(t, q, audittest.Want{Action: action, ActorKind: "user", ActorName: "admin", Address: addr, TargetName: target,
				Outcome: "success", Details: details})
		}
		byAdmin("user.create", "bob", `"role":"issue_viewer"`)
		byAdmin("user.update", "bob", `"role":"workflows_admin"`, `"changed":["password"]`)
		byAdmin("token.create", "deploy", `"user":"admin"`)
		byAdmin("token.revoke", "deploy")
		byAdmin("auth.signout", "admin")
		audittest.NoSecret(t, q, adminPass, wrongPass, typedAsName, bobPass, bobResetPass, tok.Token, cookie.Value)
	})
}
