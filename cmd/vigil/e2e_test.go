package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/logtest"
	"github.com/vigil-ispm/vigil/internal/okta/oktatest"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestEndToEnd follows the ISPM template's path as an administrator would,
// through the commands and a running server, against a fake Okta that is
// both the posture source and the remediation connection: add the template,
// connect Okta, turn the flows on, read the routing flow's invoke URL and
// client token, connect an outbound integration to it (clientToken as a URL
// parameter), test it, automate two titles, and scan. The scan's two issues
// must end as exactly one suspend and one group membership in Okta, two
// rows in "ISPM Events", and no other change anywhere.
func TestEndToEnd(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) { testEndToEnd(t, dialect) })
	}
}

const e2eGroupID = "00g1e2emfa0group0000"

func testEndToEnd(t *testing.T, dialect string) {
	ctx := context.Background()
	dir := t.TempDir()
	t.Setenv("VIGIL_MASTER_KEY", "")
	database := storetest.DatabaseURL(t, dialect)
	e := &e2e{t: t, dir: dir, database: database}

	// The Okta org: an admin who has not signed in for 200 days, an admin
	// without MFA, and an ordinary user with nothing wrong.
	now := time.Now().UTC()
	days := func(n int) *time.Time { v := now.AddDate(0, 0, -n); return &v }
	ok := oktatest.New(t)
	old := now.AddDate(-1, -2, 0)
	unused := ok.AddUser(oktatest.User{Login: "una.used@example.com", Created: old, LastLogin: days(200), PasswordChanged: days(20)})
	ok.AddFactor(unused.ID, oktatest.Factor{FactorType: "push"})
	ok.AddUserRole(unused.ID, oktatest.Role{Type: "ORG_ADMIN"})
	noMFA := ok.AddUser(oktatest.User{Login: "no.mfa@example.com", Created: old, LastLogin: days(1), PasswordChanged: days(20)})
	ok.AddUserRole(noMFA.ID, oktatest.Role{Type: "ORG_ADMIN"})
	fine := ok.AddUser(oktatest.User{Login: "fine@example.com", Created: old, LastLogin: days(1), PasswordChanged: days(20)})
	ok.AddFactor(fine.ID, oktatest.Factor{FactorType: "token:software:totp"})
	ok.AddGroup(oktatest.Group{ID: e2eGroupID, Name: "MFA required", Created: old})
	t.Setenv("VIGIL_E2E_OKTA_TOKEN", ok.Token())

	base, stopServer := e.start(ctx)
	e.t.Cleanup(func() { stopServer() })

	const folder = "ISPM"
	e.run("templates", "add", "identity-security-posture-management", "--folder", folder, "--set", "oktaMfaGroupId="+e2eGroupID)
	e.run("connections", "add", "okta", "--name", "Okta", "--url", ok.URL, "--token-env", "VIGIL_E2E_OKTA_TOKEN")
	e.run("flows", "on", "2.2 Suspend Okta User", "3.2 Okta - Add user to a group", "--folder", folder)
	e.run("flows", "on", "1.0 ISPM Event Routing Flow", "--folder", folder)

	var ep struct {
		InvokeURL   string `json:"invokeUrl"`
		ClientToken string `json:"clientToken"`
		Security    string `json:"security"`
	}
	if err := json.Unmarshal([]byte(e.run("flows", "endpoint", "1.0 ISPM Event Routing Flow", "--folder", folder, "--json", "--public-url", base)), &ep); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ep.InvokeURL, base+"/api/flo/") || !strings.HasSuffix(ep.InvokeURL, "/invoke") || ep.ClientToken == "" {
		t.Fatalf("endpoint %+v: want an invoke URL on %s and a client token", ep, base)
	}
	t.Setenv("VIGIL_E2E_CLIENT_TOKEN", ep.ClientToken)

	const hook = "Okta Workflows"
	e.run("hooks", "add", "--name", hook, "--url", ep.InvokeURL, "--param", "clientToken=@env:VIGIL_E2E_CLIENT_TOKEN")
	if out := e.run("hooks", "test", hook); !strings.Contains(out, "202") {
		t.Fatalf("Test Connection: %s; want the invoke URL's 202", out)
	}
	e.run("hooks", "automate", hook, "--titles", "Unused Admin Account,No MFA - Admin Account", "--auto-send", "on")
	e.run("sources", "add", "okta", "--name", "okta", "--url", ok.URL, "--token-env", "VIGIL_E2E_OKTA_TOKEN")
	ok.ResetRequests() // what remains is the scan's reads and the remediation's writes
	e.run("scan")

	// 2.2 asks before suspending: the request appears in the CLI's list,
	// an issue viewer cannot decide it, and a workflows admin approves it
	// while the server is stopped; the restarted server goes on.
	e.run("users", "add", "wanda", "--role", "workflows_admin")
	e.run("users", "add", "vic", "--role", "issue_viewer")
	var pending []flows.Approval
	for deadline := time.Now().Add(3 * time.Minute); len(pending) == 0; time.Sleep(100 * time.Millisecond) {
		if err := json.Unmarshal([]byte(e.run("approvals", "list", "--json")), &pending); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("after 3 minutes no approval request is pending; want 2.2's")
		}
	}
	if len(pending) != 1 || pending[0].FlowTitle != "2.2 Suspend Okta User" || pending[0].Action["function"] != "okta.suspendUser" ||
		pending[0].AffectedEntity["identifierInService"] != "una.used@example.com" || len(writesOf(ok)) > 1 {
		t.Fatalf("pending approvals %+v, Okta writes %q", pending, writesOf(ok))
	}
	if out, err := e.runErr("approvals", "approve", pending[0].ID, "--user", "vic"); err == nil || !strings.Contains(err.Error(), "may not decide") {
		t.Errorf("an issue viewer approved: %s %v", out, err)
	}
	stopServer()
	if out := e.run("approvals", "approve", pending[0].ID, "--user", "wanda", "--comment", "unused for 200 days"); !strings.Contains(out, "approved by wanda") {
		t.Errorf("approve: %s", out)
	}
	if out, err := e.runErr("approvals", "deny", pending[0].ID, "--user", "wanda"); err == nil || !strings.Contains(err.Error(), "already approved by wanda") {
		t.Errorf("a second decision: %s %v", out, err)
	}
	_, stopServer = e.start(ctx)

	// Wait until both issues have been remediated and every execution the
	// events started (the test event's included) has ended.
	svc := e.flows(ctx)
	want := []string{
		"POST /api/v1/users/" + unused.ID + "/lifecycle/suspend",
		"PUT /api/v1/groups/" + e2eGroupID + "/users/" + noMFA.ID,
	}
	var writes []string
	deadline := time.Now().Add(3 * time.Minute)
	for {
		writes = writesOf(ok)
		ended, execs := allEnded(ctx, t, svc)
		if len(writes) >= len(want) && ended && execs >= 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 3 minutes Okta received %q and the executions had not all ended (%d seen); want %q", writes, execs, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
	slices.Sort(writes)
	if !slices.Equal(writes, want) {
		t.Errorf("Okta received the changes %q; want exactly %q", writes, want)
	}
	for _, r := range ok.Requests() {
		if r.Method == http.MethodGet && !strings.HasPrefix(r.Path, "/api/v1/") {
			t.Errorf("Okta received %s %s, which no scan reads", r.Method, r.Path)
		}
	}

	rows := e.tableRows(ctx, svc, folder, "ISPM Events")
	var titles []string
	for _, r := range rows {
		titles = append(titles, fmt.Sprint(r["Title"]))
	}
	slices.Sort(titles)
	if !slices.Equal(titles, []string{"No MFA - Admin Account", "Unused Admin Account"}) {
		t.Errorf("ISPM Events holds %q; want one row per issue", titles)
	}
	if errs := e.tableRows(ctx, svc, folder, "Error Logging"); len(errs) != 0 {
		t.Errorf("Error Logging holds %v; want nothing", errs)
	}
	out := e.run("hooks", "list")
	if !strings.Contains(out, hook) {
		t.Errorf("hooks list: %s", out)
	}
}

