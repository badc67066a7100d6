package auth

import (
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// ssoEnv is a Vigil server with single sign-on enabled against a fake
// provider, both on loopback.
type ssoEnv struct {
	*testBundle
	idp *fakeIdP
	srv *httptest.Server
}

// testGroupRoles is the mapping of the tests' provider groups.
var testGroupRoles = GroupRoles{"Okta Admins": RoleSuperAdmin, "SecOps": RoleIssueResponder, "Auditors": RoleIssueViewer}

// loopbackClient reaches the fake provider the way the server reaches a
// provider on an allowed network: through netguard.
func loopbackClient() *http.Client {
	return netguard.NewClient(netguard.Config{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
}

func newSSOEnv(t *testing.T, st *store.Store, mod func(*OIDCConfig)) *ssoEnv {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	publicURL := "http://" + srv.Listener.Addr().String()
	b := setup(t, st, func(c *Config) { c.PublicURL = publicURL })
	idp := newFakeIdP(t, b.clock.Now)
	idp.set(func(p *fakeIdP) { p.redirectURI = publicURL + OIDCCallbackPath })
	cfg := OIDCConfig{Issuer: idp.srv.URL, ClientID: idp.clientID, ClientSecret: idp.clientSecret,
		GroupRoles: testGroupRoles, HTTPClient: loopbackClient()}
	if mod != nil {
		mod(&cfg)
	}
	if err := b.svc.EnableOIDC(b.ctx, cfg); err != nil {
		t.Fatalf("enable single sign-on: %v", err)
	}
	mux := http.NewServeMux()
	b.svc.Register(mux)
	srv.Config.Handler = http.NewCrossOriginProtection().Handler(b.svc.Authenticate(mux))
	srv.Start()
	t.Cleanup(srv.Close)
	return &ssoEnv{testBundle: b, idp: idp, srv: srv}
}

// ssoOpts change a sign-in on its way, as an attacker or a slow person would.
type ssoOpts struct {
	// state replaces the state the provider sends back.
	state string
	// providerError replaces the provider's answer with this error code.
	providerError string
	// noFlowCookie drops the flow cookie before the callback.
	noFlowCookie bool
	// wait passes between leaving for the provider and coming back.
	wait time.Duration
	// session is a session cookie the browser has already.
	session *http.Cookie
}

// ssoAnswer is the callback's answer.
type ssoAnswer struct {
	status   int
	location string
	body     string
	session  *http.Cookie
	// secrets are values of the flow that must never be logged.
	secrets []string
}

// noRedirects is a browser that lets the test look at each hop.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(t *testing.T, rawURL string, cookies ...*http.Cookie) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cookies {
		if c != nil {
			req.AddCookie(c)
		}
	}
	res, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func cookieNamed(res *http.Response, name string) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// signIn walks a browser through single sign-on: the login route, the
// provider, and back to the callback.
func (e *ssoEnv) signIn(t *testing.T, o ssoOpts) ssoAnswer {
	t.Helper()
	res := get(t, e.srv.URL+OIDCLoginPath) //nolint:bodyclose // get closes the body
	if res.StatusCode != http.StatusFound {
		t.Fatalf("login route: %d, want 302", res.StatusCode)
	}
	flow := cookieNamed(res, OIDCFlowCookie)
	if flow == nil {
		t.Fatal("the login route set no flow cookie")
	}
	at := get(t, res.Header.Get("Location")) //nolint:bodyclose // get closes the body
	if at.StatusCode != http.StatusFound {
		t.Fatalf("the provider refused the authorization request: %d", at.StatusCode)
	}
	back, err := url.Parse(at.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := back.Query()
	secrets := append(strings.Split(flow.Value, ".")[:3], q.Get("code"))
	if o.state != "" {
		q.Set("state", o.state)
	}
	if o.providerError != "" {
		q = url.Values{"error": {o.providerError}, "state": {q.Get("state")}}
	}
	back.RawQuery = q.Encode()
	e.clock.Add(o.wait)
	if o.noFlowCookie {
		flow = nil
	}
	req, _ := http.NewRequest("GET", back.String(), nil)
	for _, c := range []*http.Cookie{flow, o.session} {
		if c != nil {
			req.AddCookie(c)
		}
	}
	cb, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Body.Close()
	body, _ := io.ReadAll(cb.Body)
	a := ssoAnswer{status: cb.StatusCode, location: cb.Header.Get("Location"), body: string(body), secrets: secrets}
	if c := cookieNamed(cb, SessionCookie); c != nil && c.Value != "" {
		a.session = c
	}
	if c := cookieNamed(cb, OIDCFlowCookie); c == nil || c.MaxAge >= 0 {
		t.Errorf("the callback did not clear the flow cookie: %v", c)
	}
	return a
}

// me answers GET /api/v1/me with a session cookie.
func (e *ssoEnv) me(t *testing.T, c *http.Cookie) answer {
	t.Helper()
	return do(t, e.srv, call{method: "GET", path: "/api/v1/me", cookie: c})
}

// checkLogs fails when a secret of the flow reached the log.
func (e *ssoEnv) checkLogs(t *testing.T, a ssoAnswer) {
	t.Helper()
	logs := e.logs.String()
	e.idp.mu.Lock()
	secrets := append([]string{e.idp.clientSecret}, e.idp.issued...)
	e.idp.mu.Unlock()
	secrets = append(secrets, a.secrets...)
	if a.session != nil {
		secrets = append(secrets, a.session.Value)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("a secret of the sign-in reached the log (%.8s…):\n%s", s, logs)
		}
	}
}

func TestOIDCSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		tests := []struct {
			name   string
			claims map[string]any
			cfg    func(*OIDCConfig)
			// before runs after the environment is built, before signing in.
			before func(t *testing.T, e *ssoEnv)
			opts   ssoOpts
			// wantUser and wantRole describe a successful sign-in; empty
			// wantRole means it must be refused with wantStatus and wantMsg.
			wantUser   string
			wantRole   Role
			wantStatus int
			wantMsg    string
			// wantLog is part of the logged reason of a refusal.
			wantLog string
		}{{
			name:     "mapped group creates the user",
			claims:   map[string]any{"sub": "00u1", "email": "Ana.Admin@Example.com", "email_verified": true, "groups": []string{"Everyone", "Okta Admins", "SecOps"}},
			wantUser: "ana.admin@example.com", wantRole: RoleSuperAdmin,
		}, {
			name:     "preferred_username when there is no e-mail",
			claims:   map[string]any{"sub": "00u2", "preferred_username": "bo.responder", "groups": []string{"SecOps"}},
			wantUser: "bo.responder", wantRole: RoleIssueResponder,
		}, {
			name:     "a single group as a string and a custom claim",
			claims:   map[string]any{"sub": "00u3", "email": "cy@example.com", "vigil_groups": "Auditors", "groups": []string{"Okta Admins"}},
			cfg:      func(c *OIDCConfig) { c.GroupsClaim = "vigil_groups" },
			wantUser: "cy@example.com", wantRole: RoleIssueViewer,
		}, {
			name:   "an existing local user is found and given the mapped role",
			claims: map[string]any{"sub": "00u4", "email": "dee@example.com", "groups": []string{"SecOps"}},
			before: func(t *testing.T, e *ssoEnv) {
				e.user(t, "dee@example.com", RoleIssueViewer, goodPassword)
			},
			wantUser: "dee@example.com", wantRole: RoleIssueResponder,
		}, {
			name:       "no mapped group",
			claims:     map[string]any{"sub": "00u5", "email": "eve@example.com", "groups": []string{"Marketing"}},
			wantUser:   "eve@example.com",
			wantStatus: http.StatusForbidden, wantMsg: msgNoRole,
			wantLog: "no group maps to a role",
		}, {
			name:       "no groups claim",
			claims:     map[string]any{"sub": "00u6", "email": "fay@example.com"},
			wantUser:   "fay@example.com",
			wantStatus: http.StatusForbidden, wantMsg: msgNoRole,
			wantLog: "no group maps to a role",
		}, {
			name:       "wrong state",
			claims:     map[string]any{"sub": "00u7", "email": "gus@example.com", "groups": []string{"SecOps"}},
			opts:       ssoOpts{state: strings.Repeat("a", 52)},
			wantUser:   "gus@example.com",
			wantStatus: http.StatusBadRequest, wantMsg: msgFlowExpired,
			wantLog: "state does not match",
		}, {
			name:       "no flow cookie",
			claims:     map[string]any{"sub": "00u8", "email": "hal@example.com", "groups": []string{"SecOps"}},
			opts:       ssoOpts{noFlowCookie: true},
			wantUser:   "hal@example.com",
			wantStatus: http.StatusBadRequest, wantMsg: msgFlowExpired,
			wantLog: "flow cookie missing",
		}, {
			name:       "back after the flow expired",
			claims:     map[string]any{"sub": "00u9", "email": "ida@example.com", "groups": []string{"SecOps"}},
			opts:       ssoOpts{wait: 11 * time.Minute},
			wantUser:   "ida@example.com",
			wantStatus: http.StatusBadRequest, wantMsg: msgFlowExpired,
			wantLog: "started too long ago",
		}, {
			name:       "the provider answers with an error",
			claims:     map[string]any{"sub": "00u10", "email": "jo@example.com", "groups": []string{"SecOps"}},
			opts:       ssoOpts{providerError: "access_denied"},
			wantUser:   "jo@example.com",
			wantStatus: http.StatusForbidden, wantMsg: msgProviderSaid,
			wantLog: "answered access_denied",
		}, {
			name:   "wrong nonce",
			claims: map[string]any{"sub": "00u11", "email": "kai@example.com", "groups": []string{"SecOps"}},
			before: func(t *testing.T, e *ssoEnv) {
				e.idp.set(func(p *fakeIdP) { p.tweak = func(c map[string]any) { c["nonce"] = "not-the-nonce-of-this-sign-in" } })
			},
			wantUser:   "kai@example.com",
			wantStatus: http.StatusForbidden, wantMsg: msgUnverified,
			wantLog: "nonce does not match",
		}, {
			name:   "ID token for another audience",
			claims: map[string]any{"sub": "00u12", "email": "lu@example.com", "groups": []string{"SecOps"}},
			before: func(t *testing.T, e *ssoEnv) {
				e.idp.set(func(p *fakeIdP) { p.tweak = func(c map[string]any) { c["aud"] = "another-client" } })
			},
			wantUser:   "lu@example.com",
			wantStatus: http.StatusForbidden, wantMsg: msgUnverified,
			wantLog: "expected audience",
		}, {
			name:   "ID token from another issuer",
			claims: map[string]any{"sub": "00u13", "email": "max@example.com", "groups": []string{"SecOps"}},
			before: func(t *testing.T, e *ssoEnv) {
				e.idp.set(func(p *fakeIdP) { p.tweak = func(c map[string]any) { c["iss"] = "https://attacker.example.com" } })
			},
			wantUser:   "max@example.com",
			wantStatus: http.StatusForbidden, wantMsg: msgUnverified,
			wantLog: "issued by a different provider",
		}, {
			name:   "expired ID token",
			claims: map[string]any{"sub": "00u14", "email": "ned@example.com", "groups": []string{"SecOps"}},
			before: func(t *testing.T, e *ssoEnv) {
				now := e.clock.Now()
				e.idp.set(func(p *fakeIdP) {
					p.tweak = func(c map[string]any) {
						c["iat"], c["exp"] = now.Add(-10*time.Minute).Unix(), now.Add(-time.Minute).Unix()
					}
				})
			},
			wantUser:   "ned@example.com",
			wantStatus: http.StatusForbidden, wantMsg: msgUnverified,
			wantLog: "token is expired",
		}, {
			name:       "ID token signed by another key",
			claims:     map[string]any{"sub": "00u15", "email": "oz@example.com", "groups": []string{"Okta Admins"}},
			before:     func(t *testing.T, e *ssoEnv) { e.idp.set(func(p *fakeIdP) { p.signer = testKeys()[1] }) },
			wantUser:   "oz@example.com",
			wantStatus: http.StatusForbidden, wantMsg: msgUnverified,
			wantLog: "failed to verify signature",
		}, {
			name:       "unverified e-mail address",
			claims:     map[string]any{"sub": "00u16", "email": "pia@example.com", "email_verified": false, "groups": []string{"SecOps"}},
			wantUser:   "pia@example.com",
			wantStatus: http.StatusForbidden, wantMsg: msgNoName,
			wantLog: "not verified",
		}, {
			name:       "an e-mail address that is no valid user name",
			claims:     map[string]any{"sub": "00u17", "email": "quinn o'hara@example.com", "groups": []string{"SecOps"}},
			wantUser:   "quinn o'hara@example.com",
			wantStatus: http.StatusForbidden, wantMsg: msgNoName,
			wantLog: "not a valid user name",
		}, {
			name:   "disabled local user",
			claims: map[string]any{"sub": "00u18", "email": "rex@example.com", "groups": []string{"SecOps"}},
			before: func(t *testing.T, e *ssoEnv) {
				u := e.user(t, "rex@example.com", RoleIssueResponder, goodPassword)
				yes := true
				if _, err := e.svc.UpdateUser(e.ctx, u.ID, UserUpdate{Disabled: &yes}); err != nil {
					t.Fatal(err)
				}
			},
			wantUser:   "rex@example.com",
			wantStatus: http.StatusForbidden, wantMsg: msgDisabled,
			wantLog: "disabled in Vigil",
		}}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e := newSSOEnv(t, st, tc.cfg)
				existed := false
				if tc.before != nil {
					tc.before(t, e)
					_, err := e.svc.UserByName(e.ctx, tc.wantUser)
					existed = err == nil
				}
				e.idp.person(tc.claims)
				a := e.signIn(t, tc.opts)
				e.checkLogs(t, a)

				if tc.wantRole == "" {
					if a.status != tc.wantStatus || !strings.Contains(a.body, html.EscapeString(tc.wantMsg)) {
						t.Fatalf("callback: %d %q, want %d with %q", a.status, a.body, tc.wantStatus, tc.wantMsg)
					}
					if a.session != nil {
						t.Fatal("a refused sign-in set a session cookie")
					}
					if _, err := e.svc.UserByName(e.ctx, tc.wantUser); !existed && !errors.Is(err, ErrNotFound) {
						t.Fatalf("a refused sign-in left a user behind: %v", err)
					}
					if !strings.Contains(e.logs.String(), "single sign-on refused") || !strings.Contains(e.logs.String(), tc.wantLog) {
						t.Fatalf("the refusal was not logged with %q:\n%s", tc.wantLog, e.logs)
					}
					return
				}
				if a.status != http.StatusSeeOther || a.location != "/" || a.session == nil {
					t.Fatalf("callback: %d to %q, session %v; body %s\nlogs:\n%s", a.status, a.location, a.session, a.body, e.logs)
				}
				if !a.session.HttpOnly || a.session.SameSite != http.SameSiteLaxMode {
					t.Errorf("session cookie attributes: %+v", a.session)
				}
				m := e.me(t, a.session)
				if m.status != http.StatusOK || m.json["name"] != tc.wantUser || m.json["role"] != string(tc.wantRole) || m.json["method"] != "session" {
					t.Fatalf("GET /api/v1/me with the new session: %d %s", m.status, m.body)
				}
				if !strings.Contains(e.logs.String(), "method=oidc") {
					t.Errorf("the sign-in was not logged:\n%s", e.logs)
				}
			})
		}
	})
}

