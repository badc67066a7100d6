package auth

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// server builds the handler chain the way the app does: cross-origin
// protection outside, then Authenticate, then the mux with this package's
// routes and a few routes standing in for other packages'.
func (b *testBundle) server(t *testing.T, tls bool) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	b.svc.Register(mux)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := UserFrom(r.Context())
		io.WriteString(w, "hello "+u.Name)
	})
	mux.Handle("GET /api/v1/flows", Guard(PermManageFlows)(ok))
	mux.Handle("POST /api/v1/flows", Require(PermManageFlows, ok))
	mux.Handle("GET /api/v1/sources", Require(PermManageSources, ok))
	mux.Handle("GET /flows", Require(PermViewFlows, ok))
	mux.Handle("GET /users", RequirePage(PermManageUsers, ok))
	hooks := GuardMethods(PermViewHooks, PermManageHooks)(ok)
	mux.Handle("GET /api/v1/hooks", hooks)
	mux.Handle("POST /api/v1/hooks", hooks)
	h := http.NewCrossOriginProtection().Handler(b.svc.Authenticate(mux))
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	return srv
}

// call is one request to the test server.
type call struct {
	method, path string
	body         any
	cookie       *http.Cookie
	bearer       string
	header       map[string]string
}

type answer struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

func (a answer) errorCode() string {
	e, _ := a.json["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func do(t *testing.T, srv *httptest.Server, c call) answer {
	t.Helper()
	var body io.Reader
	if c.body != nil {
		raw, _ := json.Marshal(c.body)
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(c.method, srv.URL+c.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if c.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.cookie != nil {
		req.AddCookie(c.cookie)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", c.bearer)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	a := answer{status: res.StatusCode, header: res.Header}
	a.body, _ = io.ReadAll(res.Body)
	_ = json.Unmarshal(a.body, &a.json)
	return a
}

// signIn posts the credentials and returns the session cookie.
func signIn(t *testing.T, srv *httptest.Server, name, password string) *http.Cookie {
	t.Helper()
	a := do(t, srv, call{method: "POST", path: "/api/v1/session", body: map[string]string{"name": name, "password": password}})
	if a.status != http.StatusOK {
		t.Fatalf("sign in as %s: %d %s", name, a.status, a.body)
	}
	for _, c := range (&http.Response{Header: a.header}).Cookies() {
		if c.Name == SessionCookie {
			return c
		}
	}
	t.Fatalf("sign in as %s set no session cookie", name)
	return nil
}

func TestHTTPSignInAndOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		b.user(t, "alice", RoleIssueResponder, goodPassword)
		srv := b.server(t, false)

		a := do(t, srv, call{method: "POST", path: "/api/v1/session", body: map[string]string{"name": "alice", "password": goodPassword}})
		if a.status != 200 || a.json["name"] != "alice" || a.json["role"] != "issue_responder" || a.json["permissions"] == nil {
			t.Fatalf("sign in: %d %s", a.status, a.body)
		}
		if strings.Contains(string(a.body), "password") || strings.Contains(string(a.body), "argon2") {
			t.Errorf("sign-in answer mentions the password or its hash: %s", a.body)
		}
		cookie := signIn(t, srv, "alice", goodPassword)
		me := do(t, srv, call{method: "GET", path: "/api/v1/me", cookie: cookie})
		if me.status != 200 || me.json["name"] != "alice" || me.json["method"] != "session" {
			t.Fatalf("me: %d %s", me.status, me.body)
		}

		out := do(t, srv, call{method: "DELETE", path: "/api/v1/session", cookie: cookie})
		if out.status != http.StatusNoContent {
			t.Fatalf("sign out: %d %s", out.status, out.body)
		}
		cleared := (&http.Response{Header: out.header}).Cookies()
		if len(cleared) != 1 || cleared[0].MaxAge >= 0 || cleared[0].Value != "" {
			t.Errorf("sign out cookies %v; want the session cookie cleared", cleared)
		}
		// The old cookie no longer works, even if a browser kept it.
		if a := do(t, srv, call{method: "GET", path: "/api/v1/me", cookie: cookie}); a.status != 401 || a.errorCode() != "unauthorized" {
			t.Errorf("me after sign out: %d %s", a.status, a.body)
		}

		wrong := do(t, srv, call{method: "POST", path: "/api/v1/session", body: map[string]string{"name": "alice", "password": "not the password"}})
		unknown := do(t, srv, call{method: "POST", path: "/api/v1/session", body: map[string]string{"name": "mallory", "password": "not the password"}})
		if wrong.status != 401 || wrong.errorCode() != "invalid_credentials" || string(wrong.body) != string(unknown.body) {
			t.Errorf("wrong password: %d %s; unknown user: %d %s", wrong.status, wrong.body, unknown.status, unknown.body)
		}
		for _, body := range []any{nil, "text", map[string]any{"name": "alice", "password": goodPassword, "admin": true}} {
			if a := do(t, srv, call{method: "POST", path: "/api/v1/session", body: body}); a.status != 400 || a.errorCode() != "invalid" {
				t.Errorf("sign in with body %v: %d %s", body, a.status, a.body)
			}
		}
	})
}

func TestHTTPRateLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		b.user(t, "alice", RoleIssueViewer, goodPassword)
		srv := b.server(t, false)
		for i := range 5 {
			a := do(t, srv, call{method: "POST", path: "/api/v1/session", body: map[string]string{"name": "alice", "password": "guess number " + string(rune('0'+i))}})
			if a.status != 401 {
				t.Fatalf("attempt %d: %d %s", i, a.status, a.body)
			}
		}
		a := do(t, srv, call{method: "POST", path: "/api/v1/session", body: map[string]string{"name": "alice", "password": goodPassword}})
		if a.status != http.StatusTooManyRequests || a.errorCode() != "too_many_attempts" || a.header.Get("Retry-After") != "30" {
			t.Fatalf("sixth attempt: %d Retry-After %q %s", a.status, a.header.Get("Retry-After"), a.body)
		}
		if a.header.Get("Set-Cookie") != "" {
			t.Error("a locked-out sign-in set a cookie")
		}
	})
}

