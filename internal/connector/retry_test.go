package connector_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/clocktest"
	"github.com/vigil-ispm/vigil/internal/entra/entratest"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/okta/oktatest"
)

const (
	oktaMFAGroup = "00gmfa0000000000000"
	oktaAppGroup = "00gapp0000000000000"
	oktaNoUser   = "00u0000000000000nope"
	oktaNoGroup  = "00g0000000000000nope"

	// oktaForbidden is how a fault quotes Okta's answer to a token that
	// lacks the permission.
	oktaForbidden = "Okta answered 403 E0000006: You do not have permission to perform the requested action"
)

// oktaClockFixture is oktaFixture with a clock that the client's waits move
// forward, shared by the fake, so a rate-limit window ends while the client
// waits for it as it would in production. It also holds an app group, whose
// members Okta does not let the API change.
func oktaClockFixture(t *testing.T, status string) (*bundle, *oktatest.Server, oktatest.User) {
	t.Helper()
	clk := clocktest.New(testNow)
	b := setupClock(t, clk)
	ok := oktatest.New(t)
	ok.SetClock(clk.Now)
	u := ok.AddUser(oktatest.User{Login: "ali.lesch@example.com", Status: status})
	ok.AddGroup(oktatest.Group{ID: oktaMFAGroup, Name: "MFA required"})
	ok.AddGroup(oktatest.Group{ID: oktaAppGroup, Type: "APP_GROUP", Name: "Salesforce users"})
	b.add(t, "Okta", "okta", false, map[string]string{"url": ok.URL, "token": oktatest.DefaultToken})
	return b, ok, u
}