func TestOIDCRoleFollowsGroups(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newSSOEnv(t, st, nil)
		// Someone else holds super_admin, so that the person may be demoted.
		e.user(t, "admin", RoleSuperAdmin, goodPassword)
		person := func(groups ...string) {
			e.idp.person(map[string]any{"sub": "00uX", "email": "sam@example.com", "groups": groups})
		}

		person("Okta Admins")
		first := e.signIn(t, ssoOpts{})
		if first.session == nil {
			t.Fatalf("first sign-in: %d %s", first.status, first.body)
		}
		u, err := e.svc.UserByName(e.ctx, "sam@example.com")
		if err != nil || u.Role != RoleSuperAdmin {
			t.Fatalf("after the first sign-in: %+v, %v", u, err)
		}

		// The groups changed at the provider: the next sign-in changes the
		// role, and ends the session the browser still had.
		person("Auditors", "Marketing")
		second := e.signIn(t, ssoOpts{session: first.session})
		if second.session == nil {
			t.Fatalf("second sign-in: %d %s", second.status, second.body)
		}
		if m := e.me(t, second.session); m.json["role"] != string(RoleIssueViewer) {
			t.Fatalf("role after the second sign-in: %s", m.body)
		}
		if m := e.me(t, first.session); m.status != http.StatusUnauthorized {
			t.Fatalf("the session replaced by the second sign-in still works: %d", m.status)
		}
		if !strings.Contains(e.logs.String(), "previous_role=super_admin") {
			t.Errorf("the role change was not logged:\n%s", e.logs)
		}

		// The person left every mapped group: refused, and signed out.
		person("Marketing")
		third := e.signIn(t, ssoOpts{})
		if third.status != http.StatusForbidden || third.session != nil {
			t.Fatalf("sign-in without a mapped group: %d", third.status)
		}
		if m := e.me(t, second.session); m.status != http.StatusUnauthorized {
			t.Fatalf("the session outlived the loss of every mapped group: %d", m.status)
		}
		u, _ = e.svc.UserByName(e.ctx, "sam@example.com")
		if u.Role != RoleIssueViewer || u.Disabled {
			t.Fatalf("a refused sign-in changed the user: %+v", u)
		}
	})
}

