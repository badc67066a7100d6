package google_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/clocktest"
	"github.com/vigil-ispm/vigil/internal/google"
	"github.com/vigil-ispm/vigil/internal/google/googletest"
	"github.com/vigil-ispm/vigil/internal/netguard"
	"github.com/vigil-ispm/vigil/internal/vendorfake"
)

type testBundle struct {
	fake  *googletest.Server
	clock *clocktest.Clock
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	return &testBundle{fake: googletest.New(t), clock: clocktest.Still(time.Time{})}
}

func (b *testBundle) client(t *testing.T, edit func(*google.Config)) *google.Client {
	t.Helper()
	cfg := b.fake.Config()
	cfg.Retry = vendorfake.Retry(b.clock)
	if edit != nil {
		edit(&cfg)
	}
	c, err := google.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func seed(fake *googletest.Server, n int) {
	for i := range n {
		fake.AddUser(googletest.User{ID: fmt.Sprintf("2000%02d", i), PrimaryEmail: fmt.Sprintf("user%d@example.com", i),
			FullName: fmt.Sprintf("User %d", i), IsDelegatedAdmin: i == 1, IsEnrolledIn2Sv: i%2 == 0,
			CreationTime:  time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
			LastLoginTime: time.Date(2026, 11, 1+i, 8, 0, 0, 0, time.UTC)})
	}
}

func TestUsersFollowsNextPageToken(t *testing.T) {
	b := setup(t)
	seed(b.fake, 4)
	b.fake.AddUser(googletest.User{ID: "300", PrimaryEmail: "never@example.com", Suspended: true, Archived: true,
		SuspensionReason: "ABUSE", OrgUnitPath: "/Contractors"})
	b.fake.SetPageSize(2)
	c := b.client(t, nil)

	users, err := c.ListUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 6 {
		t.Fatalf("got %d users", len(users))
	}
	if a := users[0]; a.PrimaryEmail != googletest.Admin || !a.IsAdmin || !a.IsEnforcedIn2Sv || a.OrgUnitPath != "/" {
		t.Errorf("admin = %+v", a)
	}
	if u := users[2]; u.ID != "200001" || !u.IsDelegatedAdmin || u.IsEnrolledIn2Sv || u.FullName != "User 1" ||
		!u.LastLoginTime.Equal(time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)) ||
		!u.CreationTime.Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("user = %+v", u)
	}
	if u := users[5]; !u.LastLoginTime.IsZero() || !u.Suspended || !u.Archived || u.SuspensionReason != "ABUSE" ||
		u.OrgUnitPath != "/Contractors" {
		t.Errorf("never-logged-in user = %+v", u)
	}
	reqs := b.fake.APIRequests()
	if len(reqs) != 3 {
		t.Fatalf("API requests = %d, want 3", len(reqs))
	}
	for i, r := range reqs {
		q := r.Query
		if r.Method != http.MethodGet || r.Path != "/admin/directory/v1/users" || q.Get("customer") != "my_customer" ||
			q.Get("maxResults") != "500" || (i == 0) != (q.Get("pageToken") == "") {
			t.Errorf("request %d = %s %s %v", i, r.Method, r.Path, q)
		}
	}
}

func TestJWTBearerExchange(t *testing.T) {
	b := setup(t)
	c := b.client(t, func(cfg *google.Config) { cfg.Scopes = []string{google.ScopeUserReadonly} })
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	tokReq := b.fake.Requests()[0]
	form, _ := url.ParseQuery(string(tokReq.Body))
	if tokReq.Method != http.MethodPost || tokReq.Path != "/token" ||
		form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		t.Fatalf("token request = %s %s %v", tokReq.Method, tokReq.Path, form)
	}
	parts := strings.Split(form.Get("assertion"), ".")
	if len(parts) != 3 {
		t.Fatalf("assertion is not a JWS")
	}
	claims := decodeSegment(t, parts[1])
	if claims["iss"] != googletest.ClientEmail || claims["sub"] != googletest.Admin ||
		claims["aud"] != b.fake.URL+"/token" || claims["scope"] != google.ScopeUserReadonly {
		t.Errorf("claims = %v", claims)
	}
	if h := decodeSegment(t, parts[0]); h["alg"] != "RS256" || h["kid"] != googletest.PrivateKeyID {
		t.Errorf("header = %v", h)
	}
	if r := b.fake.APIRequests()[0]; !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ya29.") {
		t.Errorf("API auth = %q", r.Header.Get("Authorization"))
	}
}

func decodeSegment(t *testing.T, seg string) map[string]any {
	t.Helper()
	raw, err := base64URL(seg)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCredentialErrors(t *testing.T) {
	tests := []struct {
		name       string
		edit       func(*google.Config)
		delegated  []string
		wantReason string
		wantIs     error
	}{
		{"scope not delegated", nil, []string{google.ScopeUserReadonly}, "unauthorized_client", google.ErrUnauthorized},
		{"unknown subject", func(c *google.Config) { c.Subject = "ghost@example.com" }, nil, "invalid_grant", google.ErrUnauthorized},
		{"subject is not an admin", func(c *google.Config) { c.Subject = "user0@example.com" }, nil, "forbidden", google.ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t)
			seed(b.fake, 1)
			if tt.delegated != nil {
				b.fake.SetDelegatedScopes(tt.delegated...)
			}
			c := b.client(t, tt.edit)
			_, err := c.ListUsers(context.Background())
			var e *google.Error
			if !errors.As(err, &e) || e.Code != tt.wantReason || !errors.Is(err, tt.wantIs) {
				t.Fatalf("err = %v, want %s matching %v", err, tt.wantReason, tt.wantIs)
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") || len(b.clock.Waits()) != 0 {
				t.Errorf("err %q, waits %v", err, b.clock.Waits())
			}
		})
	}
}