// e2e runs the commands of one end-to-end test against its data directory
// and database.
type e2e struct {
	t        *testing.T
	dir      string
	database string
}

func (e *e2e) args(args ...string) []string {
	g := []string{"--data-dir", e.dir, "--allow-outbound", "127.0.0.0/8"}
	if e.database != "" {
		g = append(g, "--database", e.database)
	}
	return append(g, args...)
}

// runErr runs a command and returns what it printed and its error.
func (e *e2e) runErr(args ...string) (string, error) {
	e.t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd(&out, &errOut)
	root.SetArgs(e.args(args...))
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

// run runs a command and returns what it printed; it fails the test when
// the command fails.
func (e *e2e) run(args ...string) string {
	e.t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd(&out, &errOut)
	root.SetArgs(e.args(args...))
	if err := root.ExecuteContext(context.Background()); err != nil {
		e.t.Fatalf("vigil %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String()
}

// serve starts "vigil serve" on a free port, with extra flags if any,
// waits until it is ready, and stops it (checking it shuts down cleanly)
// when the test ends.
func (e *e2e) serve(ctx context.Context, extra ...string) string {
	e.t.Helper()
	base, stop := e.start(ctx, extra...)
	e.t.Cleanup(stop)
	return base
}

// start starts "vigil serve" on a free port, with extra flags if any, waits
// until it is ready, and returns its address and the function that stops
// it, checking it shuts down cleanly; calling that again does nothing.
func (e *e2e) start(ctx context.Context, extra ...string) (string, func()) {
	e.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	sctx, cancel := context.WithCancel(ctx)
	var logs logtest.Buffer
	done := make(chan error, 1)
	go func() {
		root := newRootCmd(&logs, &logs)
		root.SetArgs(e.args(append([]string{"serve", "--addr", addr}, extra...)...))
		done <- root.ExecuteContext(sctx)
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					e.t.Errorf("serve ended with %v", err)
				}
			case <-time.After(2 * time.Minute):
				e.t.Error("serve did not shut down within 2 minutes")
			}
			if e.t.Failed() {
				e.t.Logf("server log:\n%s", logs.String())
			}
		})
	}
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, stop
			}
		}
		select {
		case err := <-done:
			cancel()
			e.t.Fatalf("serve ended before it was ready: %v\n%s", err, logs.String())
		default:
		}
		if time.Since(start) > 2*time.Minute {
			e.t.Fatalf("the server was not ready within 2 minutes:\n%s", logs.String())
		}
	}
}