func TestHTTPCookieFlags(t *testing.T) {
	tests := []struct {
		name      string
		tls       bool
		publicURL string
		secure    bool
	}{
		{"plain http", false, "", false},
		{"TLS", true, "", true},
		{"https public URL behind a proxy", false, "https://vigil.example.com", true},
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				b := setup(t, st, func(c *Config) { c.PublicURL = tt.publicURL })
				if _, err := b.svc.UserByName(b.ctx, "alice"); err != nil {
					b.user(t, "alice", RoleIssueViewer, goodPassword)
				}
				c := signIn(t, b.server(t, tt.tls), "alice", goodPassword)
				if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure != tt.secure {
					t.Errorf("cookie HttpOnly=%v SameSite=%v Path=%q Secure=%v; want HttpOnly, Lax, /, Secure=%v",
						c.HttpOnly, c.SameSite, c.Path, c.Secure, tt.secure)
				}
				if c.MaxAge != 7*24*3600 || len(c.Value) != sessionTokenLen {
					t.Errorf("cookie MaxAge=%d len(value)=%d", c.MaxAge, len(c.Value))
				}
			})
		}
	})
}

func TestHTTPRoles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		b.user(t, "viewer", RoleIssueViewer, goodPassword)
		b.user(t, "builder", RoleWorkflowsAdmin, goodPassword)
		b.user(t, "root", RoleSuperAdmin, goodPassword)
		b.user(t, "responder", RoleIssueResponder, goodPassword)
		srv := b.server(t, false)
		cookies := map[string]*http.Cookie{}
		for _, n := range []string{"viewer", "builder", "root", "responder"} {
			cookies[n] = signIn(t, srv, n, goodPassword)
		}
		tests := []struct {
			user, method, path string
			status             int
			code               string
		}{
			{"", "GET", "/api/v1/flows", 401, "unauthorized"},
			{"viewer", "GET", "/api/v1/flows", 403, "forbidden"},
			{"viewer", "POST", "/api/v1/flows", 403, "forbidden"},
			{"builder", "GET", "/api/v1/flows", 200, ""},
			{"builder", "POST", "/api/v1/flows", 200, ""},
			{"builder", "GET", "/api/v1/sources", 403, "forbidden"},
			{"root", "GET", "/api/v1/sources", 200, ""},
			{"viewer", "GET", "/api/v1/users", 403, "forbidden"},
			{"builder", "GET", "/api/v1/users", 403, "forbidden"},
			{"root", "GET", "/api/v1/users", 200, ""},
			{"viewer", "GET", "/api/v1/me", 200, ""},
			{"", "GET", "/api/v1/me", 401, "unauthorized"},
			// Console pages: a redirect to sign in, a plain 403.
			{"", "GET", "/flows", http.StatusSeeOther, ""},
			{"viewer", "GET", "/flows", 403, ""},
			{"builder", "GET", "/flows", 200, ""},
			{"builder", "GET", "/users", 403, ""},
			// One guard, a permission for reading and one for changing.
			{"responder", "GET", "/api/v1/hooks", 200, ""},
			{"responder", "POST", "/api/v1/hooks", 403, "forbidden"},
			{"builder", "GET", "/api/v1/hooks", 403, "forbidden"},
			{"root", "POST", "/api/v1/hooks", 200, ""},
		}
		for _, tt := range tests {
			a := do(t, srv, call{method: tt.method, path: tt.path, cookie: cookies[tt.user], header: map[string]string{"Sec-Fetch-Site": "same-origin"}})
			if a.status != tt.status || a.errorCode() != tt.code {
				t.Errorf("%s %s as %q: %d %s; want %d %s", tt.method, tt.path, tt.user, a.status, a.body, tt.status, tt.code)
			}
			if a.status == 401 && a.header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s: 401 without WWW-Authenticate", tt.method, tt.path)
			}
		}
		a := do(t, srv, call{method: "GET", path: "/flows?tab=on"})
		if loc := a.header.Get("Location"); loc != "/login?next=%2Fflows%3Ftab%3Don" {
			t.Errorf("redirect to %q", loc)
		}
	})
}

func TestHTTPAPITokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		b.user(t, "builder", RoleWorkflowsAdmin, goodPassword)
		b.user(t, "viewer", RoleIssueViewer, goodPassword)
		b.user(t, "root", RoleSuperAdmin, goodPassword)
		srv := b.server(t, false)
		builder := signIn(t, srv, "builder", goodPassword)

		a := do(t, srv, call{method: "POST", path: "/api/v1/tokens", cookie: builder, body: map[string]any{"name": "ci", "expiresInDays": 30}})
		raw, _ := a.json["token"].(string)
		info, _ := a.json["apiToken"].(map[string]any)
		if a.status != 201 || !strings.HasPrefix(raw, TokenPrefix) || info["expiresAt"] == nil {
			t.Fatalf("create token: %d %s", a.status, a.body)
		}
		id, _ := info["id"].(string)

		bearer := "Bearer " + raw
		if a := do(t, srv, call{method: "GET", path: "/api/v1/flows", bearer: bearer}); a.status != 200 || string(a.body) != "hello builder" {
			t.Errorf("valid token: %d %s", a.status, a.body)
		}
		if a := do(t, srv, call{method: "GET", path: "/api/v1/me", bearer: "bearer " + raw}); a.status != 200 || a.json["method"] != "token" {
			t.Errorf("lower-case scheme: %d %s", a.status, a.body)
		}
		if a := do(t, srv, call{method: "GET", path: "/api/v1/sources", bearer: bearer}); a.status != 403 {
			t.Errorf("token outside its user's role: %d %s", a.status, a.body)
		}
		// A token cannot mint tokens that would outlive its revocation.
		if a := do(t, srv, call{method: "POST", path: "/api/v1/tokens", bearer: bearer, body: map[string]any{"name": "x"}}); a.status != 403 {
			t.Errorf("token creating a token: %d %s", a.status, a.body)
		}
		list := do(t, srv, call{method: "GET", path: "/api/v1/tokens", bearer: bearer})
		if toks, _ := list.json["tokens"].([]any); list.status != 200 || len(toks) != 1 || strings.Contains(string(list.body), raw) {
			t.Errorf("list tokens: %d %s", list.status, list.body)
		}
		if a := do(t, srv, call{method: "GET", path: "/api/v1/tokens?all=true", bearer: bearer}); a.status != 403 {
			t.Errorf("list all tokens without users:manage: %d", a.status)
		}
		// Another user can neither see nor revoke it.
		viewer := signIn(t, srv, "viewer", goodPassword)
		if a := do(t, srv, call{method: "DELETE", path: "/api/v1/tokens/" + id, cookie: viewer}); a.status != 404 {
			t.Errorf("revoke another user's token: %d %s", a.status, a.body)
		}
		if a := do(t, srv, call{method: "POST", path: "/api/v1/tokens", cookie: viewer, body: map[string]any{"user": "builder"}}); a.status != 403 {
			t.Errorf("create a token for another user: %d %s", a.status, a.body)
		}
		root := signIn(t, srv, "root", goodPassword)
		if a := do(t, srv, call{method: "GET", path: "/api/v1/tokens?user=builder", cookie: root}); a.status != 200 || !strings.Contains(string(a.body), id) {
			t.Errorf("admin lists builder's tokens: %d %s", a.status, a.body)
		}

		if a := do(t, srv, call{method: "DELETE", path: "/api/v1/tokens/" + id, cookie: builder}); a.status != 204 {
			t.Fatalf("revoke: %d %s", a.status, a.body)
		}
		malformed := []string{
			"Bearer",
			"Bearer ",
			"Bearer not-a-token",
			"Basic YWxpY2U6cGFzc3dvcmQ=",
			"Bearer vgl_short",
			"Bearer " + strings.ToUpper(raw),
			"Token " + raw,
		}
		for _, h := range append(malformed, bearer) {
			a := do(t, srv, call{method: "GET", path: "/api/v1/flows", bearer: h})
			if a.status != 401 || a.errorCode() != "unauthorized" || !strings.Contains(a.header.Get("WWW-Authenticate"), "invalid_token") {
				t.Errorf("Authorization %q: %d %s %q", h, a.status, a.body, a.header.Get("WWW-Authenticate"))
			}
		}
		revoked := do(t, srv, call{method: "GET", path: "/api/v1/flows", bearer: bearer})
		if !strings.Contains(revoked.json["error"].(map[string]any)["message"].(string), "revoked") {
			t.Errorf("revoked token message: %s", revoked.body)
		}
		// A bad token is refused even with a good session cookie beside it:
		// the header, when present, decides.
		if a := do(t, srv, call{method: "GET", path: "/api/v1/flows", bearer: bearer, cookie: builder}); a.status != 401 {
			t.Errorf("revoked token with a cookie: %d", a.status)
		}
	})
}