func TestOktaActionsRetryAfter429(t *testing.T) {
	actions := []struct {
		fn     string
		status string         // the user's status before the call; default ACTIVE
		args   map[string]any // besides connection and user (the user's id)
		method string
		path   string // {id} is the user's id
		out    map[string]any
		verify func(t *testing.T, ok *oktatest.Server, u oktatest.User)
	}{
		{
			fn: "okta.unsuspendUser", status: "SUSPENDED",
			method: "POST", path: "/api/v1/users/{id}/lifecycle/unsuspend",
			out: map[string]any{"status": "ACTIVE", "alreadyActive": false},
			verify: func(t *testing.T, ok *oktatest.Server, u oktatest.User) {
				if got, _ := ok.User(u.ID); got.Status != "ACTIVE" {
					t.Errorf("status %s, want ACTIVE", got.Status)
				}
			},
		},
		{
			fn: "okta.addUserToGroup", args: map[string]any{"groupId": oktaMFAGroup},
			method: "PUT", path: "/api/v1/groups/" + oktaMFAGroup + "/users/{id}",
			out: map[string]any{"groupId": oktaMFAGroup},
			verify: func(t *testing.T, ok *oktatest.Server, u oktatest.User) {
				if !slices.Contains(ok.GroupMembers(oktaMFAGroup), u.ID) {
					t.Error("the user is not in the group")
				}
			},
		},
		{
			fn:     "okta.expirePassword",
			method: "POST", path: "/api/v1/users/{id}/lifecycle/expire_password",
			out: map[string]any{"status": "PASSWORD_EXPIRED"},
			verify: func(t *testing.T, ok *oktatest.Server, u oktatest.User) {
				if got, _ := ok.User(u.ID); got.Status != "PASSWORD_EXPIRED" {
					t.Errorf("status %s, want PASSWORD_EXPIRED", got.Status)
				}
			},
		},
		{
			fn:     "okta.clearUserSessions",
			method: "DELETE", path: "/api/v1/users/{id}/sessions",
			out: map[string]any{"sessionsCleared": true},
			verify: func(t *testing.T, ok *oktatest.Server, u oktatest.User) {
				if n := ok.SessionsCleared(u.ID); n != 1 {
					t.Errorf("sessions cleared %d times, want 1", n)
				}
			},
		},
	}
	// Both of Okta's 429s carry X-Rate-Limit-Reset; the client must wait
	// until then, not a fixed time.
	limits := []struct {
		name  string
		limit func(ok *oktatest.Server, method, path string)
		wait  time.Duration
	}{
		{"endpoint limit, reset in 1s", func(ok *oktatest.Server, method, path string) { ok.FailNext(method, path, 429, 1) }, time.Second},
		{"org window used up, reset in 60s", func(ok *oktatest.Server, _, _ string) { ok.SetRateLimit(600, 0) }, time.Minute},
	}
	for _, a := range actions {
		for _, l := range limits {
			t.Run(a.fn+"/"+l.name, func(t *testing.T) {
				b, ok, u := oktaClockFixture(t, a.status)
				path := strings.ReplaceAll(a.path, "{id}", u.ID)
				l.limit(ok, a.method, path)
				args := map[string]any{"connection": "Okta", "user": u.ID}
				for k, v := range a.args {
					args[k] = v
				}
				r := b.run(t, a.fn, args, false)
				if r.fault != nil {
					t.Fatalf("fault: %v", r.fault)
				}
				reqs := ok.Requests()
				if got, want := ok.Calls(), []string{a.method + " " + path, a.method + " " + path}; !slices.Equal(got, want) {
					t.Fatalf("requests %q, want %q (the 429, then one retry)", got, want)
				}
				for _, req := range reqs {
					if len(req.Body) != 0 {
						t.Errorf("%s %s sent a body %q; Okta documents none", req.Method, req.Path, req.Body)
					}
					if accept := http.Header(req.Header).Get("Accept"); accept != "application/json" {
						t.Errorf("Accept %q, want application/json", accept)
					}
				}
				for _, s := range b.wire.requests() {
					if s.auth != "SSWS "+oktatest.DefaultToken {
						t.Errorf("%s %s: Authorization is not the connection's SSWS token", s.method, s.path)
					}
				}
				if got := b.sleeps.waits(); !slices.Equal(got, []time.Duration{l.wait}) {
					t.Errorf("waits %v, want one of %v (until X-Rate-Limit-Reset)", got, l.wait)
				}
				a.out["userId"] = u.ID
				a.out["dryRun"] = false
				for k, v := range a.out {
					if jsonString(r.out[k]) != jsonString(v) {
						t.Errorf("output %s = %v, want %v (output %v)", k, r.out[k], v, r.out)
					}
				}
				a.verify(t, ok, u)
			})
		}
	}
}