func TestOIDCKeepsTheLastSuperAdmin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newSSOEnv(t, st, nil)
		e.idp.person(map[string]any{"sub": "00uY", "email": "root@example.com", "groups": []string{"Okta Admins"}})
		if a := e.signIn(t, ssoOpts{}); a.session == nil {
			t.Fatalf("first sign-in: %d %s", a.status, a.body)
		}
		e.idp.person(map[string]any{"sub": "00uY", "email": "root@example.com", "groups": []string{"Auditors"}})
		a := e.signIn(t, ssoOpts{})
		if a.status != http.StatusForbidden || a.session != nil || !strings.Contains(a.body, "last enabled super_admin") {
			t.Fatalf("demoting the last super_admin: %d %s", a.status, a.body)
		}
		if u, _ := e.svc.UserByName(e.ctx, "root@example.com"); u.Role != RoleSuperAdmin {
			t.Fatalf("the last super_admin was demoted: %+v", u)
		}
	})
}

// A user made by single sign-on has no password hash, and Login refuses
// any password for it, the empty one included.
func TestOIDCUserHasNoPassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newSSOEnv(t, st, nil)
		e.idp.person(map[string]any{"sub": "00uZ", "email": "tia@example.com", "groups": []string{"SecOps"}})
		if a := e.signIn(t, ssoOpts{}); a.session == nil {
			t.Fatalf("sign-in: %d %s", a.status, a.body)
		}
		row, err := st.UserByName(e.ctx, "tia@example.com")
		if err != nil || row.PasswordHash != "" {
			t.Fatalf("stored user: %+v, %v", row, err)
		}
		for _, pw := range []string{"", goodPassword, "tia@example.com"} {
			if _, err := e.svc.Login(e.ctx, "tia@example.com", pw, ""); !errors.Is(err, ErrInvalidCredentials) {
				t.Errorf("Login with %q: %v, want ErrInvalidCredentials", pw, err)
			}
		}
		a := do(t, e.srv, call{method: "POST", path: "/api/v1/session", body: map[string]string{"name": "tia@example.com", "password": goodPassword}})
		if a.status != http.StatusUnauthorized {
			t.Fatalf("password sign-in of a single sign-on user: %d %s", a.status, a.body)
		}
	})
}

