package entra_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/clocktest"
	"github.com/vigil-ispm/vigil/internal/entra"
	"github.com/vigil-ispm/vigil/internal/entra/entratest"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/vendorfake"
)

type testBundle struct {
	fake  *entratest.Server
	clock *clocktest.Clock
}

func setup(t *testing.T) (*testBundle, *entra.Client) {
	t.Helper()
	b := &testBundle{fake: entratest.New(t), clock: clocktest.Still(time.Time{})}
	return b, b.client(t, nil)
}

func (b *testBundle) client(t *testing.T, edit func(*entra.Config)) *entra.Client {
	t.Helper()
	cfg := b.fake.Config()
	cfg.Retry = vendorfake.Retry(b.clock)
	if edit != nil {
		edit(&cfg)
	}
	c, err := entra.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func day(d int) time.Time { return time.Date(2026, 1, d, 9, 30, 0, 0, time.UTC) }

func seedUsers(fake *entratest.Server, n int) {
	for i := range n {
		fake.AddUser(entratest.User{
			ID: "u" + string(rune('a'+i)), DisplayName: "User " + string(rune('A'+i)),
			UserPrincipalName: string(rune('a'+i)) + "@contoso.example", Mail: string(rune('a'+i)) + "@contoso.example",
			AccountEnabled: i%2 == 0, CreatedDateTime: day(1), LastPasswordChangeDateTime: day(2),
			LastSignInDateTime: day(3 + i),
		})
	}
}

func TestUsersFollowsNextLinkAcrossPages(t *testing.T) {
	b, c := setup(t)
	seedUsers(b.fake, 5)
	b.fake.AddUser(entratest.User{ID: "never", UserPrincipalName: "never@contoso.example", AccountEnabled: true,
		UserType: "Guest", CreatedDateTime: day(1)})
	b.fake.SetPageSize(2)

	users, err := c.ListUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 6 {
		t.Fatalf("got %d users, want 6", len(users))
	}
	first := users[0]
	if first.ID != "ua" || first.UserPrincipalName != "a@contoso.example" || !first.AccountEnabled ||
		first.UserType != "Member" || !first.CreatedDateTime.Equal(day(1)) ||
		!first.LastPasswordChangeDateTime.Equal(day(2)) || first.SignInActivity == nil ||
		!first.SignInActivity.LastSignInDateTime.Equal(day(3)) {
		t.Errorf("first user decoded wrong: %+v %+v", first, first.SignInActivity)
	}
	if users[1].AccountEnabled {
		t.Error("second user should be disabled")
	}
	if last := users[5]; last.SignInActivity != nil || last.UserType != "Guest" {
		t.Errorf("user who never signed in: got activity %+v type %q", last.SignInActivity, last.UserType)
	}

	reqs := b.fake.GraphRequests()
	if len(reqs) != 3 {
		t.Fatalf("got %d Graph requests, want 3 pages", len(reqs))
	}
	wantSelect := "id,displayName,userPrincipalName,mail,accountEnabled,createdDateTime,userType,lastPasswordChangeDateTime,signInActivity"
	for i, r := range reqs {
		if r.Method != http.MethodGet || r.Path != "/v1.0/users" || r.Query.Get("$select") != wantSelect || r.Query.Get("$top") != "999" {
			t.Errorf("request %d = %s %s %v", i, r.Method, r.Path, r.Query)
		}
		if (i == 0) != (r.Query.Get("$skiptoken") == "") {
			t.Errorf("request %d: $skiptoken %q", i, r.Query.Get("$skiptoken"))
		}
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			t.Errorf("request %d has no bearer token", i)
		}
	}
	if n := len(b.fake.Requests()) - len(reqs); n != 1 {
		t.Errorf("token requested %d times, want 1", n)
	}
}

