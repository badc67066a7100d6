package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/logtest"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// running is a Vigil server started by a test.
type running struct {
	srv  *app.Server
	url  string
	logs *logtest.Buffer
}

// call sends method to url with the bearer token (none when empty) and
// body as JSON (none when empty), and returns the answer's status and body.
func call(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// start opens Vigil on a temp data directory and the dialect's database,
// lets prepare set data up before the workers start, runs the server, and
// stops it (checking that it shuts down cleanly) when the test ends.
func start(t *testing.T, dialect string, prepare func(ctx context.Context, srv *app.Server)) *running {
	t.Helper()
	return startNode(t, storetest.DatabaseURL(t, dialect), "", prepare)
}

// startNode is start on a given database and master key, for tests that
// run several nodes on one PostgreSQL database.
func startNode(t *testing.T, databaseURL, masterKey string, prepare func(ctx context.Context, srv *app.Server), opts ...func(*app.Config)) *running {
	t.Helper()
	ctx := context.Background()
	logs := &logtest.Buffer{}
	cfg := app.Config{
		DataDir: t.TempDir(), DatabaseURL: databaseURL, Addr: "127.0.0.1:0",
		AllowOutbound: "127.0.0.0/8", LogOutput: logs, MasterKey: masterKey,
	}
	for _, o := range opts {
		o(&cfg)
	}
	_, srv := newServer(t, cfg)
	if prepare != nil {
		prepare(ctx, srv)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(rctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v after the context ended; want a clean shutdown", err)
			}
		case <-time.After(2 * time.Minute):
			t.Error("the server did not shut down within 2 minutes")
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	r := &running{srv: srv, url: srv.PublicURL(), logs: logs}
	for begin := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		if ready(r.url) {
			return r
		}
		if time.Since(begin) > 2*time.Minute {
			t.Fatalf("not ready within 2 minutes:\n%s", logs.String())
		}
	}
}

// ready reports whether the server at url answers /readyz with 200.
func ready(url string) bool {
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// newServer opens Vigil with cfg and makes its server, not yet running;
// the app closes when the test ends, after what the test registered later.
func newServer(t *testing.T, cfg app.Config) (*app.App, *app.Server) {
	t.Helper()
	ctx := context.Background()
	a, err := app.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	srv, err := a.NewServer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return a, srv
}

// adminAndViewer returns API tokens of r's bootstrap administrator and of
// a new issue viewer, vera.
func adminAndViewer(t *testing.T, r *running) (admin, viewer string) {
	t.Helper()
	ctx := context.Background()
	au := r.srv.Services().Auth
	a, err := au.UserByName(ctx, auth.BootstrapName)
	if err != nil || a.Role != auth.RoleSuperAdmin {
		t.Fatalf("bootstrap user %+v, %v", a, err)
	}
	v, err := au.CreateUser(ctx, "vera", auth.RoleIssueViewer, "a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	if _, admin, err = au.CreateToken(ctx, a.ID, "t", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, viewer, err = au.CreateToken(ctx, v.ID, "t", time.Hour); err != nil {
		t.Fatal(err)
	}
	return admin, viewer
}

func eachDialect(t *testing.T, fn func(t *testing.T, dialect string)) {
	for _, d := range []string{"sqlite", "postgres"} {
		t.Run(d, func(t *testing.T) { fn(t, d) })
	}
}

// TestRoutes checks that the server serves each part where the contracts
// say, with each part's own way of refusing a caller.
func TestRoutes(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		r := start(t, dialect, nil)
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for _, tc := range []struct {
			method, path string
			header       http.Header
			status       int
			want         string
		}{
			{"GET", "/healthz", nil, 200, `"ok"`},
			{"GET", "/readyz", nil, 200, `"ready"`},
			{"GET", "/metrics", nil, 404, "Metrics are off"},
			{"GET", "/", nil, 303, ""},
			{"GET", "/login", nil, 200, "<form"},
			{"GET", "/ispm/issues", nil, 303, ""},
			{"GET", "/api/v1/me", nil, 401, "unauthorized"},
			{"GET", "/api/v1/hooks", nil, 401, "unauthorized"},
			{"GET", "/api/v1/issues", nil, 401, "unauthorized"},
			{"GET", "/api/v1/flows", nil, 401, "unauthorized"},
			{"GET", "/api/openapi.json", nil, 200, `"/api/v1/issues"`},
			{"GET", "/api/v1/hooks", http.Header{"Authorization": {"Bearer not-a-token"}}, 401, "unauthorized"},
			{"POST", "/api/flo/unknownalias/invoke", nil, 401, "no valid credentials"},
			{"DELETE", "/api/flo/unknownalias/invoke", nil, 405, ""},
			// A cross-site form post is refused before any handler runs.
			{"POST", "/login", http.Header{"Sec-Fetch-Site": {"cross-site"}, "Content-Type": {"application/x-www-form-urlencoded"}}, 403, ""},
		} {
			req, _ := http.NewRequest(tc.method, r.url+tc.path, strings.NewReader(""))
			for k, v := range tc.header {
				req.Header[k] = v
			}
			resp, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.want) {
				t.Errorf("%s %s: %d %.200q; want %d with %q", tc.method, tc.path, resp.StatusCode, body, tc.status, tc.want)
			}
		}
	})
}

