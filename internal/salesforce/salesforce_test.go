package salesforce_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/clocktest"
	"github.com/vigil-ispm/vigil/internal/salesforce"
	"github.com/vigil-ispm/vigil/internal/salesforce/salesforcetest"
	"github.com/vigil-ispm/vigil/internal/vendorfake"
)

func setup(t *testing.T, edit func(*salesforce.Config)) (*salesforcetest.Server, *clocktest.Clock, *salesforce.Client) {
	t.Helper()
	fake := salesforcetest.New(t)
	sl := clocktest.Still(time.Time{})
	cfg := fake.Config()
	cfg.Retry = vendorfake.Retry(sl)
	if edit != nil {
		edit(&cfg)
	}
	c, err := salesforce.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return fake, sl, c
}

func at(d int) time.Time { return time.Date(2026, 3, d, 8, 15, 0, 0, time.UTC) }

func seed(fake *salesforcetest.Server, n int) {
	for i := range n {
		fake.AddUser(salesforcetest.User{ID: fmt.Sprintf("0055e00000%08d", i), Username: fmt.Sprintf("u%d@acme.example", i),
			Email: fmt.Sprintf("u%d@acme.example", i), Name: fmt.Sprintf("User %d", i), IsActive: true,
			LastLoginDate: at(i + 1), ProfileName: "Standard User", LastPasswordChangeDate: at(1), CreatedDate: at(1)})
	}
}

func TestUsersFollowsNextRecordsURL(t *testing.T) {
	fake, _, c := setup(t, nil)
	seed(fake, 5)
	fake.AddUser(salesforcetest.User{ID: "0055e00000NOPROF1", Username: "auto@acme.example", UserType: "AutomatedProcess"})
	fake.SetBatchSize(2)

	users, err := c.ListUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 6 {
		t.Fatalf("got %d users", len(users))
	}
	u := users[1]
	if u.ID != "0055e0000000000001" || u.Username != "u1@acme.example" || u.Name != "User 1" || !u.IsActive ||
		!u.LastLoginDate.Equal(at(2)) || u.ProfileName != "Standard User" || u.UserType != "Standard" ||
		!u.LastPasswordChangeDate.Equal(at(1)) || !u.CreatedDate.Equal(at(1)) {
		t.Errorf("user = %+v", u)
	}
	if last := users[5]; last.ProfileName != "" || !last.LastLoginDate.IsZero() || last.IsActive || last.UserType != "AutomatedProcess" {
		t.Errorf("user without profile or login = %+v", last)
	}
	reqs := fake.APIRequests()
	if len(reqs) != 3 {
		t.Fatalf("got %d API requests, want 3", len(reqs))
	}
	if r := reqs[0]; r.Path != "/services/data/v62.0/query" || r.Query.Get("q") != salesforce.UsersSOQL {
		t.Errorf("first request = %s %v", r.Path, r.Query)
	}
	for _, r := range reqs[1:] {
		if !strings.HasPrefix(r.Path, "/services/data/v62.0/query/01g") || len(r.Query) != 0 {
			t.Errorf("next request = %s %v", r.Path, r.Query)
		}
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer "+salesforcetest.OrgID+"!") {
			t.Errorf("auth header = %q", r.Header.Get("Authorization"))
		}
	}
	if tokens := len(fake.Requests()) - len(reqs); tokens != 1 {
		t.Errorf("token requests = %d", tokens)
	}
}

