package app_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/app/apptest"
	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/hooks"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
	"github.com/vigil-ispm/vigil/internal/posture/source"
	"github.com/vigil-ispm/vigil/internal/posture/synth"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// accessWorld is a running server with, for every role, a user, an API
// token and a way to start sessions, plus the credentials a caller must
// never get through with: an expired session, a disabled user's session,
// a revoked and an unknown API token.
type accessWorld struct {
	t   *testing.T
	url string
	srv *app.Server
	// st is a second connection to the server's database, for the
	// fingerprint and for sessions started in the past.
	st     *store.Store
	past   *auth.Service
	users  map[auth.Role]*auth.User
	tokens map[auth.Role]string
	// disabled is a disabled super admin; its sessions start as if begun
	// before it was disabled.
	disabled *auth.User
	revoked  string
	// alias and clientToken are the API endpoint of an invocable flow.
	alias, clientToken string
	metricsToken       string
	// password is the password of every user the matrix creates.
	password string
	// objects names a real object of each collection, by the path segment
	// before its parameter ("flows" in /api/v1/flows/{id}), so that a
	// refused write has something to change.
	objects map[string]string
	// sessions are the sessions started so far, by user id.
	sessions map[string]string
}

const accessMetricsToken = "metrics-token-for-the-access-matrix"