func TestOIDCLoginRequest(t *testing.T) {
	e := newSSOEnv(t, storetest.SQLite(t), func(c *OIDCConfig) { c.GroupsScope = "groups" })
	res := get(t, e.srv.URL+OIDCLoginPath) //nolint:bodyclose // get closes the body
	to, err := url.Parse(res.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(to.String(), e.idp.srv.URL+"/authorize?") {
		t.Fatalf("login redirects to %q", res.Header.Get("Location"))
	}
	q := to.Query()
	want := map[string]string{
		"response_type": "code", "client_id": e.idp.clientID, "redirect_uri": e.srv.URL + OIDCCallbackPath,
		"scope": "openid email profile groups", "code_challenge_method": "S256",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if q.Get(k) == "" {
			t.Errorf("the authorization request has no %s", k)
		}
	}
	if q.Has("client_secret") || strings.Contains(to.String(), e.idp.clientSecret) {
		t.Error("the client secret went to the browser")
	}
	c := cookieNamed(res, OIDCFlowCookie)
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != OIDCCallbackPath || c.MaxAge != 600 {
		t.Fatalf("flow cookie: %+v", c)
	}
	if strings.Contains(c.Value, q.Get("code_challenge")) || !strings.Contains(c.Value, q.Get("state")) {
		t.Errorf("flow cookie %q does not carry the state and verifier", c.Value)
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q", res.Header.Get("Cache-Control"))
	}
}

func TestOIDCButton(t *testing.T) {
	b := setup(t, storetest.SQLite(t), nil)
	if label, ok := b.svc.OIDCButton(); ok || label != "" {
		t.Fatalf("before EnableOIDC: %q, %v", label, ok)
	}
	mux := http.NewServeMux()
	b.svc.Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", OIDCLoginPath, nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("GET %s without single sign-on: %d, want 404", OIDCLoginPath, rec.Code)
	}

	for _, tc := range []struct{ label, want string }{
		{"", "Sign in with single sign-on"},
		{"Sign in with Okta", "Sign in with Okta"},
	} {
		e := newSSOEnv(t, storetest.SQLite(t), func(c *OIDCConfig) { c.ButtonLabel = tc.label })
		if label, ok := e.svc.OIDCButton(); !ok || label != tc.want {
			t.Errorf("OIDCButton() = %q, %v; want %q", label, ok, tc.want)
		}
	}
}

