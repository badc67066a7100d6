package connector_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/okta/oktatest"
)

func oktaFixture(t *testing.T, dryRun bool, status ...string) (*bundle, *oktatest.Server, oktatest.User) {
	t.Helper()
	b := setup(t)
	ok := oktatest.New(t)
	ok.SetClock(func() time.Time { return testNow })
	u := ok.AddUser(oktatest.User{Login: "ali.lesch@example.com", Status: strings.Join(status, "")})
	ok.AddGroup(oktatest.Group{ID: "00gmfa0000000000000", Name: "MFA required"})
	b.add(t, "Okta", "okta", dryRun, map[string]string{"url": ok.URL, "token": oktatest.DefaultToken})
	return b, ok, u
}

func TestOktaActions(t *testing.T) {
	tests := []struct {
		name   string
		fn     string
		args   map[string]any // user is added: the id, or the login when byLogin
		status string         // the user's status before the call; default ACTIVE
		login  bool
		sent   []string // {id} is the user's id
		out    map[string]any
		verify func(t *testing.T, ok *oktatest.Server, u oktatest.User)
	}{
		{
			name: "suspend by id", fn: "okta.suspendUser",
			sent: []string{"POST /api/v1/users/{id}/lifecycle/suspend"},
			out:  map[string]any{"status": "SUSPENDED", "alreadySuspended": false},
			verify: func(t *testing.T, ok *oktatest.Server, u oktatest.User) {
				if got, _ := ok.User(u.ID); got.Status != "SUSPENDED" {
					t.Errorf("status %s, want SUSPENDED", got.Status)
				}
			},
		},
		{
			name: "suspend by login", fn: "okta.suspendUser", login: true,
			sent: []string{"GET /api/v1/users/ali.lesch@example.com", "POST /api/v1/users/{id}/lifecycle/suspend"},
			out:  map[string]any{"status": "SUSPENDED"},
		},
		{
			name: "suspend a suspended user", fn: "okta.suspendUser",
			status: "SUSPENDED",
			sent:   []string{"POST /api/v1/users/{id}/lifecycle/suspend", "GET /api/v1/users/{id}"},
			out:    map[string]any{"status": "SUSPENDED", "alreadySuspended": true},
		},
		{
			name: "unsuspend", fn: "okta.unsuspendUser",
			status: "SUSPENDED",
			sent:   []string{"POST /api/v1/users/{id}/lifecycle/unsuspend"},
			out:    map[string]any{"status": "ACTIVE", "alreadyActive": false},
		},
		{
			name: "add to group by login", fn: "okta.addUserToGroup", login: true, args: map[string]any{"groupId": "00gmfa0000000000000"},
			sent: []string{"GET /api/v1/users/ali.lesch@example.com", "PUT /api/v1/groups/00gmfa0000000000000/users/{id}"},
			out:  map[string]any{"groupId": "00gmfa0000000000000"},
			verify: func(t *testing.T, ok *oktatest.Server, u oktatest.User) {
				if !slices.Contains(ok.GroupMembers("00gmfa0000000000000"), u.ID) {
					t.Error("the user is not in the group")
				}
			},
		},
		{
			name: "expire password", fn: "okta.expirePassword",
			sent: []string{"POST /api/v1/users/{id}/lifecycle/expire_password"},
			out:  map[string]any{"status": "PASSWORD_EXPIRED"},
			verify: func(t *testing.T, ok *oktatest.Server, u oktatest.User) {
				if got, _ := ok.User(u.ID); got.Status != "PASSWORD_EXPIRED" {
					t.Errorf("status %s, want PASSWORD_EXPIRED", got.Status)
				}
			},
		},
		{
			name: "clear sessions", fn: "okta.clearUserSessions",
			sent: []string{"DELETE /api/v1/users/{id}/sessions"},
			out:  map[string]any{"sessionsCleared": true},
			verify: func(t *testing.T, ok *oktatest.Server, u oktatest.User) {
				if n := ok.SessionsCleared(u.ID); n != 1 {
					t.Errorf("sessions cleared %d times, want 1", n)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, ok, u := oktaFixture(t, false, tt.status)
			args := map[string]any{"connection": "Okta", "user": u.ID}
			if tt.login {
				args["user"] = u.Login
			}
			for k, v := range tt.args {
				args[k] = v
			}
			r := b.run(t, tt.fn, args, false)
			if r.fault != nil {
				t.Fatalf("fault: %v", r.fault)
			}
			var want []string
			for _, s := range tt.sent {
				want = append(want, strings.ReplaceAll(s, "{id}", u.ID))
			}
			if got := ok.Calls(); !slices.Equal(got, want) {
				t.Errorf("requests %q, want %q", got, want)
			}
			for _, req := range ok.Requests() {
				if req.Method == "POST" && len(req.Body) != 0 {
					t.Errorf("%s %s sent a body %q; Okta's lifecycle calls take none", req.Method, req.Path, req.Body)
				}
			}
			tt.out["userId"] = u.ID
			tt.out["dryRun"] = false
			for k, v := range tt.out {
				if jsonString(r.out[k]) != jsonString(v) {
					t.Errorf("output %s = %v, want %v (output %v)", k, r.out[k], v, r.out)
				}
			}
			if tt.verify != nil {
				tt.verify(t, ok, u)
			}
		})
	}
}

func TestOktaRetriesAfter429(t *testing.T) {
	b, ok, u := oktaFixture(t, false)
	ok.FailNext("POST", "/api/v1/users/"+u.ID+"/lifecycle/suspend", 429, 2)
	r := b.run(t, "okta.suspendUser", map[string]any{"connection": "Okta", "user": u.ID}, false)
	if r.fault != nil {
		t.Fatalf("fault: %v", r.fault)
	}
	if n := len(ok.Requests()); n != 3 {
		t.Errorf("%d requests, want 3 (two 429s, then the suspend)", n)
	}
	if b.sleeps.count() < 2 {
		t.Errorf("waited %d times, want a wait before each retry", b.sleeps.count())
	}
	if got, _ := ok.User(u.ID); got.Status != "SUSPENDED" {
		t.Errorf("status %s", got.Status)
	}
}

func TestOktaErrorsAreClear(t *testing.T) {
	tests := []struct {
		name   string
		args   map[string]any
		token  string
		status int
		typ    string
		detail string
	}{
		{"unknown user", map[string]any{"connection": "Okta", "user": "nobody@example.com"}, "", 404, engine.ErrCommunication,
			`okta.suspendUser through connection "Okta" failed: find user nobody@example.com: Okta answered 404 E0000007`},
		{"revoked token", map[string]any{"connection": "Okta", "user": "ali.lesch@example.com"}, "00other-token", 401, engine.ErrCommunication,
			`okta.suspendUser through connection "Okta" failed: find user ali.lesch@example.com: Okta answered 401 E0000011`},
		{"missing connection", map[string]any{"connection": "Okta Prod", "user": "x"}, "", 400, engine.ErrConfiguration,
			`okta.suspendUser: connection "Okta Prod" does not exist`},
		{"wrong kind", map[string]any{"connection": "Slack", "user": "x"}, "", 400, engine.ErrConfiguration,
			`okta.suspendUser needs a Okta connection, but connection "Slack" is a slack connection`},
		{"empty user", map[string]any{"connection": "Okta", "user": ""}, "", 400, engine.ErrValidation,
			"okta.suspendUser: argument user: expected a non-empty string"},
		{"user not a string", map[string]any{"connection": "Okta", "user": 42}, "", 400, engine.ErrValidation,
			"okta.suspendUser: argument user: expected a string, got a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, ok, _ := oktaFixture(t, false)
			b.add(t, "Slack", "slack", false, map[string]string{"token": "xoxb-1"})
			if tt.token != "" {
				ok.SetToken(tt.token)
			}
			r := b.runUnchecked(t, "okta.suspendUser", tt.args)
			if r.fault == nil {
				t.Fatalf("no fault, output %v", r.out)
			}
			if r.fault.Status != tt.status || r.fault.Type != tt.typ || !strings.HasPrefix(r.fault.Detail, tt.detail) {
				t.Errorf("fault %d %s %q, want %d %s %q…", r.fault.Status, r.fault.Type, r.fault.Detail, tt.status, tt.typ, tt.detail)
			}
			if strings.Contains(r.fault.Detail, oktatest.DefaultToken) {
				t.Errorf("the fault shows the token: %q", r.fault.Detail)
			}
		})
	}
}

func TestOktaOAuthConnection(t *testing.T) {
	b := setup(t)
	ok := oktatest.New(t)
	ok.SetClock(func() time.Time { return testNow })
	u := ok.AddUser(oktatest.User{Login: "ali.lesch@example.com"})
	key, pemKey := newRSAKey(t)
	ok.AddOAuthClient("0oaservice000000000", key.Public(), "okta.users.manage", "okta.users.read")
	b.add(t, "Okta", "okta", false, map[string]string{"url": ok.URL, "auth": "oauth", "clientId": "0oaservice000000000",
		"privateKey": pemKey, "scopes": "okta.users.read okta.users.manage"})
	r := b.run(t, "okta.suspendUser", map[string]any{"connection": "Okta", "user": u.ID}, false)
	if r.fault != nil {
		t.Fatalf("fault: %v", r.fault)
	}
	if got, _ := ok.User(u.ID); got.Status != "SUSPENDED" {
		t.Errorf("status %s", got.Status)
	}
}