func TestAdminGrants(t *testing.T) {
	fake, _, c := setup(t, nil)
	seed(fake, 3)
	fake.AddUser(salesforcetest.User{ID: "0055e00000ADMIN01", Username: "root@acme.example", IsActive: true, ProfileName: "System Administrator"})
	fake.AddPermissionSet(salesforcetest.PermissionSet{ID: "0PS1", Name: "X00e5e000000SYSADM", Label: "System Administrator",
		OwnerProfile: "System Administrator", ModifyAllData: true, ViewAllData: true})
	fake.AddPermissionSet(salesforcetest.PermissionSet{ID: "0PS2", Name: "Auditor", Label: "Auditor", ViewAllData: true})
	fake.AddPermissionSet(salesforcetest.PermissionSet{ID: "0PS3", Name: "Sales", Label: "Sales"})
	fake.Assign("0055e0000000000002", "0PS2")
	fake.Assign("0055e0000000000001", "0PS3")

	grants, err := c.ListAdminGrants(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []salesforce.AdminGrant{
		{UserID: "0055e00000ADMIN01", PermissionSet: "X00e5e000000SYSADM", Label: "System Administrator", ViaProfile: true, ModifyAllData: true, ViewAllData: true},
		{UserID: "0055e0000000000002", PermissionSet: "Auditor", Label: "Auditor", ViewAllData: true},
	}
	if fmt.Sprint(grants) != fmt.Sprint(want) {
		t.Errorf("grants = %+v\nwant %+v", grants, want)
	}
	if q := fake.APIRequests()[0].Query.Get("q"); q != salesforce.AdminGrantsSOQL {
		t.Errorf("query = %s", q)
	}
}

func TestRetries(t *testing.T) {
	vendorfake.RunRetries(t, []vendorfake.RetryCase{
		{Name: "429 then success", Status: http.StatusTooManyRequests, After: "5", N: 1, Waits: []time.Duration{5 * time.Second}},
		{Name: "503 twice then success", Status: http.StatusServiceUnavailable, N: 2, Waits: []time.Duration{time.Second, 2 * time.Second}},
		{Name: "daily API limit is not retried", Status: http.StatusForbidden, N: 1, Is: salesforce.ErrRateLimited},
		{Name: "5xx beyond the bound", Status: http.StatusInternalServerError, N: 9, Waits: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}},
	}, func(t *testing.T, rc vendorfake.RetryCase) ([]time.Duration, error) {
		fake, sl, c := setup(t, nil)
		seed(fake, 1)
		fake.FailNext(rc.N, rc.Status, rc.After)
		users, err := c.ListUsers(context.Background())
		var e *salesforce.Error
		switch {
		case rc.Is != nil:
			if errors.Is(err, salesforce.ErrForbidden) {
				t.Fatalf("err = %v, want only %v", err, rc.Is)
			}
		case rc.N > 3:
			if !errors.As(err, &e) || e.StatusCode != 500 || e.Code != "SERVER_UNAVAILABLE" {
				t.Fatalf("err = %v", err)
			}
		default:
			if err != nil || len(users) != 1 {
				t.Fatalf("users %v err %v", users, err)
			}
		}
		return sl.Waits(), err
	})
}

func TestTokenFailures(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(*salesforce.Config)
		wantCode string
	}{
		{"wrong secret", func(c *salesforce.Config) { c.ClientSecret = "WRONG-SECRET" }, "invalid_client"},
		{"wrong client id", func(c *salesforce.Config) { c.ClientID = "nope" }, "invalid_client_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, _, c := setup(t, tt.edit)
			_, err := c.ListUsers(context.Background())
			var e *salesforce.Error
			if !errors.As(err, &e) || e.Code != tt.wantCode || !errors.Is(err, salesforce.ErrUnauthorized) {
				t.Fatalf("err = %v", err)
			}
			if strings.Contains(err.Error(), "WRONG-SECRET") || strings.Contains(err.Error(), salesforcetest.ClientSecret) {
				t.Errorf("secret in %q", err)
			}
			if len(fake.APIRequests()) != 0 {
				t.Error("API called without a token")
			}
		})
	}
}

func TestTokenRetriedAndSessionRefreshed(t *testing.T) {
	fake, sl, c := setup(t, nil)
	seed(fake, 1)
	fake.FailNextToken(1, http.StatusServiceUnavailable, "")
	ctx := context.Background()
	if _, err := c.ListUsers(ctx); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sl.Waits()) != "[1s]" {
		t.Errorf("waits = %v", sl.Waits())
	}
	fake.ExpireSessions()
	if _, err := c.Organization(ctx); err != nil {
		t.Fatalf("after session expiry: %v", err)
	}
	if tokens := len(fake.Requests()) - len(fake.APIRequests()); tokens != 3 {
		t.Errorf("token requests = %d, want 3", tokens)
	}
}

func TestDeactivateUser(t *testing.T) {
	fake, _, c := setup(t, nil)
	seed(fake, 1)
	id := "0055e0000000000000"
	if err := c.DeactivateUser(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if u, _ := fake.User(id); u.IsActive {
		t.Error("user still active")
	}
	r := fake.APIRequests()[0]
	if r.Method != http.MethodPatch || r.Path != "/services/data/v62.0/sobjects/User/"+id || string(r.Body) != `{"IsActive":false}` ||
		r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request = %s %s %s", r.Method, r.Path, r.Body)
	}
	err := c.DeactivateUser(context.Background(), "005NOBODY")
	if !errors.Is(err, salesforce.ErrNotFound) || !strings.Contains(err.Error(), "NOT_FOUND") {
		t.Errorf("unknown user: %v", err)
	}
	if err := c.DeactivateUser(context.Background(), "../x"); err == nil {
		t.Error("path in user id accepted")
	}
}