func TestWrongKeyIsRefused(t *testing.T) {
	b := setup(t)
	c := b.client(t, nil) // holds the key file from before the rotation
	b.fake.RotateKey(t)
	if err := c.Ping(context.Background()); !errors.Is(err, google.ErrUnauthorized) || !strings.Contains(err.Error(), "Invalid JWT Signature") {
		t.Fatalf("err = %v", err)
	}
}

func TestRetries(t *testing.T) {
	vendorfake.RunRetries(t, []vendorfake.RetryCase{
		{Name: "429 with Retry-After", Status: http.StatusTooManyRequests, After: "6", N: 1, Waits: []time.Duration{6 * time.Second}},
		{Name: "rate-limit 403 backs off", Status: http.StatusForbidden, N: 2, Waits: []time.Duration{time.Second, 2 * time.Second}},
		{Name: "503 backs off", Status: http.StatusServiceUnavailable, N: 1, Waits: []time.Duration{time.Second}},
		{Name: "rate limited past the bound", Status: http.StatusForbidden, N: 9, Waits: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, Is: google.ErrRateLimited},
	}, func(t *testing.T, rc vendorfake.RetryCase) ([]time.Duration, error) {
		b := setup(t)
		seed(b.fake, 1)
		b.fake.FailNext(rc.N, rc.Status, rc.After)
		users, err := b.client(t, nil).ListUsers(context.Background())
		if rc.Is != nil && errors.Is(err, google.ErrForbidden) || rc.Is == nil && (err != nil || len(users) != 2) {
			t.Fatalf("users %v err %v", users, err)
		}
		return b.clock.Waits(), err
	})
}

func TestTokenCachedAndRefreshed(t *testing.T) {
	b := setup(t)
	c := b.client(t, nil)
	ctx := context.Background()
	tokens := func() int { return len(b.fake.Requests()) - len(b.fake.APIRequests()) }
	for range 2 {
		if err := c.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if tokens() != 1 {
		t.Fatalf("tokens = %d, want 1", tokens())
	}
	b.clock.Add(time.Hour)
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	b.fake.RevokeTokens()
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if tokens() != 3 {
		t.Fatalf("tokens = %d, want 3", tokens())
	}
}

func TestSuspendUser(t *testing.T) {
	b := setup(t)
	seed(b.fake, 2)
	c := b.client(t, nil)
	u, err := c.SuspendUser(context.Background(), "user1@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !u.Suspended || u.ID != "200001" {
		t.Errorf("returned user = %+v", u)
	}
	if stored, _ := b.fake.User("200001"); !stored.Suspended {
		t.Error("user not suspended")
	}
	r := b.fake.APIRequests()[0]
	if r.Method != http.MethodPut || r.Path != "/admin/directory/v1/users/user1@example.com" ||
		string(r.Body) != `{"suspended":true}` || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request = %s %s %s", r.Method, r.Path, r.Body)
	}
	if _, err := c.SuspendUser(context.Background(), "ghost@example.com"); !errors.Is(err, google.ErrNotFound) {
		t.Errorf("unknown user: %v", err)
	}
	ro := b.client(t, func(cfg *google.Config) { cfg.Scopes = []string{google.ScopeUserReadonly} })
	_, err = ro.SuspendUser(context.Background(), "user0@example.com")
	var e *google.Error
	if !errors.As(err, &e) || e.Code != "insufficientPermissions" || !errors.Is(err, google.ErrForbidden) {
		t.Errorf("read-only scope: %v", err)
	}
}

func TestNewChecksConfig(t *testing.T) {
	b := setup(t)
	tests := []struct {
		name string
		cfg  google.Config
		want string
	}{
		{"empty", google.Config{}, "missing the service account key, the admin subject, the HTTP client"},
		{"not JSON", google.Config{CredentialsJSON: []byte("x"), Subject: "a", HTTPClient: http.DefaultClient}, "not valid JSON"},
		{"user credentials", google.Config{CredentialsJSON: []byte(`{"type":"authorized_user"}`), Subject: "a", HTTPClient: http.DefaultClient},
			`type "authorized_user"`},
		{"bad base URL", google.Config{CredentialsJSON: b.fake.ServiceAccountJSON(), Subject: "a", HTTPClient: http.DefaultClient,
			BaseURL: "admin.googleapis.com"}, "not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := google.New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestNetworkErrors(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantWaits string
		wantErr   bool
	}{
		{"retried after a reset", errors.New("connection reset by peer"), "[1s]", false},
		{"not retried when the guard refused the address",
			&netguard.BlockedError{Host: "admin.internal", Reason: netguard.ReasonPrivate}, "[]", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t)
			c := b.client(t, func(cfg *google.Config) {
				cfg.HTTPClient = &http.Client{Transport: &vendorfake.Flaky{N: 1, Prefix: "/admin/", Err: tt.err, Next: b.fake.Client().Transport}}
			})
			_, err := c.SuspendUser(context.Background(), googletest.Admin)
			if (err != nil) != tt.wantErr || err != nil && !errors.Is(err, tt.err) {
				t.Fatalf("err = %v", err)
			}
			if got := fmt.Sprint(b.clock.Waits()); got != tt.wantWaits {
				t.Errorf("waits = %s, want %s", got, tt.wantWaits)
			}
		})
	}
}