func TestHTTPCrossOrigin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		b.user(t, "builder", RoleWorkflowsAdmin, goodPassword)
		srv := b.server(t, false)
		cookie := signIn(t, srv, "builder", goodPassword)
		tests := []struct {
			name   string
			header map[string]string
			status int
		}{
			{"cross-site fetch", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
			{"same-site other origin", map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
			{"old browser, foreign Origin", map[string]string{"Origin": "https://evil.example"}, 403},
			{"same origin", map[string]string{"Sec-Fetch-Site": "same-origin"}, 200},
			{"old browser, own Origin", map[string]string{"Origin": srv.URL}, 200},
			{"not a browser", nil, 200},
		}
		for _, tt := range tests {
			a := do(t, srv, call{method: "POST", path: "/api/v1/flows", cookie: cookie, header: tt.header})
			if a.status != tt.status {
				t.Errorf("%s: POST with a valid session = %d %s; want %d", tt.name, a.status, a.body, tt.status)
			}
		}
		// Sign-in itself is protected too (login CSRF).
		a := do(t, srv, call{method: "POST", path: "/api/v1/session", body: map[string]string{"name": "builder", "password": goodPassword},
			header: map[string]string{"Sec-Fetch-Site": "cross-site"}})
		if a.status != 403 || a.header.Get("Set-Cookie") != "" {
			t.Errorf("cross-site sign in: %d", a.status)
		}
	})
}