func newAccessWorld(t *testing.T, dialect string) *accessWorld {
	t.Helper()
	dir := t.TempDir()
	dbURL := storetest.DatabaseURL(t, dialect)
	if dbURL == "" {
		dbURL = "sqlite://" + filepath.Join(dir, "vigil.db")
	}
	w := &accessWorld{t: t, users: map[auth.Role]*auth.User{}, tokens: map[auth.Role]string{}, metricsToken: accessMetricsToken,
		password: auth.GeneratePassword(), objects: map[string]string{}, sessions: map[string]string{}}
	r := startNode(t, dbURL, "", func(ctx context.Context, srv *app.Server) {
		svc := srv.Services()
		st, err := store.Open(ctx, store.Config{URL: dbURL})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		w.st = st
		w.past = auth.New(st, auth.Config{Now: func() time.Time { return time.Now().Add(-72 * time.Hour) }})
		// Users are made with a cheap password hash, so that setting up
		// costs no second; the one signing in is re-hashed by the server.
		cheap := auth.New(st, auth.Config{Hash: auth.HashParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}})
		for _, role := range auth.Roles() {
			u, err := cheap.CreateUser(ctx, "matrix-"+strings.ReplaceAll(string(role), "_", "-"), role, w.password)
			if err != nil {
				t.Fatal(err)
			}
			w.users[role] = u
			if _, w.tokens[role], err = svc.Auth.CreateToken(ctx, u.ID, "matrix", time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		tok, raw, err := svc.Auth.CreateToken(ctx, w.users[auth.RoleSuperAdmin].ID, "revoked", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Auth.RevokeToken(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		w.revoked = raw
		if w.disabled, err = cheap.CreateUser(ctx, "matrix-disabled", auth.RoleSuperAdmin, auth.GeneratePassword()); err != nil {
			t.Fatal(err)
		}
		off := true
		if _, err := svc.Auth.UpdateUser(ctx, w.disabled.ID, auth.UserUpdate{Disabled: &off}); err != nil {
			t.Fatal(err)
		}
		folder, err := svc.Flows.CreateFolder(ctx, "Matrix", "")
		if err != nil {
			t.Fatal(err)
		}
		doc := `document: {dsl: '1.0.0', namespace: matrix, name: echo, version: '1.0.0', title: Echo,
  metadata: {vigil: {trigger: {apiEndpoint: {security: clientToken}}}}}
do:
  - echo: {set: {ok: true}}
`
		ef := apptest.SaveEndpointFlow(ctx, t, svc, folder.ID, doc)
		w.alias, w.clientToken = ef.Alias, ef.Token
		w.addObjects(ctx, svc, cheap, folder.ID, filepath.Join(dir, "snapshots"))
	}, func(c *app.Config) { c.DataDir = dir; c.MetricsToken = accessMetricsToken })
	w.url, w.srv = r.url, r.srv
	return w
}

// addObjects makes one object of each kind the routes change, each
// reached by no cell's own credentials: a scanned source with its issues
// and identities, a flow (not the one invoked), a hook, a connection, and
// a user with an API token.
func (w *accessWorld) addObjects(ctx context.Context, svc *app.Services, users *auth.Service, folderID, snapDir string) {
	t := w.t
	if err := os.MkdirAll(snapDir, 0o700); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := synth.WriteSnapshot(&buf, 20, 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(snapDir, "org.json")
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Sources.Add(ctx, source.Input{Name: "org", Kind: source.KindSnapshot, Settings: source.Settings{File: file}}); err != nil {
		t.Fatal(err)
	}
	scan, err := svc.Sources.Scan(ctx, source.ScanOptions{Trigger: source.TriggerCLI})
	if err != nil {
		t.Fatal(err)
	}
	page, err := svc.Issues.List(ctx, issue.Filter{})
	if err != nil || len(page.Issues) == 0 {
		t.Fatalf("the scan raised no issue: %v", err)
	}
	doc := `document: {dsl: '1.0.0', namespace: matrix, name: target, version: '1.0.0', title: Target}
do:
  - nothing: {set: {ok: true}}
`
	res, err := svc.Flows.SaveFlow(ctx, flows.SaveParams{FolderID: folderID, Document: []byte(doc)})
	if err != nil {
		t.Fatal(err)
	}
	hook, _, err := svc.Hooks.Create(ctx, hooks.Input{Name: "matrix", URL: "http://127.0.0.1:9/hook"})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := svc.Connections.Create(ctx, connection.Input{Name: "matrix", Kind: "http",
		Fields: map[string]string{"baseUrl": "http://127.0.0.1:9", "auth": "apiKey", "headerName": "X-Api-Key", "apiKey": "k-123456789"}})
	if err != nil {
		t.Fatal(err)
	}
	victim, err := users.CreateUser(ctx, "matrix-victim", auth.RoleIssueViewer, auth.GeneratePassword())
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := svc.Auth.CreateToken(ctx, victim.ID, "victim", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	w.objects = map[string]string{
		"issues": page.Issues[0].ID, "sources": "org", "scans": scan.ID,
		"folders": folderID, "flows": res.Flow.ID,
		"hooks": hook.ID, "integrations": hook.ID, "connections": conn.Name,
		"users": victim.ID, "tokens": tok.ID,
	}
}

// fill puts real objects' ids in a path's parameters, "x" where the
// matrix has none.
func (w *accessWorld) fill(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if !strings.HasPrefix(p, "{") {
			continue
		}
		switch p {
		case "{alias}":
			parts[i] = w.alias
		case "{version}":
			parts[i] = "1"
		case "{decision}":
			parts[i] = "approve"
		default:
			parts[i] = cmp.Or(w.objects[parts[i-1]], "x")
		}
	}
	return strings.Join(parts, "/")
}

// session returns a session of u, started on first use and kept until a
// call to an open route (signing in or out) may have ended it.
func (w *accessWorld) session(u *auth.User) string {
	w.t.Helper()
	if tok, ok := w.sessions[u.ID]; ok {
		return tok
	}
	tok, _, err := w.srv.Services().Auth.StartSession(context.Background(), u)
	if err != nil {
		w.t.Fatal(err)
	}
	w.sessions[u.ID] = tok
	return tok
}

// expiredSession returns the token of a super admin's session that began
// three days ago and has been idle since.
func (w *accessWorld) expiredSession() string {
	w.t.Helper()
	tok, _, err := w.past.StartSession(context.Background(), w.users[auth.RoleSuperAdmin])
	if err != nil {
		w.t.Fatal(err)
	}
	return tok
}

// accessCell is one kind of caller.
type accessCell struct {
	name string
	// role is the caller's role when the credentials are good, "" otherwise.
	role auth.Role
	// own is set for the caller that holds a route's own credential.
	own bool
	// crossOrigin marks a browser request from another site.
	crossOrigin bool
	// token marks a caller signed in by an API token.
	token bool
	// prepare sets the credentials on a request; it runs just before the
	// request, so that sessions are fresh for every cell.
	prepare func(w *accessWorld, req *http.Request)
}

func cookie(token string) func(*accessWorld, *http.Request) {
	return func(_ *accessWorld, req *http.Request) {
		req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: token})
	}
}

func bearer(token string) func(*accessWorld, *http.Request) {
	return func(_ *accessWorld, req *http.Request) { req.Header.Set("Authorization", "Bearer "+token) }
}

// cells lists every caller a route is tried with: one per role and way of
// signing in, and those that must always be refused.
func (w *accessWorld) cells(rq accessRequest) []accessCell {
	method, pattern := rq.method, rq.pattern
	out := []accessCell{
		{name: "no credentials", prepare: func(*accessWorld, *http.Request) {}},
		{name: "expired session", prepare: func(w *accessWorld, req *http.Request) { cookie(w.expiredSession())(w, req) }},
		{name: "disabled user's session", prepare: func(w *accessWorld, req *http.Request) { cookie(w.session(w.disabled))(w, req) }},
		{name: "unknown session", prepare: cookie(strings.Repeat("a", 52))},
		{name: "revoked API token", token: true, prepare: bearer(w.revoked)},
		{name: "unknown API token", token: true, prepare: bearer(flip(w.revoked))},
		{name: "malformed API token", token: true, prepare: bearer("not-a-token")},
	}
	roles := auth.Roles()
	if rq.perm == auth.Anyone {
		// An open route answers every caller alike; one role is enough to
		// show that credentials do not get in the way (signing in hashes a
		// password per call).
		roles = roles[:1]
	}
	for _, role := range roles {
		u, token := w.users[role], w.tokens[role]
		out = append(out,
			accessCell{name: string(role) + " session", role: role, prepare: func(w *accessWorld, req *http.Request) {
				cookie(w.session(u))(w, req)
				req.Header.Set("Sec-Fetch-Site", "same-origin")
			}},
			accessCell{name: string(role) + " API token", role: role, token: true, prepare: bearer(token)})
	}
	if !safeMethod(method) {
		admin := w.users[auth.RoleSuperAdmin]
		out = append(out,
			accessCell{name: "cross-site super_admin session", role: auth.RoleSuperAdmin, crossOrigin: true,
				prepare: func(w *accessWorld, req *http.Request) {
					cookie(w.session(admin))(w, req)
					req.Header.Set("Sec-Fetch-Site", "cross-site")
					req.Header.Set("Origin", "https://attacker.example")
				}},
			accessCell{name: "foreign Origin super_admin session", role: auth.RoleSuperAdmin, crossOrigin: true,
				prepare: func(w *accessWorld, req *http.Request) {
					cookie(w.session(admin))(w, req)
					req.Header.Set("Origin", "https://attacker.example")
				}})
	}
	switch pattern {
	case "GET /metrics":
		out = append(out, accessCell{name: "metrics token", own: true, prepare: bearer(w.metricsToken)})
	case "/api/flo/{alias}/invoke":
		out = append(out, accessCell{name: "client token", own: true, prepare: func(w *accessWorld, req *http.Request) {
			req.Header.Set("X-Api-Client-Token", w.clientToken)
		}})
	}
	return out
}

// flip changes the last character of a token, keeping its form.
func flip(token string) string {
	last := "a"
	if strings.HasSuffix(token, "a") {
		last = "b"
	}
	return token[:len(token)-1] + last
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// allowed is the matrix's answer, from the route's declared requirement
// and the role table of internal/auth alone.
func allowed(rq accessRequest, c accessCell) bool {
	if c.crossOrigin && !strings.HasPrefix(rq.path, "/api/flo/") {
		return false
	}
	if rq.sessionOnly && c.token {
		return false
	}
	switch rq.perm {
	case auth.Anyone:
		return true
	case auth.OwnCredential:
		return c.own
	}
	return c.role != "" && c.role.Can(rq.perm)
}

// accessRequest is one route of the matrix, ready to call.
type accessRequest struct {
	method, pattern, path string
	perm                  auth.Permission
	// sessionOnly is set for a route API tokens may not use.
	sessionOnly bool
}

// matrixRoutes lists what the matrix calls: every route the server serves
// except the console's pages (GET, which change nothing and are covered
// by the console's own tests), each with its declared requirement. A
// route that declares none fails the test.
func (w *accessWorld) matrixRoutes(t *testing.T) []accessRequest {
	var out []accessRequest
	for _, rt := range w.srv.Routes() {
		method, path, ok := strings.Cut(rt.Pattern, " ")
		methods := []string{method}
		if !ok {
			path, methods = rt.Pattern, []string{http.MethodGet, http.MethodPost}
		}
		for _, m := range methods {
			perm, declared := auth.Requirement(rt.Handler, m)
			if !declared {
				t.Errorf("%s declares no permission; register it behind auth.Require…, auth.Open or auth.WithOwnCredential", rt.Pattern)
				continue
			}
			if safeMethod(m) && !strings.HasPrefix(path, "/api/") && path != "/metrics" {
				continue
			}
			out = append(out, accessRequest{method: m, pattern: rt.Pattern, path: w.fill(path), perm: perm,
				sessionOnly: auth.IsSessionOnly(rt.Handler)})
		}
	}
	return out
}

// mustBeSessionOnly are the routes that create an API token or change a
// password: a leaked token must not outlive its revocation or lock its
// owner out, so they refuse tokens in the API and in the console alike.
var mustBeSessionOnly = []string{
	"POST /api/v1/tokens", "PUT /api/v1/me/password",
	"POST /admin/tokens", "POST /admin/password",
}

// call sends one request of the matrix and returns its status, its
// Location and body.
func (w *accessWorld) call(rq accessRequest, c accessCell) (int, string, string) {
	w.t.Helper()
	var body io.Reader
	req, err := http.NewRequest(rq.method, w.url+rq.path, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	if !safeMethod(rq.method) {
		if strings.HasPrefix(rq.path, "/api/") {
			body = strings.NewReader(cmp.Or(w.bodies()[rq.pattern], `{}`))
			req.Header.Set("Content-Type", "application/json")
		} else {
			body = strings.NewReader(w.bodies()[rq.pattern])
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.Body = io.NopCloser(body)
	}
	c.prepare(w, req)
	resp, err := noRedirects.Do(req)
	if err != nil {
		w.t.Fatalf("%s %s as %s: %v", rq.method, rq.path, c.name, err)
	}
	if rq.perm == auth.Anyone {
		clear(w.sessions)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// bodies are the request bodies of the routes that answer an empty one in
// a way the matrix would take for a refusal: signing in with no
// credentials is a 401 of the sign-in itself.
func (w *accessWorld) bodies() map[string]string {
	viewer := w.users[auth.RoleIssueViewer].Name
	return map[string]string{
		"POST /api/v1/session": `{"name": "` + viewer + `", "password": "` + w.password + `"}`,
		"POST /login":          url.Values{"username": {viewer}, "password": {w.password}}.Encode(),
	}
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// refused tells a refusal by the access checks: 401, 403, or the
// console's redirect to the sign-in page, which names the page to return to.
func refused(status int, location string) bool {
	return status == http.StatusUnauthorized || status == http.StatusForbidden ||
		status == http.StatusSeeOther && strings.HasPrefix(location, auth.LoginPath+"?next=")
}

// TestAccessMatrix calls every route the server serves as every role
// (with a session and with an API token) and as every caller that must be
// refused (nobody, an expired session, a disabled user, revoked, unknown
// and malformed API tokens, a request from another site), and checks each
// answer against the route's declared permission and the role table of
// internal/auth: allowed cells are not refused, refused cells answer 401,
// 403 or the sign-in redirect and leave the database as it was.

func TestAccessMatrix(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newAccessWorld(t, dialect)
		routes := w.matrixRoutes(t)
		if len(routes) < 100 {
			t.Fatalf("the matrix found only %d routes", len(routes))
		}
		for _, pattern := range mustBeSessionOnly {
			if !slices.ContainsFunc(routes, func(rq accessRequest) bool { return rq.pattern == pattern && rq.sessionOnly }) {
				t.Errorf("%s is not registered behind auth.SessionOnly", pattern)
			}
		}
		// Refused cells first, while nothing the allowed ones start can
		// change the database behind the fingerprint.
		before := w.fingerprint()
		for _, rq := range routes {
			for _, c := range w.cells(rq) {
				if allowed(rq, c) {
					continue
				}
				if status, loc, body := w.call(rq, c); !refused(status, loc) {
					t.Errorf("%s %s (%s) as %s: %d %s %.200q; want it refused", rq.method, rq.path, rq.perm, c.name, status, loc, body)
				}
			}
			after := w.fingerprint()
			if !maps.Equal(before, after) {
				t.Errorf("%s %s: refused calls changed %v", rq.method, rq.path, changed(before, after))
			}
			before = after
		}
		for _, rq := range routes {
			for _, c := range w.cells(rq) {
				if !allowed(rq, c) {
					continue
				}
				if status, loc, body := w.call(rq, c); refused(status, loc) || status == http.StatusNotFound && rq.perm == auth.OwnCredential {
					t.Errorf("%s %s (%s) as %s: %d %s %.200q; the role table allows it", rq.method, rq.path, rq.perm, c.name, status, loc, body)
				}
			}
		}
	})
}

// volatile are tables whose rows change without anything a caller asked
// for: an API token's last use, which a refused call may touch, and the
// node's heartbeat, which the server writes every few seconds; only their
// row count counts.
var volatile = []string{"vigil_api_token", "vigil_node"}

// unrelated are tables the matrix itself or the server's own upkeep
// changes: sessions (started for each cell, deleted when found expired),
// sign-in throttling, and the owners of ended leases the recovery loop
// prunes.
var unrelated = []string{"vigil_session", "vigil_login_throttle", "vigil_lease_owner"}

// fingerprint is a hash of every Vigil table's rows, and the row count of
// the volatile ones.
func (w *accessWorld) fingerprint() map[string]string {
	w.t.Helper()
	ctx := context.Background()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'vigil\_%' ESCAPE '\'`
	if w.st.Dialect() == store.Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name LIKE 'vigil\_%'`
	}
	names, err := queryStrings(ctx, w.st.DB(), q)
	if err != nil {
		w.t.Fatal(err)
	}
	if len(names) < 20 {
		w.t.Fatalf("the fingerprint found only these tables: %v", names)
	}
	out := map[string]string{}
	for _, name := range names {
		if slices.Contains(unrelated, name) {
			continue
		}
		if slices.Contains(volatile, name) {
			var n int
			if err := w.st.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM "+name).Scan(&n); err != nil {
				w.t.Fatal(err)
			}
			out[name] = fmt.Sprint(n, " rows")
			continue
		}
		rows, err := w.st.DB().QueryContext(ctx, "SELECT * FROM "+name)
		if err != nil {
			w.t.Fatal(err)
		}
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				w.t.Fatal(err)
			}
			lines = append(lines, fmt.Sprint(vals...))
		}
		if err := rows.Err(); err != nil {
			w.t.Fatal(err)
		}
		rows.Close()
		slices.Sort(lines)
		sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
		out[name] = fmt.Sprint(len(lines), " rows ", hex.EncodeToString(sum[:8]))
	}
	return out
}

func queryStrings(ctx context.Context, db *sql.DB, q string) ([]string, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func changed(before, after map[string]string) []string {
	var out []string
	for k, v := range after {
		if before[k] != v {
			out = append(out, fmt.Sprintf("%s (%s → %s)", k, before[k], v))
		}
	}
	slices.Sort(out)
	return out
}

// The "Who can do what" table of docs/security.md lies between these
// lines; TestAccessDoc checks it against the route table.
const (
	accessDocBegin = "<!-- access table: generated from the route table, checked by TestAccessDoc -->"
	accessDocEnd   = "<!-- end of access table -->"
)

// TestAccessDoc checks that docs/security.md lists every route the
// server serves under the permission it declares, with the roles that
// hold it, exactly as the route table says.
func TestAccessDoc(t *testing.T) {
	r := start(t, "sqlite", nil)
	want := accessTable(r.srv.Routes())
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "security.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), accessDocBegin+"\n")
	got, _, ok2 := strings.Cut(rest, accessDocEnd)
	if !ok || !ok2 {
		t.Fatalf("docs/security.md has no access table between %q and %q; it should read:\n%s", accessDocBegin, accessDocEnd, want)
	}
	if got != want {
		t.Errorf("the access table of docs/security.md differs from the route table; it should read:\n%s", want)
	}
}

// accessTable renders routes as a Markdown table, one row per
// requirement: who holds it and which routes need it.
func accessTable(routes []auth.Route) string {
	byPerm := map[auth.Permission][]string{}
	for _, rt := range routes {
		method, path, ok := strings.Cut(rt.Pattern, " ")
		if !ok {
			method, path = "", rt.Pattern
		}
		perm, declared := auth.Requirement(rt.Handler, cmp.Or(method, http.MethodGet))
		if !declared {
			perm = "(none declared)"
		}
		entry := "`" + strings.TrimSpace(method+" "+path) + "`"
		if auth.IsSessionOnly(rt.Handler) {
			entry += " (session only)"
		}
		byPerm[perm] = append(byPerm[perm], entry)
	}
	order := append(append([]auth.Permission{auth.Anyone}, auth.AllPermissions()...), auth.OwnCredential, "(none declared)")
	var sb strings.Builder
	sb.WriteString("| permission | who has it | routes |\n|---|---|---|\n")
	for _, perm := range order {
		entries := byPerm[perm]
		if len(entries) == 0 {
			continue
		}
		var who string
		switch perm {
		case auth.Anyone:
			who = "everyone, signed in or not"
		case auth.OwnCredential:
			who = "no role: the caller of the route's own credential"
		default:
			var roles []string
			for _, role := range auth.Roles() {
				if role.Can(perm) {
					roles = append(roles, "`"+string(role)+"`")
				}
			}
			who = cmp.Or(strings.Join(roles, ", "), "no role")
		}
		fmt.Fprintf(&sb, "| `%s` | %s | %s |\n", perm, who, strings.Join(entries, ", "))
	}
	return sb.String()
}
