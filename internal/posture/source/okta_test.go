package source

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/okta/oktatest"
	"github.com/vigil-ispm/vigil/internal/posture/graph"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// seedOkta makes an org with one user per interesting case.
func seedOkta(fake *oktatest.Server) map[string]string {
	ids := map[string]string{}
	add := func(key string, u oktatest.User) {
		u = fake.AddUser(u)
		ids[key] = u.ID
	}
	last := t0.AddDate(0, 0, -3)
	add("super", oktatest.User{Login: "sam@example.com", FirstName: "Sam", LastName: "Root", LastLogin: &last,
		Created: t0.AddDate(-2, 0, 0)})
	add("sue", oktatest.User{Login: "sue@example.com", FirstName: "Sue", LastName: "Chief", LastLogin: &last})
	add("admin", oktatest.User{Login: "ali@example.com", FirstName: "Ali", LastName: "Lesch", LastLogin: &last})
	add("pending", oktatest.User{Login: "bo@example.com", FirstName: "Bo", LastName: "Berg"})
	add("nomfa", oktatest.User{Login: "cy@example.com", FirstName: "Cy", LastName: "Sato"})
	add("service", oktatest.User{Login: "svc-sync@example.com", Profile: map[string]any{"userType": "Service Account"}})
	add("gone", oktatest.User{Login: "dee@example.com", Status: "DEPROVISIONED"})
	add("staged", oktatest.User{Login: "eve@example.com", Status: "STAGED"})
	add("locked", oktatest.User{Login: "fay@example.com", Status: "LOCKED_OUT"})

	fake.AddUserRole(ids["super"], oktatest.Role{Type: "SUPER_ADMIN"})
	fake.AddUserRole(ids["sue"], oktatest.Role{Type: "SUPER_ADMIN"})
	admins := fake.AddGroup(oktatest.Group{Name: "Org Admins"})
	fake.AddMember(admins.ID, ids["admin"])
	fake.AddGroupRole(admins.ID, oktatest.Role{Type: "ORG_ADMIN"})
	mfa := fake.AddGroup(oktatest.Group{Name: "MFA Required"})
	fake.AddMember(mfa.ID, ids["sue"])
	fake.AddGroup(oktatest.Group{Name: "Sales"})

	fake.AddFactor(ids["super"], oktatest.Factor{FactorType: "webauthn"})
	fake.AddFactor(ids["sue"], oktatest.Factor{FactorType: "push"})
	fake.AddFactor(ids["admin"], oktatest.Factor{FactorType: "sms"})
	fake.AddFactor(ids["admin"], oktatest.Factor{FactorType: "email"})
	fake.AddFactor(ids["pending"], oktatest.Factor{FactorType: "push", Status: "PENDING_ACTIVATION"})
	fake.AddFactor(ids["locked"], oktatest.Factor{FactorType: "token:software:totp"})

	fake.AddAPIToken(oktatest.APIToken{Name: "CI sync", UserID: ids["super"], Created: t0.AddDate(0, 0, -200)})
	expired := t0.AddDate(0, 0, -1)
	fake.AddAPIToken(oktatest.APIToken{Name: "old", UserID: ids["admin"], Created: t0.AddDate(-1, 0, 0), ExpiresAt: &expired})

	fake.AddPolicy(oktatest.Policy{Type: "OKTA_SIGN_ON", Name: "Admins", Priority: 1, GroupsInclude: []string{mfa.ID},
		Rules: []oktatest.Rule{{Name: "MFA", Priority: 1, RequireFactor: true}}})
	fake.AddPolicy(oktatest.Policy{Type: "OKTA_SIGN_ON", Name: "Default", Priority: 2, System: true,
		GroupsInclude: []string{oktatest.EveryoneGroupID}, Rules: []oktatest.Rule{{Name: "Default", Priority: 1}}})
	return ids
}