func TestEnableOIDCRefuses(t *testing.T) {
	idp := newFakeIdP(t, time.Now)
	good := func() OIDCConfig {
		return OIDCConfig{Issuer: idp.srv.URL, ClientID: "vigil", ClientSecret: "the-client-secret-value",
			GroupRoles: testGroupRoles, HTTPClient: loopbackClient()}
	}
	tests := []struct {
		name      string
		publicURL string
		mod       func(*OIDCConfig)
		want      string
	}{
		{"no issuer", "https://vigil.example.com", func(c *OIDCConfig) { c.Issuer = "" }, "--oidc-issuer"},
		{"plain http issuer", "https://vigil.example.com", func(c *OIDCConfig) { c.Issuer = "http://idp.example.com" }, "must use https"},
		{"no client id", "https://vigil.example.com", func(c *OIDCConfig) { c.ClientID = "" }, "--oidc-client-id"},
		{"no client secret", "https://vigil.example.com", func(c *OIDCConfig) { c.ClientSecret = "" }, "VIGIL_OIDC_CLIENT_SECRET"},
		{"no public URL", "", nil, "--public-url"},
		{"no group mapped", "https://vigil.example.com", func(c *OIDCConfig) { c.GroupRoles = nil }, "--oidc-group-roles"},
		{"unknown role", "https://vigil.example.com", func(c *OIDCConfig) { c.GroupRoles = GroupRoles{"X": "root"} }, "not a role"},
		{"issuer mismatch", "https://vigil.example.com", func(c *OIDCConfig) { c.Issuer = idp.srv.URL + "/other" }, "could not read the identity provider's configuration"},
		{"nothing listening", "https://vigil.example.com", func(c *OIDCConfig) { c.Issuer = "http://127.0.0.1:1" }, "check --oidc-issuer"},
		{"address the guard blocks", "https://vigil.example.com", func(c *OIDCConfig) { c.HTTPClient = nil }, "could not read"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc := New(nil, Config{PublicURL: tc.publicURL})
			cfg := good()
			if tc.mod != nil {
				tc.mod(&cfg)
			}
			err := svc.EnableOIDC(t.Context(), cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("EnableOIDC: %v, want an error saying %q", err, tc.want)
			}
			if strings.Contains(err.Error(), cfg.ClientSecret) && cfg.ClientSecret != "" {
				t.Errorf("the error quotes the client secret: %v", err)
			}
			if strings.Count(err.Error(), "\n") > 0 {
				t.Errorf("the error is more than one line: %q", err)
			}
			if _, ok := svc.OIDCButton(); ok {
				t.Error("single sign-on is on after a refused EnableOIDC")
			}
		})
	}
}

