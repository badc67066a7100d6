package okta_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/clocktest"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/okta"
	"github.com/vigil-ispm/vigil/internal/okta/oktatest"
	"github.com/vigil-ispm/vigil/internal/vendorfake"
)

type testBundle struct {
	fake  *oktatest.Server
	clock *clocktest.Clock
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	b := &testBundle{
		fake:  oktatest.New(t),
		clock: clocktest.New(time.Time{}), // sleeping advances it, so waits for resets take no real time
	}
	b.fake.SetClock(b.clock.Now)
	return b
}

// guarded is the SSRF-guarded client Vigil passes, opened for loopback
// because the fake listens there.
func guarded() *http.Client {
	return netguard.NewClient(netguard.Config{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
}

func (b *testBundle) client(t *testing.T, edit func(*okta.Config)) *okta.Client {
	t.Helper()
	cfg := okta.Config{
		BaseURL:    b.fake.URL,
		Token:      b.fake.Token(),
		HTTPClient: guarded(),
		Retry:      vendorfake.Retry(b.clock),
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := okta.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func ctx(t *testing.T) context.Context { return t.Context() }

func TestListUsersPagesAndIncludesDeprovisioned(t *testing.T) {
	tests := []struct {
		name      string
		pageSize  int
		active    int
		gone      int
		wantPages int // GET /api/v1/users requests in all
	}{
		{"one page each", 0, 10, 1, 2},
		{"several pages", 0, 450, 3, 4},
		{"exact page multiple", 0, 400, 0, 3},
		{"small pages", 50, 120, 60, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t)
			for i := range tt.active {
				b.fake.AddUser(oktatest.User{Login: fmt.Sprintf("user%03d@example.com", i)})
			}
			for i := range tt.gone {
				b.fake.AddUser(oktatest.User{Login: fmt.Sprintf("gone%03d@example.com", i), Status: "DEPROVISIONED"})
			}
			c := b.client(t, func(c *okta.Config) { c.PageSize = tt.pageSize })
			users, err := c.ListUsers(ctx(t))
			if err != nil {
				t.Fatalf("ListUsers: %v", err)
			}
			if len(users) != tt.active+tt.gone {
				t.Errorf("got %d users, want %d", len(users), tt.active+tt.gone)
			}
			seen := map[string]bool{}
			var deprovisioned int
			for _, u := range users {
				if seen[u.ID] {
					t.Errorf("user %s listed twice", u.ID)
				}
				seen[u.ID] = true
				if u.Status == okta.StatusDeprovisioned {
					deprovisioned++
				}
			}
			if deprovisioned != tt.gone {
				t.Errorf("got %d deprovisioned users, want %d", deprovisioned, tt.gone)
			}
			reqs := b.fake.Requests()
			if len(reqs) != tt.wantPages {
				t.Errorf("got %d requests, want %d", len(reqs), tt.wantPages)
			}
			for i, r := range reqs {
				q, _ := url.ParseQuery(r.Query)
				if r.Method != http.MethodGet || r.Path != "/api/v1/users" {
					t.Errorf("request %d: %s %s", i, r.Method, r.Path)
				}
				if q.Get("limit") == "" {
					t.Errorf("request %d has no limit: %s", i, r.Query)
				}
			}
			if q, _ := url.ParseQuery(reqs[len(reqs)-1].Query); q.Get("filter") != `status eq "DEPROVISIONED"` {
				t.Errorf("last request filter = %q, want the DEPROVISIONED filter", q.Get("filter"))
			}
		})
	}
}

func TestUserFields(t *testing.T) {
	b := setup(t)
	login := time.Date(2026, 8, 29, 8, 12, 0, 0, time.UTC)
	pw := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	u := b.fake.AddUser(oktatest.User{
		Login: "ali.lesch@example.com", FirstName: "Ali", LastName: "Lesch",
		LastLogin: &login, PasswordChanged: &pw, Profile: map[string]any{"department": "IT"},
	})
	never := b.fake.AddUser(oktatest.User{Login: "new@example.com", Status: "STAGED"})
	c := b.client(t, nil)

	got, err := c.GetUser(ctx(t), u.ID)
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if got.Profile.Login != "ali.lesch@example.com" || got.Profile.FirstName != "Ali" || got.Profile.Email != "ali.lesch@example.com" {
		t.Errorf("profile = %+v", got.Profile)
	}
	if got.Profile.Attributes["department"] != "IT" {
		t.Errorf("custom attribute department = %v", got.Profile.Attributes["department"])
	}
	if got.LastLogin == nil || !got.LastLogin.Equal(login) || got.PasswordChanged == nil || !got.PasswordChanged.Equal(pw) {
		t.Errorf("lastLogin %v passwordChanged %v", got.LastLogin, got.PasswordChanged)
	}
	if got.Status != okta.StatusActive || got.Created.IsZero() {
		t.Errorf("status %q created %v", got.Status, got.Created)
	}

	byLogin, err := c.FindUserByLogin(ctx(t), "NEW@example.com")
	if err != nil {
		t.Fatalf("FindUserByLogin: %v", err)
	}
	if byLogin.ID != never.ID || byLogin.LastLogin != nil || byLogin.Status != okta.StatusStaged {
		t.Errorf("FindUserByLogin = %+v", byLogin)
	}
	_, err = c.FindUserByLogin(ctx(t), "nobody@example.com")
	if !errors.Is(err, okta.ErrNotFound) {
		t.Errorf("unknown login: err = %v, want ErrNotFound", err)
	}
}

func TestRateLimit429ThenSuccess(t *testing.T) {
	b := setup(t)
	b.fake.AddGroup(oktatest.Group{Name: "Admins"})
	b.fake.FailNext("GET", "/api/v1/groups", http.StatusTooManyRequests, 2)
	c := b.client(t, nil)
	groups, err := c.ListGroups(ctx(t))
	if err != nil {
		t.Fatalf("ListGroups: %v", err)
	}
	if len(groups) != 2 { // Everyone and Admins
		t.Errorf("got %d groups, want 2", len(groups))
	}
	if got := b.clock.Waits(); len(got) != 2 || got[0] != time.Second || got[1] != time.Second {
		t.Errorf("sleeps = %v, want two waits of 1s until X-Rate-Limit-Reset", got)
	}
	if n := len(b.fake.Requests()); n != 3 {
		t.Errorf("got %d requests, want 3", n)
	}
}

func TestRateLimitGivesUp(t *testing.T) {
	b := setup(t)
	b.fake.FailNext("GET", "/api/v1/groups", http.StatusTooManyRequests, 10)
	c := b.client(t, func(c *okta.Config) { c.Retry.MaxRetries = 2 })
	_, err := c.ListGroups(ctx(t))
	var e *okta.Error
	if !errors.As(err, &e) || !errors.Is(err, okta.ErrRateLimited) {
		t.Fatalf("err = %v, want a rate-limited *okta.Error", err)
	}
	if e.Code != "E0000047" || e.StatusCode != 429 {
		t.Errorf("error = %+v", e)
	}
	if n := len(b.fake.Requests()); n != 3 {
		t.Errorf("got %d requests, want 3 (one try and two retries)", n)
	}
}

func TestSlowsDownWhenNoRequestRemains(t *testing.T) {
	b := setup(t)
	b.fake.SetRateLimit(600, 1)
	c := b.client(t, nil)
	if _, err := c.ListGroups(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListAPITokens(ctx(t)); err != nil {
		t.Fatalf("second call: %v", err)
	}
	sleeps := b.clock.Waits()
	if len(sleeps) != 1 || sleeps[0] != time.Minute {
		t.Errorf("sleeps = %v, want one wait of 1m until the window resets", sleeps)
	}
	if n := len(b.fake.Requests()); n != 2 {
		t.Errorf("got %d requests, want 2 (no 429 provoked)", n)
	}
}

func TestServerErrorRetry(t *testing.T) {
	tests := []struct {
		name       string
		failures   int
		status     int
		wantErr    bool
		wantSleeps []time.Duration
	}{
		{"one 500", 1, 500, false, []time.Duration{time.Second}},
		{"two 503", 2, 503, false, []time.Duration{time.Second, 2 * time.Second}},
		{"persistent 500", 5, 500, true, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t)
			b.fake.FailNext("GET", "/api/v1/api-tokens", tt.status, tt.failures)
			c := b.client(t, nil)
			_, err := c.ListAPITokens(ctx(t))
			if tt.wantErr {
				var e *okta.Error
				if !errors.As(err, &e) || e.StatusCode != tt.status || e.Code != "E0000009" {
					t.Errorf("err = %v, want *okta.Error %d E0000009", err, tt.status)
				}
			} else if err != nil {
				t.Fatalf("ListAPITokens: %v", err)
			}
			if got := b.clock.Waits(); fmt.Sprint(got) != fmt.Sprint(tt.wantSleeps) {
				t.Errorf("sleeps = %v, want %v", got, tt.wantSleeps)
			}
		})
	}
}

func TestUnauthorized(t *testing.T) {
	b := setup(t)
	c := b.client(t, func(c *okta.Config) { c.Token = "revoked-token-value" })
	_, err := c.ListUsers(ctx(t))
	var e *okta.Error
	if !errors.As(err, &e) || !errors.Is(err, okta.ErrUnauthorized) {
		t.Fatalf("err = %v, want unauthorized *okta.Error", err)
	}
	if e.Code != "E0000011" || e.Message != "Invalid token provided" || e.RequestID == "" {
		t.Errorf("error = %+v", e)
	}
	want := "okta: list users: Okta answered 401 E0000011: Invalid token provided [errorId " + e.RequestID + "]"
	if err.Error() != want {
		t.Errorf("message = %q, want %q", err.Error(), want)
	}
	if strings.Contains(err.Error(), "revoked-token-value") {
		t.Error("the error reveals the token")
	}
	if n := len(b.fake.Requests()); n != 1 {
		t.Errorf("got %d requests, want 1: a 401 is not retried", n)
	}
}

func TestWrites(t *testing.T) {
	type bundle struct {
		*testBundle
		user, group string
	}
	tests := []struct {
		name       string
		status     string // initial user status
		act        func(context.Context, *okta.Client, bundle) error
		wantMethod string
		wantPath   string // with {u} and {g}
		wantStatus string // user status afterwards
		wantCode   string // Okta error code, if the write must fail
		check      func(*testing.T, bundle)
	}{
		{
			name: "suspend", status: "ACTIVE",
			act:        func(ctx context.Context, c *okta.Client, b bundle) error { return c.SuspendUser(ctx, b.user) },
			wantMethod: "POST", wantPath: "/api/v1/users/{u}/lifecycle/suspend", wantStatus: "SUSPENDED",
		},
		{
			name: "suspend a suspended user", status: "SUSPENDED",
			act:        func(ctx context.Context, c *okta.Client, b bundle) error { return c.SuspendUser(ctx, b.user) },
			wantMethod: "POST", wantPath: "/api/v1/users/{u}/lifecycle/suspend", wantStatus: "SUSPENDED", wantCode: "E0000001",
		},
		{
			name: "unsuspend", status: "SUSPENDED",
			act:        func(ctx context.Context, c *okta.Client, b bundle) error { return c.UnsuspendUser(ctx, b.user) },
			wantMethod: "POST", wantPath: "/api/v1/users/{u}/lifecycle/unsuspend", wantStatus: "ACTIVE",
		},
		{
			name: "expire password", status: "ACTIVE",
			act:        func(ctx context.Context, c *okta.Client, b bundle) error { return c.ExpirePassword(ctx, b.user) },
			wantMethod: "POST", wantPath: "/api/v1/users/{u}/lifecycle/expire_password", wantStatus: "PASSWORD_EXPIRED",
		},
		{
			name: "clear sessions", status: "ACTIVE",
			act:        func(ctx context.Context, c *okta.Client, b bundle) error { return c.ClearUserSessions(ctx, b.user) },
			wantMethod: "DELETE", wantPath: "/api/v1/users/{u}/sessions", wantStatus: "ACTIVE",
			check: func(t *testing.T, b bundle) {
				if n := b.fake.SessionsCleared(b.user); n != 1 {
					t.Errorf("sessions cleared %d times, want 1", n)
				}
			},
		},
		{
			name: "add to group", status: "ACTIVE",
			act: func(ctx context.Context, c *okta.Client, b bundle) error {
				return c.AddUserToGroup(ctx, b.group, b.user)
			},
			wantMethod: "PUT", wantPath: "/api/v1/groups/{g}/users/{u}", wantStatus: "ACTIVE",
			check: func(t *testing.T, b bundle) {
				if m := b.fake.GroupMembers(b.group); len(m) != 1 || m[0] != b.user {
					t.Errorf("group members = %v, want [%s]", m, b.user)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := setup(t)
			b := bundle{testBundle: tb}
			b.user = tb.fake.AddUser(oktatest.User{Login: "ali@example.com", Status: tt.status}).ID
			b.group = tb.fake.AddGroup(oktatest.Group{Name: "MFA enforced"}).ID
			c := tb.client(t, nil)
			err := tt.act(ctx(t), c, b)
			if tt.wantCode != "" {
				var e *okta.Error
				if !errors.As(err, &e) || e.Code != tt.wantCode || e.StatusCode != 400 {
					t.Fatalf("err = %v, want 400 %s", err, tt.wantCode)
				}
			} else if err != nil {
				t.Fatalf("write: %v", err)
			}
			reqs := tb.fake.Requests()
			path := strings.NewReplacer("{u}", b.user, "{g}", b.group).Replace(tt.wantPath)
			if len(reqs) != 1 || reqs[0].Method != tt.wantMethod || reqs[0].Path != path {
				t.Errorf("requests = %+v, want exactly one %s %s", reqs, tt.wantMethod, path)
			}
			if u, _ := tb.fake.User(b.user); u.Status != tt.wantStatus {
				t.Errorf("user status = %s, want %s", u.Status, tt.wantStatus)
			}
			if tt.check != nil {
				tt.check(t, b)
			}
		})
	}
}

func TestWriteToUnknownUser(t *testing.T) {
	b := setup(t)
	c := b.client(t, nil)
	err := c.SuspendUser(ctx(t), "00unknown")
	if !errors.Is(err, okta.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
	if err := c.SuspendUser(ctx(t), ""); err == nil {
		t.Error("empty user id accepted")
	}
	if n := len(b.fake.Requests()); n != 1 {
		t.Errorf("got %d requests, want 1 (none for the empty id)", n)
	}
}

func TestSuspendRetriedAfterServerError(t *testing.T) {
	b := setup(t)
	u := b.fake.AddUser(oktatest.User{Login: "ali@example.com"})
	b.fake.FailNext("POST", "/api/v1/users/"+u.ID+"/lifecycle/suspend", 502, 1)
	c := b.client(t, nil)
	if err := c.SuspendUser(ctx(t), u.ID); err != nil {
		t.Fatalf("SuspendUser: %v", err)
	}
	if got, _ := b.fake.User(u.ID); got.Status != "SUSPENDED" {
		t.Errorf("status = %s", got.Status)
	}
}

func TestReads(t *testing.T) {
	b := setup(t)
	admin := b.fake.AddUser(oktatest.User{Login: "admin@example.com"})
	helpdesk := b.fake.AddUser(oktatest.User{Login: "helpdesk@example.com"})
	plain := b.fake.AddUser(oktatest.User{Login: "plain@example.com"})
	b.fake.AddFactor(admin.ID, oktatest.Factor{FactorType: "push"})
	b.fake.AddFactor(admin.ID, oktatest.Factor{FactorType: "sms", Status: "PENDING_ACTIVATION"})
	b.fake.AddUserRole(admin.ID, oktatest.Role{Type: okta.RoleSuperAdmin})
	g := b.fake.AddGroup(oktatest.Group{Name: "Help desk"})
	b.fake.AddMember(g.ID, helpdesk.ID)
	b.fake.AddGroupRole(g.ID, oktatest.Role{Type: okta.RoleHelpDeskAdmin})
	b.fake.AddAPIToken(oktatest.APIToken{Name: "scanner", UserID: admin.ID})
	c := b.client(t, nil)

	factors, err := c.ListFactors(ctx(t), admin.ID)
	if err != nil || len(factors) != 2 || factors[0].FactorType != "push" || factors[1].Status != "PENDING_ACTIVATION" {
		t.Errorf("ListFactors = %+v, %v", factors, err)
	}
	roles, err := c.ListUserRoles(ctx(t), admin.ID)
	if err != nil || len(roles) != 1 || roles[0].Type != okta.RoleSuperAdmin || roles[0].AssignmentType != "USER" {
		t.Errorf("ListUserRoles(admin) = %+v, %v", roles, err)
	}
	roles, err = c.ListUserRoles(ctx(t), helpdesk.ID)
	if err != nil || len(roles) != 1 || roles[0].Type != okta.RoleHelpDeskAdmin || roles[0].AssignmentType != "GROUP" {
		t.Errorf("ListUserRoles(helpdesk) = %+v, %v", roles, err)
	}
	assignees, err := c.ListRoleAssignees(ctx(t))
	if err != nil || len(assignees) != 2 || assignees[0].ID != admin.ID || assignees[1].ID != helpdesk.ID {
		t.Errorf("ListRoleAssignees = %+v, %v", assignees, err)
	}
	members, err := c.ListGroupUsers(ctx(t), g.ID)
	if err != nil || len(members) != 1 || members[0].ID != helpdesk.ID {
		t.Errorf("ListGroupUsers = %+v, %v", members, err)
	}
	everyone, err := c.ListGroupUsers(ctx(t), oktatest.EveryoneGroupID)
	if err != nil || len(everyone) != 3 {
		t.Errorf("ListGroupUsers(Everyone) = %d users, %v", len(everyone), err)
	}
	groupRoles, err := c.ListGroupRoles(ctx(t), g.ID)
	if err != nil || len(groupRoles) != 1 || groupRoles[0].Type != okta.RoleHelpDeskAdmin {
		t.Errorf("ListGroupRoles = %+v, %v", groupRoles, err)
	}
	tokens, err := c.ListAPITokens(ctx(t))
	if err != nil || len(tokens) != 1 || tokens[0].UserID != admin.ID || tokens[0].Created.IsZero() {
		t.Errorf("ListAPITokens = %+v, %v", tokens, err)
	}
	if roles, err := c.ListUserRoles(ctx(t), plain.ID); err != nil || len(roles) != 0 {
		t.Errorf("ListUserRoles(plain) = %+v, %v", roles, err)
	}
	for _, r := range b.fake.Requests() {
		if r.Method != http.MethodGet {
			t.Errorf("read made a %s request to %s", r.Method, r.Path)
		}
		if r.Header["Accept"][0] != "application/json" {
			t.Errorf("request to %s has Accept %q", r.Path, r.Header["Accept"])
		}
	}
}

func TestRoleAssigneesPagesThroughLinksInBody(t *testing.T) {
	b := setup(t)
	for i := range 250 {
		u := b.fake.AddUser(oktatest.User{Login: fmt.Sprintf("admin%03d@example.com", i)})
		b.fake.AddUserRole(u.ID, oktatest.Role{Type: okta.RoleOrgAdmin})
	}
	c := b.client(t, nil)
	got, err := c.ListRoleAssignees(ctx(t))
	if err != nil {
		t.Fatalf("ListRoleAssignees: %v", err)
	}
	if len(got) != 250 {
		t.Errorf("got %d assignees, want 250", len(got))
	}
	if n := len(b.fake.Requests()); n != 3 {
		t.Errorf("got %d requests, want 3 pages of at most 100", n)
	}
}

func TestPoliciesAndMFARequired(t *testing.T) {
	b := setup(t)
	admin := b.fake.AddUser(oktatest.User{Login: "admin@example.com"})
	other := b.fake.AddUser(oktatest.User{Login: "other@example.com"})
	admins := b.fake.AddGroup(oktatest.Group{Name: "Admins"})
	b.fake.AddMember(admins.ID, admin.ID)
	b.fake.AddPolicy(oktatest.Policy{Type: "OKTA_SIGN_ON", Name: "Admins", Priority: 1, GroupsInclude: []string{admins.ID},
		Rules: []oktatest.Rule{{Name: "MFA", Priority: 1, RequireFactor: true}}})
	b.fake.AddPolicy(oktatest.Policy{Type: "OKTA_SIGN_ON", Name: "Default Policy", Priority: 2, System: true,
		GroupsInclude: []string{oktatest.EveryoneGroupID}, Rules: []oktatest.Rule{{Name: "Default Rule", Priority: 1}}})
	b.fake.AddPolicy(oktatest.Policy{Type: "ACCESS_POLICY", Name: "Okta Admin Console", Priority: 1,
		Rules: []oktatest.Rule{{Name: "Catch-all", Priority: 99, FactorMode: "1FA"}}})
	c := b.client(t, nil)

	signOn, err := c.ListPoliciesWithRules(ctx(t), okta.PolicyOktaSignOn)
	if err != nil || len(signOn) != 2 || len(signOn[0].Rules) != 1 || signOn[0].Rules[0].Actions.Signon == nil {
		t.Fatalf("ListPoliciesWithRules(OKTA_SIGN_ON) = %+v, %v", signOn, err)
	}
	access, err := c.ListPoliciesWithRules(ctx(t), okta.PolicyAccess)
	if err != nil || len(access) != 1 || access[0].Rules[0].Actions.AppSignOn == nil {
		t.Fatalf("ListPoliciesWithRules(ACCESS_POLICY) = %+v, %v", access, err)
	}
	if !okta.MFARequired(admin.ID, []string{oktatest.EveryoneGroupID, admins.ID}, signOn, access) {
		t.Error("MFA not required for the admin covered by the Admins sign-on policy")
	}
	if okta.MFARequired(other.ID, []string{oktatest.EveryoneGroupID}, signOn, access) {
		t.Error("MFA required for a user only the default policy covers")
	}
}

func TestRefusesNextLinkToAnotherHost(t *testing.T) {
	var calls int
	srv := oktaLike(t, func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("Link", `<https://elsewhere.example/api/v1/groups?after=x>; rel="next"`)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `[]`)
	})
	c, err := okta.New(okta.Config{BaseURL: srv, Token: "t", HTTPClient: guarded()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListGroups(ctx(t))
	if err == nil || !strings.Contains(err.Error(), "another host") {
		t.Errorf("err = %v, want a refusal to follow the link", err)
	}
	if calls != 1 {
		t.Errorf("got %d calls, want 1", calls)
	}
}

func TestConfigValidation(t *testing.T) {
	hc := guarded()
	tests := []struct {
		name string
		cfg  okta.Config
		want string
	}{
		{"no URL", okta.Config{Token: "t", HTTPClient: hc}, "is not an http(s) URL"},
		{"bad scheme", okta.Config{BaseURL: "ftp://x.okta.com", Token: "t", HTTPClient: hc}, "is not an http(s) URL"},
		{"credentials in URL", okta.Config{BaseURL: "https://u:p@x.okta.com", Token: "t", HTTPClient: hc}, "must not carry credentials"},
		{"no auth", okta.Config{BaseURL: "https://x.okta.com", HTTPClient: hc}, "needs an API token"},
		{"both auths", okta.Config{BaseURL: "https://x.okta.com", Token: "t", OAuth: &okta.OAuthConfig{}, HTTPClient: hc}, "not both"},
		{"no HTTP client", okta.Config{BaseURL: "https://x.okta.com", Token: "t"}, "needs an HTTP client"},
		{"incomplete OAuth", okta.Config{BaseURL: "https://x.okta.com", OAuth: &okta.OAuthConfig{ClientID: "c"}, HTTPClient: hc}, "needs a client id, a private key"},
	}
	for _, tt := range tests {
		_, err := okta.New(tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want containing %q", tt.name, err, tt.want)
		}
	}
}

// recorder is a RoundTripper that records requests and answers a canned
// response: how dry runs drive the client.
type recorder struct{ reqs []*http.Request }

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.reqs = append(r.reqs, req)
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
}

func TestDryRunTransport(t *testing.T) {
	rec := &recorder{}
	c, err := okta.New(okta.Config{BaseURL: "https://example.okta.com", Token: "secret", HTTPClient: &http.Client{Transport: rec}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SuspendUser(ctx(t), "00u1"); err != nil {
		t.Fatal(err)
	}
	if len(rec.reqs) != 1 {
		t.Fatalf("recorded %d requests, want 1", len(rec.reqs))
	}
	r := rec.reqs[0]
	if r.Method != "POST" || r.URL.String() != "https://example.okta.com/api/v1/users/00u1/lifecycle/suspend" || r.Header.Get("Authorization") != "SSWS secret" {
		t.Errorf("recorded %s %s auth %q", r.Method, r.URL, r.Header.Get("Authorization"))
	}
}