func TestUsersWithoutPremiumLicenceDropsSignInActivity(t *testing.T) {
	b, c := setup(t)
	seedUsers(b.fake, 2)
	b.fake.SetPremium(false)

	users, err := c.ListUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 || users[0].SignInActivity != nil || !users[0].AccountEnabled {
		t.Fatalf("got %+v", users)
	}
	reqs := b.fake.GraphRequests()
	if len(reqs) != 2 || strings.Contains(reqs[1].Query.Get("$select"), "signInActivity") ||
		!strings.Contains(reqs[0].Query.Get("$select"), "signInActivity") {
		t.Errorf("requests: %+v", reqs)
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter string
		failures   int
		wantWaits  []time.Duration
		wantErr    error
	}{
		{"429 honours Retry-After", http.StatusTooManyRequests, "7", 1, []time.Duration{7 * time.Second}, nil},
		{"429 without Retry-After backs off", http.StatusTooManyRequests, "", 2, []time.Duration{time.Second, 2 * time.Second}, nil},
		{"503 backs off", http.StatusServiceUnavailable, "", 2, []time.Duration{time.Second, 2 * time.Second}, nil},
		{"500 retried until the bound", http.StatusInternalServerError, "", 10,
			[]time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, nil},
		{"429 still throttled after retries", http.StatusTooManyRequests, "1", 10,
			[]time.Duration{time.Second, time.Second, time.Second}, entra.ErrRateLimited},
		{"Retry-After beyond the limit fails at once", http.StatusTooManyRequests, "3600", 1, nil, entra.ErrRateLimited},
		{"403 is not retried", http.StatusForbidden, "", 1, nil, entra.ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, c := setup(t)
			seedUsers(b.fake, 1)
			b.fake.FailNext(tt.failures, tt.status, tt.retryAfter)
			users, err := c.ListUsers(context.Background())
			switch {
			case tt.status == http.StatusInternalServerError:
				var e *entra.Error
				if !errors.As(err, &e) || e.StatusCode != 500 {
					t.Fatalf("err = %v, want a 500 *entra.Error", err)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			default:
				if err != nil || len(users) != 1 {
					t.Fatalf("users %v, err %v", users, err)
				}
			}
			if got := b.clock.Waits(); !slices.Equal(got, tt.wantWaits) {
				t.Errorf("waits = %v, want %v", got, tt.wantWaits)
			}
		})
	}
}

func TestTokenRequestRetriedOn5xx(t *testing.T) {
	b, c := setup(t)
	seedUsers(b.fake, 1)
	b.fake.FailNextToken(1, http.StatusServiceUnavailable, "2")
	if _, err := c.ListUsers(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := b.clock.Waits(); !slices.Equal(got, []time.Duration{2 * time.Second}) {
		t.Errorf("waits = %v", got)
	}
}

func TestCredentialErrors(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(*entra.Config)
		wantCode string
	}{
		{"wrong secret", func(c *entra.Config) { c.ClientSecret = "not-the-secret" }, "invalid_client"},
		{"unknown client", func(c *entra.Config) { c.ClientID = "00000000-0000-0000-0000-000000000000" }, "unauthorized_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := setup(t)
			c := b.client(t, tt.edit)
			_, err := c.ListUsers(context.Background())
			var e *entra.Error
			if !errors.As(err, &e) || e.Code != tt.wantCode || !errors.Is(err, entra.ErrUnauthorized) {
				t.Fatalf("err = %v, want code %s matching ErrUnauthorized", err, tt.wantCode)
			}
			msg := err.Error()
			if strings.Contains(msg, "not-the-secret") || strings.Contains(msg, entratest.ClientSecret) ||
				strings.Contains(msg, "\n") || strings.Contains(msg, "Trace ID") {
				t.Errorf("message leaks or spans lines: %q", msg)
			}
			if len(b.fake.GraphRequests()) != 0 {
				t.Error("Graph was called without a token")
			}
		})
	}
}