func TestHTTPUsers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		b.user(t, "root", RoleSuperAdmin, goodPassword)
		srv := b.server(t, false)
		root := signIn(t, srv, "root", goodPassword)

		a := do(t, srv, call{method: "POST", path: "/api/v1/users", cookie: root, body: map[string]string{"name": "Dana", "role": "issue_responder"}})
		pw, _ := a.json["password"].(string)
		if a.status != 201 || len(pw) != 26 {
			t.Fatalf("create user with a generated password: %d %s", a.status, a.body)
		}
		dana := signIn(t, srv, "dana", pw)
		a = do(t, srv, call{method: "POST", path: "/api/v1/users", cookie: root, body: map[string]string{"name": "erin", "role": "issue_viewer", "password": "erins own password"}})
		if a.status != 201 || a.json["password"] != nil {
			t.Errorf("create user with a chosen password: %d %s", a.status, a.body)
		}
		for _, tt := range []struct {
			body   map[string]string
			status int
			code   string
		}{
			{map[string]string{"name": "erin", "role": "issue_viewer"}, 409, "conflict"},
			{map[string]string{"name": "fay", "role": "owner"}, 400, "invalid"},
			{map[string]string{"name": "fay", "role": "issue_viewer", "password": "short"}, 400, "invalid"},
		} {
			if a := do(t, srv, call{method: "POST", path: "/api/v1/users", cookie: root, body: tt.body}); a.status != tt.status || a.errorCode() != tt.code {
				t.Errorf("create %v: %d %s", tt.body, a.status, a.body)
			}
		}
		list := do(t, srv, call{method: "GET", path: "/api/v1/users", cookie: root})
		if users, _ := list.json["users"].([]any); len(users) != 3 || strings.Contains(string(list.body), "argon2") {
			t.Errorf("list users: %s", list.body)
		}
		// Disable Dana by name: her session ends at once.
		a = do(t, srv, call{method: "PATCH", path: "/api/v1/users/dana", cookie: root, body: map[string]any{"disabled": true}})
		if a.status != 200 {
			t.Fatalf("disable: %d %s", a.status, a.body)
		}
		if a := do(t, srv, call{method: "GET", path: "/api/v1/me", cookie: dana}); a.status != 401 {
			t.Errorf("disabled user's session: %d", a.status)
		}
		if a := do(t, srv, call{method: "PATCH", path: "/api/v1/users/root", cookie: root, body: map[string]any{"role": "issue_viewer"}}); a.status != 400 {
			t.Errorf("demote the last super_admin: %d %s", a.status, a.body)
		}
		if a := do(t, srv, call{method: "PATCH", path: "/api/v1/users/nobody", cookie: root, body: map[string]any{"disabled": true}}); a.status != 404 {
			t.Errorf("update a missing user: %d %s", a.status, a.body)
		}
	})
}

