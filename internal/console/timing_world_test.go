package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/console/consoletest"
	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/hooks"
	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
	"github.com/vigil-ispm/vigil/internal/posture/source"
	"github.com/vigil-ispm/vigil/internal/posture/synth"
	"github.com/vigil-ispm/vigil/internal/store"
)

// fullWorld is a console over the real services (flows, templates,
// connections, sources, hooks, issues) whose database holds what a busy
// installation holds: open issues (10,000 for the benchmark), an
// integration that sent one delivery per issue (a few dead-lettered), as
// many flow executions, the ISPM template, a connection, a scanned source
// and some API tokens. It names what the pages asked need.
type fullWorld struct {
	w           *consoletest.World
	cookie      *http.Cookie
	issueID     string
	sourceName  string
	scanID      string
	hookID      string
	deliveryID  string
	deadID      string
	folderID    string
	routeID     string
	tableID     string
	executionID string
	personID    string
	// deepDelivery and deepExecution are ids near the far end of the
	// delivery log and flow history, for their deep pages.
	deepDelivery  string
	deepExecution string
	// open is the number of open issues.
	open int
}

// newFullWorld builds a fullWorld on st. The order matters: the source is
// scanned before the integration exists, and the integration is paused
// while the issues are stored, so that no delivery is attempted.
func newFullWorld(t testing.TB, st *store.Store, open int) *fullWorld {
	t.Helper()
	ctx := context.Background()
	w := consoletest.New(t, consoletest.Options{Store: st, Logger: testLogger(t)})
	fw := &fullWorld{w: w, sourceName: "acme"}
	admin := w.Client(t, auth.RoleSuperAdmin)

	// The ISPM template and a dry-run Okta connection, as an administrator
	// adds them.
	if pg := post(t, admin, w.URL+"/workflows/templates/identity-security-posture-management", url.Values{}); pg.Status != http.StatusSeeOther {
		t.Fatalf("add the template: status %d: %.300s", pg.Status, pg.Body)
	}
	form := url.Values{"type": {"okta"}, "name": {"Okta"}, "v_url": {"https://example.okta.com"}, "v_token": {"00abc"}}
	if pg := post(t, admin, w.URL+"/workflows/connections", form); pg.Status != http.StatusSeeOther {
		t.Fatalf("add the connection: status %d: %.300s", pg.Status, pg.Body)
	}
	all, err := w.Flows.Flows(ctx, flows.ListFlowsParams{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range all {
		if f.Title == "1.0 ISPM Event Routing Flow" {
			fw.routeID, fw.folderID = f.ID, f.FolderID
		}
	}
	if fw.routeID == "" {
		t.Fatal("the template has no routing flow")
	}
	tables, err := w.Flows.Tables(ctx, fw.folderID)
	if err != nil || len(tables) == 0 {
		t.Fatalf("the template's tables: %d, %v", len(tables), err)
	}
	fw.tableID = tables[0].ID
	seedRows(t, st, tables[0], tableRows)

	// A snapshot source of 200 people, scanned once.
	file := filepath.Join(t.TempDir(), "acme.jsonl")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriter(f)
	if err := synth.WriteSnapshot(bw, 200, 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := w.Sources.Add(ctx, source.Input{Name: fw.sourceName, Kind: source.KindSnapshot, Settings: source.Settings{File: file}}); err != nil {
		t.Fatal(err)
	}
	res, err := w.Sources.Scan(ctx, source.ScanOptions{})
	if err != nil || res.Status != source.ScanOK {
		t.Fatalf("scan the snapshot: %v", err)
	}
	fw.scanID = res.ID
	people, _, err := st.IdentityPeople(ctx, store.IdentityFilter{Limit: 1})
	if err != nil || len(people) == 0 {
		t.Fatalf("the scan's people: %d, %v", len(people), err)
	}
	fw.personID = people[0].ID

	// An integration that receives every new issue, paused while the issues
	// are stored so that their deliveries wait instead of being sent.
	h, _, err := w.Hooks.Create(ctx, hooks.Input{Name: "Routing flow", URL: w.URL + "/nowhere"})
	if err != nil {
		t.Fatal(err)
	}
	fw.hookID = h.ID
	on := true
	if _, err := w.Hooks.SetAutomation(ctx, h.ID, hooks.AutomationInput{AutoSend: &on, AllTitles: true}); err != nil {
		t.Fatal(err)
	}
	if err := w.Hooks.Pause(ctx, h.ID, "Paused while the test fills the database."); err != nil {
		t.Fatal(err)
	}

	scanned := countOpen(t, w)
	extra := max(open-scanned, 1)
	seedIssues(t, w, extra)
	if n := countOpen(t, w); n != scanned+extra {
		t.Fatalf("%d open issues, want %d", n, scanned+extra)
	}
	fw.open = scanned + extra
	page, err := w.Issues.List(ctx, issue.Filter{Limit: 1})
	if err != nil || len(page.Issues) == 0 {
		t.Fatalf("no issue: %v", err)
	}
	fw.issueID = page.Issues[0].ID
	seedDeliveries(t, fw, extra)

	// One execution run by the engine (a test event, which calls no
	// helper), then a history of one execution per issue.
	in := map[string]any{"body": event.Sample("0b8f3c7e-2f1d-4a8e-9b0c-6f1e2d3c4b5a", time.Now(), w.URL), "headers": map[string]any{"x-vigil-test": "true"}}
	if fw.executionID, err = w.Flows.Start(ctx, fw.routeID, in, flows.StartOptions{AllowOff: true, Test: true}); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if _, err := w.Flows.Wait(wctx, fw.executionID); err != nil {
		t.Fatalf("wait for the execution: %v", err)
	}
	seedExecutions(t, fw, scanned+extra)

	for i := range 20 {
		if _, _, err := w.Auth.CreateToken(ctx, mustUser(t, w, auth.RoleSuperAdmin).ID, fmt.Sprintf("automation %d", i), 0); err != nil {
			t.Fatal(err)
		}
	}
	if st.Dialect() == store.Postgres {
		// As seedIssues does for the issues: the planner's statistics of the
		// tables filled in bulk, as autovacuum would soon gather them.
		for _, table := range []string{"vigil_hook_event", "vigil_hook_delivery", "vigil_hook_attempt", "vigil_flow_execution"} {
			if _, err := st.DB().ExecContext(ctx, `VACUUM ANALYZE `+table); err != nil {
				t.Fatal(err)
			}
		}
	}
	fw.cookie = adminCookie(t, w)
	return fw
}

// seedDeliveries records an attempt on each delivery the paused
// integration holds: one in a hundred failed for good (dead-lettered), the
// others answered 200. It then marks the integration active, as it would be
// after sending them.
func seedDeliveries(t testing.TB, fw *fullWorld, want int) {
	t.Helper()
	ctx := context.Background()
	st := fw.w.Store
	start := time.Now()
	held, err := st.HookDeliveries(ctx, store.HookDeliveryFilter{HookID: fw.hookID, Limit: 2 * want})
	if err != nil {
		t.Fatal(err)
	}
	if len(held) != want {
		t.Fatalf("the integration holds %d deliveries, want one per issue stored, %d", len(held), want)
	}
	err = st.InTx(ctx, func(tx *store.Tx) error {
		for i, d := range held {
			at := d.CreatedAt.Add(300 * time.Millisecond)
			status, code, msg := store.HookDeliveryDelivered, 200, ""
			if i%100 == 7 {
				status, code, msg = store.HookDeliveryDead, 500, "The receiver answered 500 Internal Server Error."
			}
			a := &store.HookAttempt{ID: id.NewAt("hka", at), DeliveryID: d.ID, Generation: d.Generation, StartedAt: at,
				LatencyMS: 42, StatusCode: code, Response: []byte(`{"ok":true}`), Error: msg}
			if err := tx.CreateHookAttempt(ctx, a); err != nil {
				return err
			}
			if _, err := tx.FinishHookDelivery(ctx, &store.HookDeliveryResult{ID: d.ID, Generation: d.Generation, Status: status,
				NextAttemptAt: at, AttemptAt: at, StatusCode: code, Error: msg, Now: at}); err != nil {
				return err
			}
			switch {
			case status == store.HookDeliveryDead && fw.deadID == "":
				fw.deadID = d.ID
			case status == store.HookDeliveryDelivered && fw.deliveryID == "":
				fw.deliveryID = d.ID
			}
		}
		return tx.ActivateHook(ctx, fw.hookID, time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	fw.deepDelivery = held[len(held)-60].ID
	t.Logf("stored %d deliveries and their attempts in %s", len(held), time.Since(start).Round(time.Millisecond))
}

// seedExecutions stores n finished executions of the routing flow, one a
// minute back from now: most succeeded in under a second, one in fifty
// faulted, one in two hundred ran for over a minute.
func seedExecutions(t testing.TB, fw *fullWorld, n int) {
	t.Helper()
	ctx := context.Background()
	f, err := fw.w.Flows.Flow(ctx, fw.routeID)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	first := start.Add(-time.Duration(n+1) * time.Minute)
	ids := make([]string, n)
	err = fw.w.Store.InTx(ctx, func(tx *store.Tx) error {
		for i := range n {
			at := first.Add(time.Duration(i) * time.Minute)
			ids[i] = id.NewAt("exe", at)
			e := &store.FlowExecution{ID: ids[i], FlowID: f.ID, Version: f.Version, Status: store.FlowRunning,
				CreatedAt: at, UpdatedAt: at}
			if err := tx.CreateFlowExecution(ctx, e); err != nil {
				return err
			}
			end := store.FlowExecutionEnd{ID: e.ID, Generation: 1, Status: store.FlowSucceeded, Steps: 6,
				Duration: time.Duration(100+i%800) * time.Millisecond}
			switch {
			case i%50 == 3:
				end.Status, end.Error = store.FlowFaulted, `{"type":"https://serverlessworkflow.io/spec/1.0.0/errors/communication","status":503,"title":"Okta did not answer"}`
			case i%200 == 5:
				end.Duration = 75 * time.Second
			}
			end.EndedAt = at.Add(end.Duration)
			if _, err := tx.FinishFlowExecution(ctx, end); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	fw.deepExecution = ids[60]
	t.Logf("stored %d executions in %s", n, time.Since(start).Round(time.Millisecond))
}

// tableRows is how many rows the timing test stores in a table of the
// template: a year of errors logged by the flows.
const tableRows = 2_000

// seedRows stores n rows in t, text in its text columns, the newest last.
func seedRows(t testing.TB, st *store.Store, table *flows.TableInfo, n int) {
	t.Helper()
	ctx := context.Background()
	first := time.Now().Add(-time.Duration(n) * time.Hour)
	ids := catalog.NewRowIDs(func() time.Time { return first })
	err := st.InTx(ctx, func(tx *store.Tx) error {
		for i := range n {
			values := map[string]any{}
			for _, c := range table.Columns {
				if c.Type == catalog.ColText {
					values[c.Name] = fmt.Sprintf("%s %d: Okta answered 503", c.Name, i)
				}
			}
			data, err := json.Marshal(values)
			if err != nil {
				return err
			}
			at := first.Add(time.Duration(i) * time.Hour)
			if err := tx.InsertFlowTableRow(ctx, &store.FlowTableRow{ID: ids(), TableID: table.ID, Data: string(data), CreatedAt: at, UpdatedAt: at}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// adminCookie signs the super admin in and returns the session cookie.
func adminCookie(t testing.TB, w *consoletest.World) *http.Cookie {
	t.Helper()
	ctx := context.Background()
	u, err := w.Auth.UserByName(ctx, consoletest.Users[auth.RoleSuperAdmin])
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := w.Auth.StartSession(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Cookie{Name: auth.SessionCookie, Value: token}
}

// countOpen returns how many open issues the database holds.
func countOpen(t testing.TB, w *consoletest.World) int {
	t.Helper()
	page, err := w.Issues.List(context.Background(), issue.Filter{Statuses: []issue.Status{issue.StatusOpen}, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	return page.Total
}