// flows opens the flows service over the test's database, to read what
// the server's executions did.
func (e *e2e) flows(ctx context.Context) *flows.Service {
	e.t.Helper()
	g := &globals{dataDir: e.dir, database: e.database, allowOutbound: "127.0.0.0/8", logFormat: "text", logLevel: "warn",
		stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	a, err := g.open(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { a.Close() })
	_, svc, err := newConnectorFlows(a)
	if err != nil {
		e.t.Fatal(err)
	}
	return svc
}

func (e *e2e) tableRows(ctx context.Context, svc *flows.Service, folder, table string) []map[string]any {
	e.t.Helper()
	f, err := svc.Folder(ctx, folder)
	if err != nil {
		e.t.Fatal(err)
	}
	tb, err := svc.Table(ctx, f.ID, table)
	if err != nil {
		e.t.Fatal(err)
	}
	rows, err := svc.TableRows(ctx, tb.ID, catalog.Query{Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	return rows
}

// writesOf lists the requests that change something in Okta.
func writesOf(ok *oktatest.Server) []string {
	var out []string
	for _, r := range ok.Requests() {
		if r.Method != http.MethodGet {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

// allEnded reports whether every execution has ended, and how many there
// are.
func allEnded(ctx context.Context, t *testing.T, svc *flows.Service) (bool, int) {
	t.Helper()
	execs, err := svc.Executions(ctx, flows.ExecutionFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range execs {
		if !x.Done() {
			return false, len(execs)
		}
	}
	return true, len(execs)
}
