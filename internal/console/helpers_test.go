package console_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/console/consoletest"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
	"github.com/vigil-ispm/vigil/internal/flows/template"
	"github.com/vigil-ispm/vigil/internal/hooks"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
)

// page is an answer of the console.
type page struct {
	Status   int
	Location string
	Body     string
}

func get(t testing.TB, c *http.Client, u string) page {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	return read(t, resp)
}

func post(t testing.TB, c *http.Client, u string, form url.Values) page {
	t.Helper()
	resp, err := c.Post(u, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	return read(t, resp)
}

func read(t testing.TB, resp *http.Response) page {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{Status: resp.StatusCode, Location: resp.Header.Get("Location"), Body: string(b)}
}

// fixture is a world with one of everything, made as the super admin.
type fixture struct {
	w           *consoletest.World
	admin       *http.Client
	folderID    string
	routeID     string
	helperID    string
	tableID     string
	issueID     string
	hookID      string
	deliveryID  string
	scanID      string
	tokenID     string
	viewerID    string
	sourceName  string
	connection  string
	executionID string
}

// setup builds a fixture: the template added, a synthetic source scanned,
// a webhook integration automated, a connection and an execution.
func setup(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	w := consoletest.New(t, consoletest.Options{Logger: testLogger(t)})
	f := &fixture{w: w, admin: w.Client(t, auth.RoleSuperAdmin), sourceName: "acme", connection: "Okta"}
	added, err := w.Templates.Add(ctx, template.FlowsInstaller{Flows: w.Flows, By: "test"}, "identity-security-posture-management", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	folder, err := w.Flows.Folder(ctx, added.Folder)
	if err != nil {
		t.Fatal(err)
	}
	f.folderID = folder.ID
	f.routeID = w.FlowByTitle(t, "1.0 ISPM Event Routing Flow")
	f.helperID = w.FlowByTitle(t, "2.2 Suspend Okta User")
	tables, err := w.Flows.Tables(ctx, folder.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		if tb.Name == "ISPM Events" {
			f.tableID = tb.ID
		}
	}
	if f.tableID == "" {
		t.Fatal("the template's folder has no table ISPM Events")
	}
	if _, err := w.Connections.Create(ctx, connection.Input{Name: f.connection, Kind: "okta", DryRun: true,
		Fields: map[string]string{"url": "https://127.0.0.1", "token": "00dryrun"}}); err != nil {
		t.Fatal(err)
	}
	h, _, err := w.Hooks.Create(ctx, hooks.Input{Name: "Routing flow", URL: w.URL + "/nowhere"})
	if err != nil {
		t.Fatal(err)
	}
	f.hookID = h.ID
	on := true
	if _, err := w.Hooks.SetAutomation(ctx, h.ID, hooks.AutomationInput{AutoSend: &on, Titles: []string{"Unused Admin Account"}}); err != nil {
		t.Fatal(err)
	}
	f.scanID = w.ScanSynthetic(t, f.sourceName, 40, 7).ID
	pg, err := w.Issues.List(ctx, issue.Filter{Titles: []string{"Unused Admin Account"}, Limit: 1})
	if err != nil || len(pg.Issues) == 0 {
		t.Fatalf("no issue after the scan: %v", err)
	}
	f.issueID = pg.Issues[0].ID
	deadline := time.Now().Add(2 * time.Minute)
	for f.deliveryID == "" && time.Now().Before(deadline) {
		ds, err := w.Hooks.Deliveries(ctx, hooks.DeliveryFilter{Hook: h.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) > 0 {
			f.deliveryID = ds[0].ID
		}
		time.Sleep(20 * time.Millisecond)
	}
	if f.deliveryID == "" {
		t.Fatal("no delivery after the scan")
	}
	if _, err := w.Flows.SetOn(ctx, f.routeID, true); err != nil {
		t.Fatal(err)
	}
	ep, err := w.Endpoints.Ensure(ctx, f.routeID)
	if err != nil {
		t.Fatal(err)
	}
	token, err := w.Endpoints.Token(ep)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(invoke.InvokeURL(w.URL, ep.Alias)+"?clientToken="+token, "application/json",
		strings.NewReader(`{"eventData":{"title":"Unused Admin Account","affectedEntity":{"sourceProductName":"Okta","idInService":"00u1"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if f.executionID = resp.Header.Get(invoke.HeaderExecutionID); f.executionID == "" {
		t.Fatalf("invoke: status %d and no execution id", resp.StatusCode)
	}
	tok, _, err := w.Auth.CreateToken(ctx, mustUser(t, w, auth.RoleIssueViewer).ID, "viewer's", 0)
	if err != nil {
		t.Fatal(err)
	}
	f.tokenID, f.viewerID = tok.ID, tok.UserID
	return f
}

func mustUser(t testing.TB, w *consoletest.World, role auth.Role) *auth.User {
	t.Helper()
	u, err := w.Auth.UserByName(context.Background(), consoletest.Users[role])
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// testLogger logs errors into the test's output.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelError}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// anonymous is a client with a cookie jar that does not follow redirects.
func anonymous() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