// TestBootstrapAndAPI checks that the first start makes one administrator,
// logs its password once, and that an API token of a role reaches only
// what the role may.
func TestBootstrapAndAPI(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		r := start(t, dialect, nil)
		logs := r.logs.String()
		if n := strings.Count(logs, "created the first administrator"); n != 1 {
			t.Fatalf("the bootstrap line appears %d times; want once:\n%s", n, logs)
		}
		adminToken, viewerToken := adminAndViewer(t, r)
		api := func(method, path, token, body string) (int, string) {
			return call(t, method, r.url+path, token, body)
		}
		if code, body := api("GET", "/api/v1/me", viewerToken, ""); code != 200 || !strings.Contains(body, "vera") {
			t.Errorf("viewer /me: %d %s", code, body)
		}
		if code, body := api("GET", "/api/v1/hooks", viewerToken, ""); code != 403 {
			t.Errorf("viewer lists hooks: %d %s; want 403", code, body)
		}
		hook := `{"name":"h","url":"http://127.0.0.1:9/x","keys":[{"name":"clientToken","placement":"param","value":"s3cret-value"}]}`
		if code, body := api("POST", "/api/v1/hooks", viewerToken, hook); code != 403 {
			t.Errorf("viewer adds a hook: %d %s; want 403", code, body)
		}
		code, body := api("POST", "/api/v1/hooks", adminToken, hook)
		if code != 201 || strings.Contains(body, "s3cret-value") {
			t.Errorf("admin adds a hook: %d %s; want 201 with the key masked", code, body)
		}
		var list struct {
			Hooks []json.RawMessage `json:"integrations"`
		}
		if code, body := api("GET", "/api/v1/hooks", adminToken, ""); code != 200 || json.Unmarshal([]byte(body), &list) != nil || len(list.Hooks) != 1 {
			t.Errorf("admin lists hooks: %d %s", code, body)
		}
		// The posture and workflows API is served too, with its own checks.
		if code, body := api("GET", "/api/v1/issues", viewerToken, ""); code != 200 || !strings.Contains(body, `"issues"`) {
			t.Errorf("viewer lists issues: %d %s", code, body)
		}
		const addTemplate = "/api/v1/templates/identity-security-posture-management/add"
		if code, body := api("POST", addTemplate, viewerToken, `{"folder":"ISPM"}`); code != 403 {
			t.Errorf("viewer adds a template: %d %s; want 403", code, body)
		}
		if code, body := api("POST", addTemplate, adminToken, `{"folder":"ISPM"}`); code != 201 {
			t.Errorf("admin adds a template: %d %s; want 201", code, body)
		}
		if code, body := api("GET", "/api/v1/flows?folder=ISPM", adminToken, ""); code != 200 || !strings.Contains(body, "1.0 ISPM Event Routing Flow") {
			t.Errorf("admin lists the template's flows: %d %s", code, body)
		}
		if strings.Contains(r.logs.String(), "s3cret-value") || strings.Contains(r.logs.String(), adminToken) {
			t.Error("a secret reached the log")
		}
	})
}
