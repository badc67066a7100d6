package console_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/console/consoletest"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
	"github.com/vigil-ispm/vigil/internal/hooks"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

const receiverFlowDoc = `document:
  dsl: '1.0.0'
  namespace: trace
  name: receive
  version: '1.0.0'
  title: Receive issue
  metadata:
    vigil:
      trigger:
        apiEndpoint:
          security: public
          response: async
do:
  - take:
      set:
        title: '${ .body.eventData.title }'
`

// TestDeliveryLinksTheExecutionItStarted sends the issues of a scan to a
// flow's invoke URL over the real services and follows the trace: the
// delivery page links the execution the delivery started, and that
// execution is the flow's.
func TestDeliveryLinksTheExecutionItStarted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := consoletest.New(t, consoletest.Options{Store: st, Logger: testLogger(t)})
		admin := w.Client(t, auth.RoleSuperAdmin)
		folder := traceFolder(t, w)
		res := flowOn(t, w, folder.ID, receiverFlowDoc)
		ep, err := w.Endpoints.Ensure(ctx, res.Flow.ID)
		if err != nil {
			t.Fatal(err)
		}
		h, _, err := w.Hooks.Create(ctx, hooks.Input{Name: "Trace", URL: invoke.InvokeURL(w.URL, ep.Alias)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Hooks.SetAutomation(ctx, h.ID, hooks.AutomationInput{AllTitles: true}); err != nil {
			t.Fatal(err)
		}
		w.ScanSynthetic(t, "org", 10, 1)
		var d *hooks.Delivery
		for deadline := time.Now().Add(2 * time.Minute); d == nil; {
			ds, err := w.Hooks.Deliveries(ctx, hooks.DeliveryFilter{Hook: h.ID, Status: hooks.StatusDelivered, Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) > 0 {
				d = ds[0]
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no delivery was delivered")
			}
			time.Sleep(50 * time.Millisecond)
		}
		page := get(t, admin, w.URL+"/ispm/settings/integrations/"+h.ID+"/deliveries/"+d.ID).Body
		m := regexp.MustCompile(`data-testid="delivery-executions"><div><a href="/workflows/executions/(exe_[0-9A-Za-z]+)">Receive issue</a>`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("the delivery page does not link the execution it started: %s", section(page, "<dl"))
		}
		if !strings.Contains(page, `<summary>Request sent: <code class="wrap">POST `+invoke.InvokeURL(w.URL, ep.Alias)) || !strings.Contains(page, "&#34;eventData&#34;") {
			t.Errorf("the delivery page does not show the request sent: %s", section(page, `data-testid="attempt-request"`))
		}
		hist, err := w.Flows.Execution(ctx, m[1])
		if err != nil || hist.Execution.FlowID != res.Flow.ID {
			t.Fatalf("the linked execution %s: %+v, %v", m[1], hist, err)
		}
		if exec := get(t, admin, w.URL+"/workflows/executions/"+m[1]).Body; !strings.Contains(exec, "Receive issue") {
			t.Errorf("the linked execution's page: %s", section(exec, "<h1"))
		}
		// The issue's page links the delivery and, beside it, the
		// execution it started.
		issuePage := get(t, admin, w.URL+"/ispm/issues/"+d.IssueID).Body
		if !strings.Contains(issuePage, `href="/ispm/settings/integrations/`+h.ID+`/deliveries/`+d.ID+`" data-testid="issue-delivery"`) ||
			!strings.Contains(issuePage, `href="/workflows/executions/`+m[1]+`" data-testid="delivery-run"`) {
			t.Errorf("the issue page does not link the delivery and its execution: %s", section(issuePage, `data-testid="issue-deliveries"`))
		}
	})
}

const tableWriterFlow = `document:
  dsl: '1.0.0'
  namespace: trace
  name: write-row
  version: '1.0.0'
  title: Write a row
do:
  - write:
      call: tables.createRow
      with:
        table: Events
        row:
          Title: '${ .title }'
          Note: '${ .note }'
`

// TestTableRowsNameTheRunThatWroteThem runs a flow that adds a row with a
// long cell: the table page links the row to the flow and the execution
// that wrote it, cuts the long cell in the list and shows it whole in the
// row's detail.
func TestTableRowsNameTheRunThatWroteThem(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := consoletest.New(t, consoletest.Options{Store: st, Logger: testLogger(t)})
		admin := w.Client(t, auth.RoleSuperAdmin)
		folder := traceFolder(t, w)
		tbl, err := w.Flows.CreateTable(ctx, folder.ID, flows.TableParams{Name: "Events",
			Columns: []catalog.Column{{Name: "Title", Type: catalog.ColText}, {Name: "Note", Type: catalog.ColText}}})
		if err != nil {
			t.Fatal(err)
		}
		res := flowOn(t, w, folder.ID, tableWriterFlow)
		long := strings.Repeat("a long note ", 200)
		execID, err := w.Flows.Start(ctx, res.Flow.ID, map[string]any{"title": "Unused Account", "note": long}, flows.StartOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		if e, err := w.Flows.Wait(wctx, execID); err != nil || e.Status != flows.StatusSucceeded {
			t.Fatalf("the run: %+v, %v", e, err)
		}
		page := get(t, admin, w.URL+"/workflows/tables/"+tbl.ID).Body
		for _, want := range []string{
			`<a href="/workflows/flows/` + res.Flow.ID + `" data-testid="row-flow">Write a row</a>`,
			`<a href="/workflows/executions/` + execID + `" data-testid="row-execution">`,
			`<table class="grid small cut" data-testid="table-rows">`,
			`data-testid="row-detail"`,
			`<dd class="full">` + long + `</dd>`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("the table page lacks %.120q: %s", want, section(page, `data-testid="table-rows"`))
			}
		}
		rows, err := w.Flows.TableRows(ctx, tbl.ID, catalog.Query{})
		if err != nil || len(rows) != 1 || rows[0][catalog.RowExecution] != execID || rows[0][catalog.RowFlow] != res.Flow.ID {
			t.Errorf("rows %v, %v; want one naming %s", rows, err, execID)
		}
	})
}

// traceFolder makes the folder the trace tests keep their flows in.
func traceFolder(t *testing.T, w *consoletest.World) *flows.Folder {
	t.Helper()
	folder, err := w.Flows.CreateFolder(context.Background(), "Trace", "")
	if err != nil {
		t.Fatal(err)
	}
	return folder
}

// flowOn saves doc in a folder and turns the flow on.
func flowOn(t *testing.T, w *consoletest.World, folderID, doc string) *flows.SaveResult {
	t.Helper()
	res, err := w.Flows.SaveFlow(context.Background(), flows.SaveParams{FolderID: folderID, Document: []byte(doc)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Flows.SetOn(context.Background(), res.Flow.ID, true); err != nil {
		t.Fatal(err)
	}
	return res
}