func TestOktaActionErrorsAreClear(t *testing.T) {
	tests := []struct {
		name   string
		fn     string
		status string         // the user's status before the call; default ACTIVE
		user   string         // default the user's id
		args   map[string]any // besides connection and user
		token  string         // the token the org accepts, when not the connection's
		forbid string         // a request, as in sent, that Okta answers 403 E0000006 once
		sent   []string       // {id} is the user's id
		code   int
		detail string // the fault's detail up to Okta's errorId; {id} is the user's id
	}{
		{
			name: "unsuspend a staged user", fn: "okta.unsuspendUser", status: "STAGED",
			sent: []string{"POST /api/v1/users/{id}/lifecycle/unsuspend", "GET /api/v1/users/{id}"},
			code: 400,
			detail: `okta.unsuspendUser through connection "Okta" failed: unsuspend user {id}: Okta answered 400 E0000001: ` +
				`Api validation failed: unsuspendUser (Cannot unsuspend a user that is not suspended)`,
		},
		{
			name: "unsuspend an unknown user", fn: "okta.unsuspendUser", user: oktaNoUser,
			sent: []string{"POST /api/v1/users/" + oktaNoUser + "/lifecycle/unsuspend"},
			code: 404,
			detail: `okta.unsuspendUser through connection "Okta" failed: unsuspend user ` + oktaNoUser + `: Okta answered 404 E0000007: ` +
				`Not found: Resource not found: ` + oktaNoUser + ` (User)`,
		},
		{
			name: "add to an unknown group", fn: "okta.addUserToGroup", args: map[string]any{"groupId": oktaNoGroup},
			sent: []string{"PUT /api/v1/groups/" + oktaNoGroup + "/users/{id}"},
			code: 404,
			detail: `okta.addUserToGroup through connection "Okta" failed: add user {id} to group ` + oktaNoGroup + `: Okta answered 404 E0000007: ` +
				`Not found: Resource not found: ` + oktaNoGroup + ` (UserGroup)`,
		},
		{
			name: "add to an app group", fn: "okta.addUserToGroup", args: map[string]any{"groupId": oktaAppGroup},
			sent: []string{"PUT /api/v1/groups/" + oktaAppGroup + "/users/{id}"},
			code: 400,
			detail: `okta.addUserToGroup through connection "Okta" failed: add user {id} to group ` + oktaAppGroup + `: Okta answered 400 E0000001: ` +
				`Api validation failed: group (Only members of groups of type OKTA_GROUP can be changed)`,
		},
		{
			name: "expire the password of a suspended user", fn: "okta.expirePassword", status: "SUSPENDED",
			sent: []string{"POST /api/v1/users/{id}/lifecycle/expire_password"},
			code: 400,
			detail: `okta.expirePassword through connection "Okta" failed: expire_password user {id}: Okta answered 400 E0000001: ` +
				`Api validation failed: expirePassword (Cannot expire the password of a user that is not active)`,
		},
		{
			name: "clear the sessions of an unknown user", fn: "okta.clearUserSessions", user: oktaNoUser,
			sent: []string{"DELETE /api/v1/users/" + oktaNoUser + "/sessions"},
			code: 404,
			detail: `okta.clearUserSessions through connection "Okta" failed: clear sessions of user ` + oktaNoUser + `: Okta answered 404 E0000007: ` +
				`Not found: Resource not found: ` + oktaNoUser + ` (User)`,
		},
		{
			name: "clear sessions with a revoked token", fn: "okta.clearUserSessions", token: "00rotated-okta-api-token",
			sent: []string{"DELETE /api/v1/users/{id}/sessions"},
			code: 401,
			detail: `okta.clearUserSessions through connection "Okta" failed: clear sessions of user {id}: Okta answered 401 E0000011: ` +
				`Invalid token provided`,
		},
		// A token whose owner lacks the admin role, or a service app without
		// the scope, gets 403 E0000006. That does not pass, so the action
		// fails at once; the fault is injected once, so a retry would succeed
		// and show.
		{
			name: "suspend without the permission", fn: "okta.suspendUser",
			forbid: "POST /api/v1/users/{id}/lifecycle/suspend", sent: []string{"POST /api/v1/users/{id}/lifecycle/suspend"},
			code:   403,
			detail: `okta.suspendUser through connection "Okta" failed: suspend user {id}: ` + oktaForbidden,
		},
		{
			name: "find the user by login without the permission", fn: "okta.suspendUser", user: "ali.lesch@example.com",
			forbid: "GET /api/v1/users/ali.lesch@example.com", sent: []string{"GET /api/v1/users/ali.lesch@example.com"},
			code:   403,
			detail: `okta.suspendUser through connection "Okta" failed: find user ali.lesch@example.com: ` + oktaForbidden,
		},
		{
			name: "unsuspend without the permission", fn: "okta.unsuspendUser", status: "SUSPENDED",
			forbid: "POST /api/v1/users/{id}/lifecycle/unsuspend", sent: []string{"POST /api/v1/users/{id}/lifecycle/unsuspend"},
			code:   403,
			detail: `okta.unsuspendUser through connection "Okta" failed: unsuspend user {id}: ` + oktaForbidden,
		},
		{
			name: "add to a group without the permission", fn: "okta.addUserToGroup", args: map[string]any{"groupId": oktaMFAGroup},
			forbid: "PUT /api/v1/groups/" + oktaMFAGroup + "/users/{id}", sent: []string{"PUT /api/v1/groups/" + oktaMFAGroup + "/users/{id}"},
			code:   403,
			detail: `okta.addUserToGroup through connection "Okta" failed: add user {id} to group ` + oktaMFAGroup + `: ` + oktaForbidden,
		},
		{
			name: "expire the password without the permission", fn: "okta.expirePassword",
			forbid: "POST /api/v1/users/{id}/lifecycle/expire_password", sent: []string{"POST /api/v1/users/{id}/lifecycle/expire_password"},
			code:   403,
			detail: `okta.expirePassword through connection "Okta" failed: expire_password user {id}: ` + oktaForbidden,
		},
		{
			name: "clear sessions without the permission", fn: "okta.clearUserSessions",
			forbid: "DELETE /api/v1/users/{id}/sessions", sent: []string{"DELETE /api/v1/users/{id}/sessions"},
			code:   403,
			detail: `okta.clearUserSessions through connection "Okta" failed: clear sessions of user {id}: ` + oktaForbidden,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, ok, u := oktaClockFixture(t, tt.status)
			if tt.token != "" {
				ok.SetToken(tt.token)
			}
			if tt.forbid != "" {
				method, path, _ := strings.Cut(strings.ReplaceAll(tt.forbid, "{id}", u.ID), " ")
				ok.FailNext(method, path, 403, 1)
			}
			args := map[string]any{"connection": "Okta", "user": u.ID}
			if tt.user != "" {
				args["user"] = tt.user
			}
			for k, v := range tt.args {
				args[k] = v
			}
			r := b.run(t, tt.fn, args, false)
			if r.fault == nil {
				t.Fatalf("no fault, output %v", r.out)
			}
			detail := strings.ReplaceAll(tt.detail, "{id}", u.ID)
			f := r.fault
			if f.Type != engine.ErrCommunication || f.Status != tt.code ||
				!strings.HasPrefix(f.Detail, detail+" [errorId oae") || !strings.HasSuffix(f.Detail, "]") {
				t.Errorf("fault %d %s %q, want %d %s %q [errorId …]", f.Status, f.Type, f.Detail, tt.code, engine.ErrCommunication, detail)
			}
			if strings.ContainsAny(f.Detail, "\r\n") {
				t.Errorf("the detail runs over several lines: %q", f.Detail)
			}
			for _, secret := range []string{oktatest.DefaultToken, tt.token} {
				if secret != "" && strings.Contains(f.Detail+f.Title, secret) {
					t.Errorf("the fault shows a token: %q", f.Detail)
				}
			}
			var want []string
			for _, s := range tt.sent {
				want = append(want, strings.ReplaceAll(s, "{id}", u.ID))
			}
			if got := ok.Calls(); !slices.Equal(got, want) {
				t.Errorf("requests %q, want %q (no retry)", got, want)
			}
			if n := b.sleeps.count(); n != 0 {
				t.Errorf("waited %d times, want no retry of a 4xx", n)
			}
		})
	}
}