func TestOrganizationAndVersion(t *testing.T) {
	fake, _, c := setup(t, func(c *salesforce.Config) { c.APIVersion = "v59.0" })
	org, err := c.Organization(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if org.ID != salesforcetest.OrgID || org.Name != "Acme" {
		t.Errorf("org = %+v", org)
	}
	if p := fake.APIRequests()[0].Path; p != "/services/data/v59.0/query" {
		t.Errorf("path = %s", p)
	}
	_, _, old := setup(t, func(c *salesforce.Config) { c.APIVersion = "20.0" })
	if _, err := old.Organization(context.Background()); !errors.Is(err, salesforce.ErrNotFound) {
		t.Errorf("retired version: %v", err)
	}
}

func TestQueryRefusedByFake(t *testing.T) {
	_, _, c := setup(t, nil)
	_, err := c.Query(context.Background(), "SELECT Id, ShoeSize FROM User")
	var e *salesforce.Error
	if !errors.As(err, &e) || e.Code != "INVALID_FIELD" || e.StatusCode != 400 {
		t.Fatalf("err = %v", err)
	}
}

func TestNextRecordsURLToAnotherHostIsRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/services/oauth2/token" {
			fmt.Fprintf(w, `{"access_token":"t","instance_url":"http://%s","token_type":"Bearer"}`, r.Host)
			return
		}
		fmt.Fprint(w, `{"totalSize":4,"done":false,"records":[],"nextRecordsUrl":"https://attacker.example/services/data/v62.0/query/01g-2"}`)
	}))
	defer srv.Close()
	c, err := salesforce.New(salesforce.Config{InstanceURL: srv.URL, ClientID: "i", ClientSecret: "s", HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListUsers(context.Background()); err == nil || !strings.Contains(err.Error(), "another host") {
		t.Fatalf("err = %v", err)
	}
}

func TestTimeLayouts(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{`"2024-01-15T10:30:00.000+0000"`, time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)},
		{`"2024-01-15T12:30:00.000+0200"`, time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)},
		{`"2024-01-15T10:30:00Z"`, time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)},
		{`null`, time.Time{}},
	}
	for _, tt := range tests {
		var got salesforce.Time
		if err := got.UnmarshalJSON([]byte(tt.in)); err != nil || !got.Equal(tt.want) {
			t.Errorf("%s: got %v, %v", tt.in, got, err)
		}
	}
	var bad salesforce.Time
	if err := bad.UnmarshalJSON([]byte(`"yesterday"`)); err == nil {
		t.Error("nonsense accepted")
	}
}

func TestNetworkErrorRetriedOnReadsOnly(t *testing.T) {
	fake, sl, _ := setup(t, nil)
	seed(fake, 1)
	c2, _ := salesforce.New(func() salesforce.Config {
		cfg := fake.Config()
		cfg.Retry = vendorfake.Retry(sl)
		cfg.HTTPClient = &http.Client{Transport: &vendorfake.Flaky{N: 1, Prefix: "/services/data/", Next: fake.Client().Transport}}
		return cfg
	}())
	if _, err := c2.ListUsers(context.Background()); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sl.Waits()) != "[1s]" {
		t.Errorf("waits = %v", sl.Waits())
	}
	c3, _ := salesforce.New(func() salesforce.Config {
		cfg := fake.Config()
		cfg.HTTPClient = &http.Client{Transport: &vendorfake.Flaky{N: 1, Prefix: "/services/data/", Next: fake.Client().Transport}}
		return cfg
	}())
	err := c3.DeactivateUser(context.Background(), "0055e0000000000000")
	if err == nil || !strings.Contains(err.Error(), "could not reach Salesforce") || strings.Contains(err.Error(), fake.URL) {
		t.Fatalf("err = %v", err)
	}
	if u, _ := fake.User("0055e0000000000000"); !u.IsActive {
		t.Error("the PATCH was repeated after a network error")
	}
}
