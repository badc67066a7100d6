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
	"github.com/vigil-ispm/vigil/internal/console"
	"github.com/vigil-ispm/vigil/internal/console/consoletest"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
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
	folder, err := w.Workflows.AddTemplate(ctx, consoletest.TemplateName, "", nil, false)
	if err != nil {
		t.Fatal(err)
	}
	f.folderID = folder.ID
	if f.routeID, err = w.Workflows.FlowByTitle("1.0 ISPM Event Routing Flow"); err != nil {
		t.Fatal(err)
	}
	if f.helperID, err = w.Workflows.FlowByTitle("2.2 Suspend Okta User"); err != nil {
		t.Fatal(err)
	}
	tables, _ := w.Workflows.Tables(ctx, folder.ID)
	f.tableID = tables[0].ID
	if _, err := w.Workflows.AddConnection(ctx, consoletestConnection()); err != nil {
		t.Fatal(err)
	}
	if err := w.Sources.AddSource(ctx, consoletestSource(f.sourceName)); err != nil {
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
	if f.scanID, err = w.Sources.StartScan(ctx, ""); err != nil {
		t.Fatal(err)
	}
	w.Sources.Wait()
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
	if err := w.Workflows.SetFlowOn(ctx, f.routeID, true); err != nil {
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

func consoletestConnection() console.ConnectionInput {
	return console.ConnectionInput{Type: "okta", Name: "Okta", DryRun: true, Values: map[string]string{"url": "https://example.okta.com", "token": "00abc"}}
}

func consoletestSource(name string) console.SourceInput {
	return console.SourceInput{Name: name, Kind: "synthetic", Values: map[string]string{"people": "40", "seed": "7"}, Primary: true}
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