func TestTokenCachedUntilExpiryAndRefreshedOn401(t *testing.T) {
	b, c := setup(t)
	seedUsers(b.fake, 1)
	ctx := context.Background()
	tokenRequests := func() int { return len(b.fake.Requests()) - len(b.fake.GraphRequests()) }

	for range 2 {
		if _, err := c.ListUsers(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := tokenRequests(); n != 1 {
		t.Fatalf("token requests = %d, want 1 (cached)", n)
	}
	b.clock.Add(59 * time.Minute) // within a minute of expires_in 3599
	if _, err := c.ListUsers(ctx); err != nil {
		t.Fatal(err)
	}
	if n := tokenRequests(); n != 2 {
		t.Fatalf("token requests = %d, want 2 (refreshed before expiry)", n)
	}
	b.fake.RevokeTokens()
	if _, err := c.ListUsers(ctx); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if n := tokenRequests(); n != 3 {
		t.Fatalf("token requests = %d, want 3 (refreshed after 401)", n)
	}
}

func TestRegistrationDetails(t *testing.T) {
	b, c := setup(t)
	b.fake.AddUser(entratest.User{ID: "u1", UserPrincipalName: "ann@contoso.example", AccountEnabled: true,
		MethodsRegistered: []string{"microsoftAuthenticatorPush", "mobilePhone"}})
	b.fake.AddUser(entratest.User{ID: "u2", UserPrincipalName: "bob@contoso.example", AccountEnabled: true,
		MethodsRegistered: []string{"email"}})
	b.fake.AddUser(entratest.User{ID: "u3", UserPrincipalName: "cy@contoso.example", AccountEnabled: true})
	b.fake.AddRole(entratest.Role{ID: "r1", DisplayName: "User Administrator",
		RoleTemplateID: "fe930be7-5e62-47db-91af-98c3a49a38b1", MemberIDs: []string{"u2"}})
	b.fake.SetPageSize(2)

	details, err := c.ListRegistrationDetails(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(details) != 3 {
		t.Fatalf("got %d details", len(details))
	}
	if d := details[0]; !d.IsMfaRegistered || !d.IsMfaCapable || d.IsAdmin || len(d.MethodsRegistered) != 2 {
		t.Errorf("ann: %+v", d)
	}
	if d := details[1]; d.IsMfaRegistered || !d.IsAdmin || d.MethodsRegistered[0] != "email" {
		t.Errorf("bob: %+v", d)
	}
	if r := b.fake.GraphRequests()[0]; r.Path != "/v1.0/reports/authenticationMethods/userRegistrationDetails" {
		t.Errorf("path %s", r.Path)
	}
}

func TestDirectoryRolesReadsEveryMemberPage(t *testing.T) {
	b, c := setup(t)
	seedUsers(b.fake, 5)
	b.fake.AddServicePrincipal(entratest.ServicePrincipal{ID: "sp1", AppID: "app1", DisplayName: "Deploy bot"})
	b.fake.AddRole(entratest.Role{ID: "role-ga", DisplayName: "Global Administrator",
		RoleTemplateID: entra.GlobalAdministratorTemplateID, MemberIDs: []string{"ua", "ub", "uc", "sp1"}})
	b.fake.AddRole(entratest.Role{ID: "role-ua", DisplayName: "User Administrator",
		RoleTemplateID: "fe930be7-5e62-47db-91af-98c3a49a38b1", MemberIDs: []string{"ud"}})
	b.fake.SetPageSize(3)

	roles, err := c.ListDirectoryRoles(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(roles) != 2 || !roles[0].IsGlobalAdministrator() || roles[1].IsGlobalAdministrator() {
		t.Fatalf("roles: %+v", roles)
	}
	if len(roles[0].Members) != 4 {
		t.Fatalf("global admin members = %+v, want 4 across two pages", roles[0].Members)
	}
	if m := roles[0].Members[3]; m.Kind() != "servicePrincipal" || m.ID != "sp1" {
		t.Errorf("service principal member: %+v", m)
	}
	if m := roles[0].Members[0]; m.Kind() != "user" || m.UserPrincipalName != "a@contoso.example" {
		t.Errorf("user member: %+v", m)
	}
	var paths []string
	for _, r := range b.fake.GraphRequests() {
		paths = append(paths, r.Path)
	}
	want := "/v1.0/directoryRoles /v1.0/directoryRoles/role-ga/members /v1.0/directoryRoles/role-ga/members /v1.0/directoryRoles/role-ua/members"
	if strings.Join(paths, " ") != want {
		t.Errorf("paths = %v", paths)
	}
}

func TestServicePrincipalsAndApplicationsCarryCredentials(t *testing.T) {
	b, c := setup(t)
	b.fake.AddServicePrincipal(entratest.ServicePrincipal{ID: "sp1", AppID: "a1", DisplayName: "CI", AccountEnabled: true,
		PasswordCredentials: []entratest.Credential{{KeyID: "k1", DisplayName: "ci secret", StartDateTime: day(1), EndDateTime: day(1).AddDate(2, 0, 0)}}})
	b.fake.AddApplication(entratest.Application{ID: "app1", AppID: "a1", DisplayName: "CI", CreatedDateTime: day(1),
		PasswordCredentials: []entratest.Credential{{KeyID: "k2", StartDateTime: day(2), EndDateTime: day(3)}},
		KeyCredentials:      []entratest.Credential{{KeyID: "k3", StartDateTime: day(4), EndDateTime: day(5)}}})

	sps, err := c.ListServicePrincipals(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(sps) != 1 || len(sps[0].PasswordCredentials) != 1 || sps[0].PasswordCredentials[0].KeyID != "k1" {
		t.Fatalf("service principals: %+v", sps)
	}
	if age := sps[0].PasswordCredentials[0].Age(day(11)); age != 240*time.Hour {
		t.Errorf("age = %s", age)
	}
	apps, err := c.ListApplications(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 1 || apps[0].PasswordCredentials[0].KeyID != "k2" || apps[0].KeyCredentials[0].KeyID != "k3" ||
		!apps[0].PasswordCredentials[0].Expired(day(4)) || apps[0].PasswordCredentials[0].Expired(day(2)) {
		t.Fatalf("applications: %+v", apps)
	}
}

func TestDisableUser(t *testing.T) {
	b, c := setup(t)
	b.fake.AddUser(entratest.User{ID: "u1", UserPrincipalName: "ann@contoso.example", AccountEnabled: true})
	ctx := context.Background()

	if err := c.DisableUser(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	if u, _ := b.fake.User("u1"); u.AccountEnabled {
		t.Error("user still enabled")
	}
	r := b.fake.GraphRequests()[0]
	if r.Method != http.MethodPatch || r.Path != "/v1.0/users/u1" || string(r.Body) != `{"accountEnabled":false}` ||
		r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request = %s %s %s %q", r.Method, r.Path, r.Body, r.Header.Get("Content-Type"))
	}
	err := c.DisableUser(ctx, "nobody")
	if !errors.Is(err, entra.ErrNotFound) || !strings.Contains(err.Error(), "disable user nobody") {
		t.Errorf("unknown user: err = %v", err)
	}
}

func TestAddGroupMember(t *testing.T) {
	b, c := setup(t)
	b.fake.AddUser(entratest.User{ID: "u1", AccountEnabled: true})
	b.fake.AddGroup(entratest.Group{ID: "g-mfa", DisplayName: "Require MFA"})
	ctx := context.Background()

	already, err := c.AddGroupMember(ctx, "g-mfa", "u1")
	if err != nil || already {
		t.Fatalf("first add: already=%v err=%v", already, err)
	}
	if got := b.fake.GroupMembers("g-mfa"); len(got) != 1 || got[0] != "u1" {
		t.Fatalf("members = %v", got)
	}
	r := b.fake.GraphRequests()[0]
	wantBody := `{"@odata.id":"` + b.fake.URL + `/v1.0/directoryObjects/u1"}`
	if r.Method != http.MethodPost || r.Path != "/v1.0/groups/g-mfa/members/$ref" || string(r.Body) != wantBody {
		t.Errorf("request = %s %s %s", r.Method, r.Path, r.Body)
	}
	already, err = c.AddGroupMember(ctx, "g-mfa", "u1")
	if err != nil || !already {
		t.Fatalf("second add: already=%v err=%v, want already member and no error", already, err)
	}
	if _, err := c.AddGroupMember(ctx, "g-none", "u1"); !errors.Is(err, entra.ErrNotFound) {
		t.Errorf("unknown group: %v", err)
	}
	if _, err := c.AddGroupMember(ctx, "g-mfa", "ghost"); !errors.Is(err, entra.ErrNotFound) {
		t.Errorf("unknown member: %v", err)
	}
}

func TestOrganization(t *testing.T) {
	b, c := setup(t)
	b.fake.SetOrganization(entratest.Organization{ID: "t1", DisplayName: "Contoso", DefaultDomain: "contoso.example"})
	org, err := c.Organization(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if org.DisplayName != "Contoso" || org.DefaultDomain() != "contoso.example" {
		t.Errorf("org = %+v", org)
	}
}

func TestNextLinkToAnotherHostIsRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/token") {
			_, _ = w.Write([]byte(`{"access_token":"t","token_type":"Bearer","expires_in":3600}`))
			return
		}
		_, _ = w.Write([]byte(`{"value":[{"id":"u1"}],"@odata.nextLink":"https://attacker.example/v1.0/users?$skiptoken=x"}`))
	}))
	defer srv.Close()
	c, err := entra.New(entra.Config{TenantID: "t", ClientID: "c", ClientSecret: "s",
		LoginURL: srv.URL, GraphURL: srv.URL, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListUsers(context.Background())
	if err == nil || !strings.Contains(err.Error(), "another host") {
		t.Fatalf("err = %v", err)
	}
}

func TestCancelledWhileWaiting(t *testing.T) {
	b, _ := setup(t)
	seedUsers(b.fake, 1)
	b.fake.FailNext(1, http.StatusTooManyRequests, "5")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := b.client(t, func(cfg *entra.Config) {
		cfg.Retry.Sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	})
	if _, err := c.ListUsers(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestNewChecksConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  entra.Config
		want string
	}{
		{"nothing", entra.Config{}, "missing the tenant id, the client id, the client secret, the HTTP client"},
		{"no client", entra.Config{TenantID: "t", ClientID: "c", ClientSecret: "s"}, "missing the HTTP client"},
		{"bad URL", entra.Config{TenantID: "t", ClientID: "c", ClientSecret: "s", HTTPClient: http.DefaultClient,
			GraphURL: "ftp://graph"}, "is not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := entra.New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// flaky fails the first n requests without an answer, then passes requests on.
type flaky struct {
	mu   sync.Mutex
	n    int
	err  error
	next http.RoundTripper
}

func (f *flaky) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	fail := f.n > 0 && strings.HasPrefix(r.URL.Path, "/v1.0/")
	if fail {
		f.n--
	}
	f.mu.Unlock()
	if fail {
		return nil, f.err
	}
	return f.next.RoundTrip(r)
}

func TestNetworkErrors(t *testing.T) {
	reset := errors.New("connection reset by peer")
	tests := []struct {
		name      string
		err       error
		write     bool
		wantWaits string
		wantErr   bool
	}{
		{"read retried after a reset", reset, false, "[1s]", false},
		{"write not repeated", reset, true, "[]", true},
		{"address refused by the guard", &netguard.BlockedError{Host: "graph.internal", Reason: netguard.ReasonPrivate}, false, "[]", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := setup(t)
			b.fake.AddUser(entratest.User{ID: "u1", AccountEnabled: true})
			b.fake.AddGroup(entratest.Group{ID: "g1"})
			c := b.client(t, func(cfg *entra.Config) {
				cfg.HTTPClient = &http.Client{Transport: &flaky{n: 1, err: tt.err, next: b.fake.Client().Transport}}
			})
			var err error
			if tt.write {
				_, err = c.AddGroupMember(context.Background(), "g1", "u1")
			} else {
				_, err = c.ListUsers(context.Background())
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err != nil && (!errors.Is(err, tt.err) || !strings.Contains(err.Error(), "could not reach Microsoft Graph") ||
				strings.Contains(err.Error(), b.fake.URL)) {
				t.Errorf("err = %q", err)
			}
			if got := fmt.Sprint(b.clock.Waits()); got != tt.wantWaits {
				t.Errorf("waits = %s, want %s", got, tt.wantWaits)
			}
		})
	}
}
