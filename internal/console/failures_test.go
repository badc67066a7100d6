package console_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/console/consoletest"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

const faultyHelperDoc = `document:
  dsl: '1.0.0'
  namespace: ops
  name: faulty
  version: '1.0.0'
  title: Faulty helper
do:
  - fail:
      raise:
        error:
          type: https://serverlessworkflow.io/spec/1.0.0/errors/runtime
          status: 502
          title: Vendor refused
          detail: the account is locked
`

const callerDoc = `document:
  dsl: '1.0.0'
  namespace: ops
  name: route
  version: '1.0.0'
  title: Routing caller
do:
  - hand:
      run:
        workflow: { namespace: ops, name: faulty, version: '1.0.0' }
        await: false
`

// received is one request the loopback receiver got.
type received struct {
	path, auth string
	body       map[string]any
}

// TestFailuresShowAndNotify runs a routing flow over the real services
// whose helper faults, and checks what issue 20 asks of a failure: it
// shows on the dashboard and on the Flows list at the next page load, a
// failure notification configured in the console for the folder reaches a
// webhook receiver on loopback with the error and a link to the execution,
// and a helper that is off is named on the caller's page and makes the
// caller fault at once with a clear message.
func TestFailuresShowAndNotify(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := consoletest.New(t, consoletest.Options{Store: st, Logger: testLogger(t)})
		admin := w.Client(t, auth.RoleSuperAdmin)

		got := make(chan received, 8)
		recv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			var body map[string]any
			if err := json.Unmarshal(b, &body); err != nil {
				t.Errorf("the notification is not JSON: %s", b)
			}
			got <- received{path: r.URL.Path, auth: r.Header.Get("Authorization"), body: body}
			rw.WriteHeader(http.StatusNoContent)
		}))
		t.Cleanup(recv.Close)
		if _, err := w.Connections.Create(ctx, connection.Input{Name: "Ops hook", Kind: connection.KindHTTP,
			Fields: map[string]string{"baseUrl": recv.URL, "auth": connection.AuthBearer, "token": "hook-token-1"}}); err != nil {
			t.Fatal(err)
		}

		folder, err := w.Flows.CreateFolder(ctx, "Ops", "")
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, doc := range []string{faultyHelperDoc, callerDoc} {
			res, err := w.Flows.SaveFlow(ctx, flows.SaveParams{FolderID: folder.ID, Document: []byte(doc)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Flows.SetOn(ctx, res.Flow.ID, true); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, res.Flow.ID)
		}
		helperID, callerID := ids[0], ids[1]

		// A bad rule is refused with a sentence and saves nothing.
		pg := post(t, admin, w.URL+"/workflows/alerts", url.Values{"scope": {"folder:" + folder.ID}, "channel": {"slack"},
			"connection": {"Ops hook"}})
		if pg.Status != http.StatusSeeOther {
			t.Fatalf("a Slack rule through an http connection: status %d", pg.Status)
		}
		if body := get(t, admin, w.URL+"/workflows/alerts").Body; !strings.Contains(flashOf(body), "needs a slack connection") {
			t.Errorf("a Slack rule through an http connection says %q", flashOf(body))
		}
		if rules, _ := w.Alerts.Rules(ctx); len(rules) != 0 {
			t.Fatalf("a refused rule was saved: %+v", rules)
		}
		pg = post(t, admin, w.URL+"/workflows/alerts", url.Values{"scope": {"folder:" + folder.ID}, "channel": {"webhook"},
			"connection": {"Ops hook"}, "target": {"/vigil/failures"}})
		if pg.Status != http.StatusSeeOther {
			t.Fatalf("add the notification: status %d: %.300s", pg.Status, pg.Body)
		}

		runID, err := w.Flows.Start(ctx, callerID, map[string]any{"body": map[string]any{}}, flows.StartOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var r received
		select {
		case r = <-got:
		case <-time.After(2 * time.Minute):
			t.Fatal("no failure notification reached the receiver")
		}
		exec, _ := r.body["execution"].(map[string]any)
		fault, _ := r.body["error"].(map[string]any)
		childID, _ := exec["id"].(string)
		if r.path != "/vigil/failures" || r.auth != "Bearer hook-token-1" || r.body["type"] != "execution.faulted" {
			t.Errorf("notification sent to %q with auth %q, type %v", r.path, r.auth, r.body["type"])
		}
		if exec["flowTitle"] != "Faulty helper" || exec["folder"] != "Ops" || exec["parentId"] != runID ||
			exec["link"] != w.URL+"/workflows/executions/"+childID {
			t.Errorf("notification names the execution %+v", exec)
		}
		if fault["title"] != "Vendor refused" || fault["detail"] != "the account is locked" ||
			!strings.Contains(r.body["text"].(string), "the account is locked") {
			t.Errorf("notification carries the error %+v, text %q", fault, r.body["text"])
		}
		if h, err := w.Flows.Execution(ctx, childID); err != nil || h.Execution.Status != flows.StatusFaulted || h.Execution.FlowID != helperID {
			t.Fatalf("the notified execution %s: %+v, %v", childID, h, err)
		}

		// One page load later, the fault shows where people look.
		dash := get(t, admin, w.URL+"/ispm").Body
		if !strings.Contains(dash, `data-testid="fault-count">1 faulted execution<`) ||
			!strings.Contains(dash, `href="/workflows/flows/`+helperID+`">Faulty helper</a>`) ||
			!strings.Contains(dash, `href="/workflows/executions/`+childID+`"`) {
			t.Errorf("the dashboard does not show the faulted helper: %s", section(dash, `data-testid="failures"`))
		}
		list := get(t, admin, w.URL+"/workflows/flows?folder="+folder.ID).Body
		row := section(list, `href="/workflows/flows/`+helperID+`"`)
		if !strings.Contains(row, `href="/workflows/executions/`+childID+`"><span class="badge st-faulted">`) ||
			!strings.Contains(row, `status=faulted">1</a>`) {
			t.Errorf("the Flows list does not show the helper's fault: %s", row)
		}
		if child := get(t, admin, w.URL+"/workflows/executions/"+childID).Body; !strings.Contains(child,
			`<a href="/workflows/executions/`+runID+`" data-testid="parent-execution">`) {
			t.Errorf("the helper's execution does not link the run that started it: %s", section(child, "<dl"))
		}
		// The alert job records the sending once the receiver has answered,
		// so the page may lag the receiver a little.
		alerts := get(t, admin, w.URL+"/workflows/alerts").Body
		for deadline := time.Now().Add(2 * time.Minute); !strings.Contains(alerts, "Sent for execution "+childID) && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
			alerts = get(t, admin, w.URL+"/workflows/alerts").Body
		}
		if !strings.Contains(alerts, "Sent for execution "+childID) {
			t.Errorf("the notification page does not say the notification was sent: %s", section(alerts, `data-testid="alert-rules"`))
		}

		// A helper that is off: the caller's page says so, and a run of the
		// caller faults at once, naming the helper.
		if _, err := w.Flows.SetOn(ctx, helperID, false); err != nil {
			t.Fatal(err)
		}
		page := get(t, admin, w.URL+"/workflows/flows/"+callerID).Body
		if !strings.Contains(page, `data-testid="helper-warnings"`) || !strings.Contains(page, "Faulty helper&#34;, which is off") {
			t.Errorf("the caller's page does not warn that its helper is off: %s", section(page, "Helper flows"))
		}
		runID, err = w.Flows.Start(ctx, callerID, map[string]any{}, flows.StartOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		e, err := w.Flows.Wait(wctx, runID)
		if err != nil {
			t.Fatal(err)
		}
		if e.Status != flows.StatusFaulted || e.Error == nil || !strings.Contains(e.Error.Detail, `helper flow "Faulty helper" (ops/faulty) is off`) {
			t.Errorf("a run whose helper is off = %s %+v", e.Status, e.Error)
		}
		select {
		case r = <-got:
			if exec, _ := r.body["execution"].(map[string]any); exec["id"] != runID {
				t.Errorf("the second notification is of %v, want the caller's run %s", exec["id"], runID)
			}
		case <-time.After(2 * time.Minute):
			t.Fatal("the caller's fault was not notified")
		}
		if page := get(t, admin, w.URL+"/workflows/flows/"+helperID).Body; strings.Contains(page, `data-testid="helper-warnings"`) {
			t.Error("a flow that runs no helper is warned about helpers")
		}
	})
}

// section returns the part of body from marker on, a few hundred bytes
// long, for error messages.
func section(body, marker string) string {
	i := strings.Index(body, marker)
	if i < 0 {
		return "(" + marker + " not found)"
	}
	return body[i:min(len(body), i+1500)]
}