func TestParseGroupRoles(t *testing.T) {
	tests := []struct {
		in      string
		want    GroupRoles
		wantErr string
	}{
		{"Okta Admins=super_admin,SecOps=issue_responder", GroupRoles{"Okta Admins": RoleSuperAdmin, "SecOps": RoleIssueResponder}, ""},
		{" Auditors = issue_viewer , ", GroupRoles{"Auditors": RoleIssueViewer}, ""},
		{"", GroupRoles{}, ""},
		{"Admins", nil, "not of the form Group=role"},
		{"=super_admin", nil, "not of the form Group=role"},
		{"Admins=root", nil, "not a role"},
	}
	for _, tc := range tests {
		got, err := ParseGroupRoles(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseGroupRoles(%q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("ParseGroupRoles(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			continue
		}
		for g, r := range tc.want {
			if got[g] != r {
				t.Errorf("ParseGroupRoles(%q)[%q] = %q, want %q", tc.in, g, got[g], r)
			}
		}
	}
}

// TestOIDCLinksBySubject checks that single sign-on identifies a person by
// the provider account (issuer and subject) that first signed in under a
// name: the account keeps its user when its address changes, another
// account with the same address is refused and cannot sign the user out,
// a local user is linked at its first single sign-on, and unlinking lets
// the name go to another account.
func TestOIDCLinksBySubject(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newSSOEnv(t, st, nil)
		signIn := func(sub, email string, groups ...string) ssoAnswer {
			t.Helper()
			e.idp.person(map[string]any{"sub": sub, "email": email, "email_verified": true, "groups": groups})
			a := e.signIn(t, ssoOpts{})
			e.checkLogs(t, a)
			return a
		}
		subjectOf := func(name string) string {
			t.Helper()
			row, err := st.UserByName(e.ctx, name)
			if err != nil {
				t.Fatalf("user %s: %v", name, err)
			}
			return row.ExternalSubject
		}
		countUsers := func() int {
			t.Helper()
			n, err := st.CountUsers(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}

		amy := signIn("00uA", "amy@example.com", "SecOps")
		if amy.session == nil {
			t.Fatalf("first sign-in: %d %s", amy.status, amy.body)
		}
		if got, want := subjectOf("amy@example.com"), e.idp.srv.URL+"#00uA"; got != want {
			t.Fatalf("stored link %q, want %q", got, want)
		}

		// The provider moved the person to a new address: same user.
		moved := signIn("00uA", "amy.new@example.com", "SecOps")
		if m := e.me(t, moved.session); m.status != http.StatusOK || m.json["name"] != "amy@example.com" {
			t.Fatalf("sign-in after the address changed: %d %s", m.status, m.body)
		}
		if !strings.Contains(e.logs.String(), "provider_name=amy.new@example.com") {
			t.Errorf("the changed address was not logged:\n%s", e.logs)
		}

		// Another provider account now carries the old address: refused,
		// nothing created, and the real user's session survives even when
		// the impostor has no mapped group (which ends a user's sessions).
		users := countUsers()
		other := signIn("00uB", "amy@example.com", "Okta Admins")
		if other.status != http.StatusForbidden || other.session != nil || !strings.Contains(other.body, html.EscapeString(msgOtherAccount)) {
			t.Fatalf("another account with a linked name: %d %s", other.status, other.body)
		}
		if !strings.Contains(e.logs.String(), "linked to another identity provider account") {
			t.Errorf("the refusal's reason was not logged:\n%s", e.logs)
		}
		if signIn("00uB", "amy@example.com", "Marketing").session != nil {
			t.Fatal("an account without a mapped group signed in")
		}
		if m := e.me(t, moved.session); m.status != http.StatusOK {
			t.Fatalf("another account's refused sign-in ended the user's session: %d", m.status)
		}
		if u, _ := e.svc.UserByName(e.ctx, "amy@example.com"); u.Role != RoleIssueResponder || countUsers() != users {
			t.Fatalf("a refused sign-in changed the users: %+v, %d users (was %d)", u, countUsers(), users)
		}

		// A local user is linked by its first single sign-on.
		e.user(t, "bo@example.com", RoleIssueViewer, goodPassword)
		if a := signIn("00uC", "bo@example.com", "SecOps"); a.session == nil {
			t.Fatalf("first single sign-on of a local user: %d %s", a.status, a.body)
		}
		if subjectOf("bo@example.com") != e.idp.srv.URL+"#00uC" {
			t.Fatal("the local user was not linked")
		}

		// Unlinking gives the name to the next account under it, and
		// signs the user out.
		u, err := e.svc.UserByName(e.ctx, "amy@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if was, err := e.svc.UnlinkExternal(e.ctx, u.ID); !was || err != nil {
			t.Fatalf("UnlinkExternal = %v, %v; want true", was, err)
		}
		if was, err := e.svc.UnlinkExternal(e.ctx, u.ID); was || err != nil {
			t.Fatalf("second UnlinkExternal = %v, %v; want false", was, err)
		}
		if _, err := e.svc.UnlinkExternal(e.ctx, "usr_missing"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("UnlinkExternal of no user: %v", err)
		}
		if m := e.me(t, moved.session); m.status != http.StatusUnauthorized {
			t.Fatalf("the session outlived the unlinking: %d", m.status)
		}
		if a := signIn("00uB", "amy@example.com", "SecOps"); a.session == nil {
			t.Fatalf("sign-in after unlinking: %d %s", a.status, a.body)
		}
		if subjectOf("amy@example.com") != e.idp.srv.URL+"#00uB" {
			t.Fatal("the name was not linked to the new account")
		}
	})
}