// TestPasswordsNeverLogged runs every path that handles a password and
// checks that none of them reaches the log.
func TestPasswordsNeverLogged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		srv := b.server(t, false)
		secrets := []string{"root-secret-passphrase-1", "typo-secret-passphrase-2", "new-secret-passphrase-3", "viewer-secret-passphrase-4", "a-password-typed-as-a-name"}
		root := b.user(t, "root", RoleSuperAdmin, secrets[0])
		do(t, srv, call{method: "POST", path: "/api/v1/session", body: map[string]string{"name": "root", "password": secrets[1]}})
		do(t, srv, call{method: "POST", path: "/api/v1/session", body: map[string]string{"name": secrets[4], "password": secrets[1]}})
		cookie := signIn(t, srv, "root", secrets[0])
		do(t, srv, call{method: "POST", path: "/api/v1/users", cookie: cookie, body: map[string]string{"name": "v", "role": "issue_viewer", "password": secrets[3]}})
		do(t, srv, call{method: "POST", path: "/api/v1/users", cookie: cookie, body: map[string]string{"name": "w", "role": "issue_viewer", "password": "short"}})
		do(t, srv, call{method: "PATCH", path: "/api/v1/users/" + root.ID, cookie: cookie, body: map[string]string{"password": secrets[2]}})
		tok := do(t, srv, call{method: "POST", path: "/api/v1/tokens", cookie: signIn(t, srv, "root", secrets[2]), body: map[string]string{"name": "ci"}})
		raw, _ := tok.json["token"].(string)
		do(t, srv, call{method: "GET", path: "/api/v1/me", bearer: "Bearer " + raw})
		for range 6 {
			b.svc.Login(b.ctx, "v", secrets[1], "203.0.113.5")
		}
		logs := b.logs.String()
		if !strings.Contains(logs, "signed in") || !strings.Contains(logs, "sign-in failed") {
			t.Fatalf("the log misses sign-in events:\n%s", logs)
		}
		for _, s := range append(secrets, "short", raw, raw[len(TokenPrefix):], cookie.Value) {
			if strings.Contains(logs, s) {
				t.Errorf("the log contains the secret %q:\n%s", s, logs)
			}
		}
	})
}

func TestHTTPChangeOwnPassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		u := b.user(t, "viewer", RoleIssueViewer, goodPassword)
		srv := b.server(t, false)
		other := signIn(t, srv, "viewer", goodPassword)
		cookie := signIn(t, srv, "viewer", goodPassword)
		_, raw, _ := b.svc.CreateToken(b.ctx, u.ID, "ci", 0)
		const next = "a brand new passphrase"
		tests := []struct {
			name   string
			c      call
			status int
		}{
			{"with a token", call{bearer: "Bearer " + raw, body: map[string]string{"currentPassword": goodPassword, "newPassword": next}}, 403},
			{"wrong current password", call{cookie: cookie, body: map[string]string{"currentPassword": "not it at all", "newPassword": next}}, 400},
			{"weak new password", call{cookie: cookie, body: map[string]string{"currentPassword": goodPassword, "newPassword": "short"}}, 400},
			{"right", call{cookie: cookie, body: map[string]string{"currentPassword": goodPassword, "newPassword": next}}, 204},
		}
		var a answer
		for _, tt := range tests {
			tt.c.method, tt.c.path = "PUT", "/api/v1/me/password"
			if a = do(t, srv, tt.c); a.status != tt.status {
				t.Errorf("%s: %d %s; want %d", tt.name, a.status, a.body, tt.status)
			}
		}
		// The answer carries a fresh session; every older one has ended.
		fresh := (&http.Response{Header: a.header}).Cookies()
		if len(fresh) != 1 || do(t, srv, call{method: "GET", path: "/api/v1/me", cookie: fresh[0]}).status != 200 {
			t.Fatalf("no working session after the change: %v", fresh)
		}
		for _, c := range []*http.Cookie{cookie, other} {
			if a := do(t, srv, call{method: "GET", path: "/api/v1/me", cookie: c}); a.status != 401 {
				t.Errorf("an old session survived the password change: %d", a.status)
			}
		}
		signIn(t, srv, "viewer", next)
	})
}
