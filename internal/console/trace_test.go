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
		w := consoletest.New(t, consoletest.Options{Store: st, Real: true, Logger: testLogger(t)})
		admin := w.Client(t, auth.RoleSuperAdmin)
		folder, err := w.Flows.CreateFolder(ctx, "Trace", "")
		if err != nil {
			t.Fatal(err)
		}
		res, err := w.Flows.SaveFlow(ctx, flows.SaveParams{FolderID: folder.ID, Document: []byte(receiverFlowDoc)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Flows.SetOn(ctx, res.Flow.ID, true); err != nil {
			t.Fatal(err)
		}
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
		scanSyntheticOrg(t, w, 10, 1)
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
		hist, err := w.Flows.Execution(ctx, m[1])
		if err != nil || hist.Execution.FlowID != res.Flow.ID {
			t.Fatalf("the linked execution %s: %+v, %v", m[1], hist, err)
		}
		if exec := get(t, admin, w.URL+"/workflows/executions/"+m[1]).Body; !strings.Contains(exec, "Receive issue") {
			t.Errorf("the linked execution's page: %s", section(exec, "<h1"))
		}
	})
}