// graphAuth returns the bearer token of each Graph request, failing the
// test on a request without one.
func graphAuth(t *testing.T, en *entratest.Server) []string {
	t.Helper()
	var out []string
	for _, r := range en.GraphRequests() {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || tok == "" {
			t.Fatalf("%s %s: Authorization is not a bearer token", r.Method, r.Path)
		}
		out = append(out, tok)
	}
	return out
}

func TestEntraAddGroupMemberRetryAfter429(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter string
		wait       time.Duration
	}{
		{"Retry-After in seconds", "7", 7 * time.Second},
		{"Retry-After as a date", testNow.Add(5 * time.Second).Format(http.TimeFormat), 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, en := entraFixture(t)
			en.FailNext(1, 429, tt.retryAfter)
			r := b.run(t, "entra.addGroupMember", map[string]any{"connection": "Microsoft Entra ID", "user": entraUser, "groupId": entraGroup}, false)
			if r.fault != nil {
				t.Fatalf("fault: %v", r.fault)
			}
			add := "POST /v1.0/groups/" + entraGroup + `/members/$ref {"@odata.id":"` + en.URL + "/v1.0/directoryObjects/" + entraUser + `"}`
			if got := graphSent(en); !slices.Equal(got, []string{add, add}) {
				t.Fatalf("requests %q, want the POST twice (the 429, then one retry)", got)
			}
			for _, req := range en.GraphRequests() {
				if ct := req.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("Content-Type %q, want application/json", ct)
				}
			}
			if toks := graphAuth(t, en); toks[0] != toks[1] {
				t.Error("the retry fetched a new token; the first one was still good")
			}
			if n := len(en.Requests()) - len(en.GraphRequests()); n != 1 {
				t.Errorf("%d token requests, want 1", n)
			}
			if got := b.sleeps.waits(); !slices.Equal(got, []time.Duration{tt.wait}) {
				t.Errorf("waits %v, want one of %v (Retry-After)", got, tt.wait)
			}
			if !slices.Contains(en.GroupMembers(entraGroup), entraUser) {
				t.Error("the user is not a member")
			}
			if r.out["userId"] != entraUser || r.out["groupId"] != entraGroup || r.out["alreadyMember"] != false || r.out["dryRun"] != false {
				t.Errorf("output %v", r.out)
			}
		})
	}
}