func TestOktaReader(t *testing.T) {
	st := storetest.SQLite(t)
	b := setup(t, st, func(c *Config) { c.PageSize = 2 })
	fake := oktatest.New(t)
	fake.SetClock(b.clock.Now)
	ids := seedOkta(fake)
	fake.FailNext(http.MethodGet, "/api/v1/users", http.StatusTooManyRequests, 1)
	fake.FailNext(http.MethodGet, "/api/v1/api-tokens", http.StatusServiceUnavailable, 1)

	var last Progress
	m := newMeter("okta-prod", func(p Progress) { last = p })
	r, err := b.svc.newReader("okta-prod", KindOkta, Settings{URL: fake.URL}, Credentials{Token: fake.Token()}, m)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Read(t.Context(), m.fn)
	if err != nil {
		t.Fatal(err)
	}

	if len(res.Parts) != 1 || res.Parts[0].Name != "okta-prod" || res.Parts[0].Product != graph.ProductOkta ||
		res.Parts[0].Tenant != hostOf(fake.URL) {
		t.Fatalf("part %+v", res.Parts[0])
	}
	acc := map[string]*graph.Account{}
	for _, a := range res.Parts[0].Accounts {
		acc[a.IDInService] = a
	}
	if len(acc) != 9 {
		t.Fatalf("%d accounts, want 9 (every status, deprovisioned included)", len(acc))
	}
	for _, tc := range []struct {
		key      string
		status   graph.Status
		priv     graph.Privilege
		reasons  []string
		mfa      graph.MFAState
		factors  []string
		enforced *bool
		kind     graph.Kind
		creds    int
	}{
		{"super", graph.StatusActive, graph.PrivilegeGlobalAdmin, []string{"SUPER_ADMIN role"}, graph.MFAEnrolled, []string{"webauthn"}, ptr(false), "", 1},
		{"sue", graph.StatusActive, graph.PrivilegeGlobalAdmin, []string{"SUPER_ADMIN role"}, graph.MFAEnrolled, []string{"push"}, ptr(true), "", 0},
		{"admin", graph.StatusActive, graph.PrivilegeAdmin, []string{"Member of Org Admins group"}, graph.MFAEnrolled, []string{"sms", "email"}, nil, "", 1},
		{"pending", graph.StatusActive, "", nil, graph.MFAPending, nil, nil, "", 0},
		{"nomfa", graph.StatusActive, "", nil, graph.MFANone, nil, nil, "", 0},
		{"service", graph.StatusActive, "", nil, graph.MFANone, nil, nil, graph.KindService, 0},
		{"gone", graph.StatusDeprovisioned, "", nil, graph.MFAUnknown, nil, nil, "", 0},
		{"staged", graph.StatusStaged, "", nil, graph.MFAUnknown, nil, nil, "", 0},
		{"locked", graph.StatusActive, "", nil, graph.MFAEnrolled, []string{"totp"}, nil, "", 0},
	} {
		a := acc[ids[tc.key]]
		if a.Status != tc.status || a.Privilege != tc.priv || !slices.Equal(a.PrivilegeReasons, tc.reasons) ||
			a.MFA.State != tc.mfa || !slices.Equal(a.MFA.Factors, tc.factors) || a.Kind != tc.kind || len(a.Credentials) != tc.creds {
			t.Errorf("%s: %+v", tc.key, a)
		}
		if (a.MFA.Enforced == nil) != (tc.enforced == nil) || (a.MFA.Enforced != nil && *a.MFA.Enforced != *tc.enforced) {
			t.Errorf("%s: MFA enforced %v, want %v", tc.key, a.MFA.Enforced, tc.enforced)
		}
	}
	super := acc[ids["super"]]
	if c := super.Credentials[0]; c.Kind != graph.CredentialAPIToken || c.Name != "CI sync" || !c.Active || !c.Created.Equal(t0.AddDate(0, 0, -200)) {
		t.Errorf("token %+v", c)
	}
	if c := acc[ids["admin"]].Credentials[0]; c.Active {
		t.Errorf("expired token is active: %+v", c)
	}
	if a := acc[ids["super"]]; a.Email != "sam@example.com" || a.DisplayName != "Sam Root" || a.LastLogin == nil {
		t.Errorf("super admin profile %+v", a)
	}

	// Requests: every one with SSWS, users paged by following next links
	// (the fake refuses made-up cursors), the 429 and the 503 retried.
	reqs := b.rec.sent()
	for _, r := range reqs {
		if r.Method != http.MethodGet || r.Auth != "SSWS" {
			t.Fatalf("request %+v", r)
		}
	}
	users := 0
	withCursor := 0
	for _, r := range reqs {
		if r.Path == "/api/v1/users" {
			users++
			q, _ := url.ParseQuery(r.Query)
			if q.Get("limit") != "2" {
				t.Errorf("users page asked limit %q", q.Get("limit"))
			}
			if q.Get("after") != "" {
				withCursor++
			}
		}
	}
	// 8 listed users in pages of 2 (4 pages) + 1 deprovisioned (1 page) + the 429 retry.
	if users != 6 || withCursor != 3 {
		t.Errorf("%d user list requests (%d with a cursor), want 6 (3)", users, withCursor)
	}
	if n := b.rec.count(http.MethodGet, "/api/v1/api-tokens"); n != 2 {
		t.Errorf("%d API token requests, want 2 (one retried after 503)", n)
	}
	if b.sleeps.count() < 2 {
		t.Errorf("%d waits, want one per retry", b.sleeps.count())
	}
	for _, path := range []string{"/api/v1/iam/assignees/users", "/api/v1/groups", "/api/v1/policies"} {
		if b.rec.count(http.MethodGet, path) == 0 {
			t.Errorf("no request to %s", path)
		}
	}
	if last.Accounts != 9 || last.Requests != len(reqs) || last.Source != "okta-prod" {
		t.Errorf("last progress %+v after %d requests", last, len(reqs))
	}
}

func TestOktaReaderFailures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(fake *oktatest.Server)
		want  string
	}{
		{"wrong token", func(f *oktatest.Server) { f.SetToken("00other") }, "credentials are wrong"},
		{"429 exhausted", func(f *oktatest.Server) { f.FailNext(http.MethodGet, "/api/v1/users", http.StatusTooManyRequests, 10) }, "rate-limited"},
		{"5xx exhausted", func(f *oktatest.Server) {
			f.FailNext(http.MethodGet, "/api/v1/groups", http.StatusInternalServerError, 10)
		}, "500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t, storetest.SQLite(t), nil)
			fake := oktatest.New(t)
			fake.SetClock(b.clock.Now)
			seedOkta(fake)
			token := fake.Token()
			tc.setup(fake)
			m := newMeter("okta", nil)
			r, err := b.svc.newReader("okta", KindOkta, Settings{URL: fake.URL}, Credentials{Token: token}, m)
			if err != nil {
				t.Fatal(err)
			}
			res, err := r.Read(t.Context(), nil)
			if err == nil {
				t.Fatalf("read succeeded with %d accounts", res.Accounts())
			}
			msg := describe("okta", KindOkta, err, time.Minute)
			if !strings.Contains(msg, tc.want) || strings.Contains(msg, token) || strings.Count(msg, "\n") > 0 {
				t.Errorf("message %q", msg)
			}
		})
	}
}