func TestEntraAddGroupMemberErrorsAreClear(t *testing.T) {
	const (
		noGroup = "00000000-0000-4000-8000-00000000beef"
		noUser  = "00000000-0000-4000-8000-00000000dead"
	)
	tests := []struct {
		name   string
		user   string
		group  string
		fail   int // a status the next Graph request fails with
		code   int
		detail string
	}{
		{
			name: "unknown group", user: entraUser, group: noGroup, code: 404,
			detail: `entra.addGroupMember through connection "Microsoft Entra ID" failed: add ` + entraUser + ` to group ` + noGroup +
				`: Microsoft Graph answered 404 Request_ResourceNotFound: Resource '` + noGroup + `' does not exist or one of its queried reference-property objects are not present`,
		},
		{
			name: "unknown user", user: noUser, group: entraGroup, code: 404,
			detail: `entra.addGroupMember through connection "Microsoft Entra ID" failed: add ` + noUser + ` to group ` + entraGroup +
				`: Microsoft Graph answered 404 Request_ResourceNotFound: Resource '` + noUser + `' does not exist or one of its queried reference-property objects are not present`,
		},
		{
			name: "permission missing", user: entraUser, group: entraGroup, fail: 403, code: 403,
			detail: `entra.addGroupMember through connection "Microsoft Entra ID" failed: add ` + entraUser + ` to group ` + entraGroup +
				`: Microsoft Graph answered 403 Authorization_RequestDenied: Insufficient privileges to complete the operation`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, en := entraFixture(t)
			if tt.fail != 0 {
				en.FailNext(1, tt.fail, "")
			}
			r := b.run(t, "entra.addGroupMember", map[string]any{"connection": "Microsoft Entra ID", "user": tt.user, "groupId": tt.group}, false)
			if r.fault == nil {
				t.Fatalf("no fault, output %v", r.out)
			}
			f := r.fault
			if f.Type != engine.ErrCommunication || f.Status != tt.code || f.Detail != tt.detail {
				t.Errorf("fault %d %s %q, want %d %s %q", f.Status, f.Type, f.Detail, tt.code, engine.ErrCommunication, tt.detail)
			}
			secrets := append([]string{entratest.ClientSecret}, graphAuth(t, en)...)
			for _, s := range secrets {
				if strings.Contains(f.Detail+f.Title, s) {
					t.Errorf("the fault shows a secret: %q", f.Detail)
				}
			}
			if n := len(en.GraphRequests()); n != 1 {
				t.Errorf("%d Graph requests, want 1 (no retry)", n)
			}
			if n := b.sleeps.count(); n != 0 {
				t.Errorf("waited %d times, want no retry of a 4xx", n)
			}
			if slices.Contains(en.GroupMembers(tt.group), tt.user) {
				t.Error("the user was added all the same")
			}
		})
	}
}
