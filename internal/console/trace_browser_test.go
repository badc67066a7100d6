package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/console/browsertest"
	"github.com/vigil-ispm/vigil/internal/console/consoletest"
	"github.com/vigil-ispm/vigil/internal/okta/oktatest"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// remediateOnDemandFlow is offered on issues and hands the event to a
// helper without waiting, as the ISPM routing flow does.
const remediateOnDemandFlow = `document:
  dsl: '1.0.0'
  namespace: trace
  name: remediate-on-demand
  version: '1.0.0'
  title: Remediate on demand
  metadata:
    vigil:
      saveAllData: true
      onDemand: true
do:
  - suspend:
      run:
        workflow: {namespace: trace, name: suspend-in-okta, version: '1.0.0', input: {eventData: '${ .body.eventData }'}}
        await: false
`

// suspendInOktaFlow is the helper: it suspends the affected account
// through the Okta connection.
const suspendInOktaFlow = `document:
  dsl: '1.0.0'
  namespace: trace
  name: suspend-in-okta
  version: '1.0.0'
  title: Suspend in Okta
  metadata:
    vigil:
      saveAllData: true
do:
  - suspend:
      call: okta.suspendUser
      with:
        connection: Okta
        user: '${ .eventData.affectedEntity.idInService }'
`

// TestBrowserTracesARemediationFromTheIssue runs, in chromium on both
// databases, a remediation flow from an issue's page through a dry-run
// Okta connection, then follows the links from the issue to the run, to
// the helper it started and to the connector call, and reads there the
// request and the answer with the API token masked. Nothing reaches the
// (fake) Okta.
func TestBrowserTracesARemediationFromTheIssue(t *testing.T) {
	storetest.Each(t, browserTrace)
}

func browserTrace(t *testing.T, st *store.Store) {
	ctx := context.Background()
	w := consoletest.New(t, consoletest.Options{Store: st, Logger: testLogger(t)})
	ok := oktatest.New(t)
	if _, err := w.Connections.Create(ctx, connection.Input{Name: "Okta", Kind: "okta", DryRun: true,
		Fields: map[string]string{"url": ok.URL, "token": oktatest.DefaultToken}}); err != nil {
		t.Fatal(err)
	}
	folder := traceFolder(t, w)
	flowOn(t, w, folder.ID, suspendInOktaFlow)
	mainID := flowOn(t, w, folder.ID, remediateOnDemandFlow).Flow.ID
	seedIssues(t, w, 1)
	page, err := w.Issues.List(ctx, issue.Filter{Limit: 1})
	if err != nil || len(page.Issues) != 1 {
		t.Fatalf("issues: %+v, %v", page, err)
	}
	is := page.Issues[0]

	b := browsertest.NewBrowser(t, w.URL)
	b.Open("/login")
	b.Type("#username", consoletest.Users["super_admin"])
	b.Type("#password", consoletest.Password)
	b.Follow(".login button[type=submit]")
	b.Open("/ispm/issues/" + is.ID)
	b.Select("#run-flow", mainID)
	b.Follow(`form[data-testid="run-flow"] button[type=submit]`)
	if f := b.Flash(); !strings.Contains(f, "The flow started on issue "+is.ID) {
		t.Errorf("after Run flow: flash %q", f)
	}

	// From the issue to the run.
	b.Open("/ispm/issues/" + is.ID)
	b.Shot("trace-issue")
	b.Follow(`a[data-testid="issue-run"]`)
	if h := b.Text("h1"); !strings.HasPrefix(h, "Remediate on demand") {
		t.Fatalf("the issue's run link opened %q", h)
	}
	// From the run to the helper it started.
	b.WaitFor("the helper run", `document.querySelector('a[data-testid="child-execution"]')`, true, 2*time.Minute)
	b.Follow(`a[data-testid="child-execution"]`)
	if h := b.Text("h1"); !strings.HasPrefix(h, "Suspend in Okta") {
		t.Fatalf("the helper link opened %q", h)
	}
	if p := b.Text(`[data-testid="parent-execution"]`); p == "" {
		t.Error("the helper's page does not link the run that started it")
	}
	// The helper's connector calls, request and answer.
	b.WaitFor("the connector calls", `document.querySelectorAll('[data-testid="connector-call"]').length >= 2`, true, 2*time.Minute)
	browsertest.Eval[bool](b, `(() => { document.querySelectorAll('[data-testid="connector-calls"] details').forEach(d => d.open = true); return true })()`)
	b.Shot("trace-connector-calls")
	calls := b.Text(`[data-testid="connector-calls"]`)
	suspend := "POST " + ok.URL + "/api/v1/users/"
	for _, want := range []string{suspend, "/lifecycle/suspend", "dry run", "Request through Okta", `"Authorization": "SSWS ••••••••`, "HTTP 200", "Answer"} {
		if !strings.Contains(calls, want) {
			t.Errorf("the connector calls do not show %q: %s", want, calls)
		}
	}
	html := browsertest.Eval[string](b, `document.documentElement.outerHTML`)
	if strings.Contains(html, oktatest.DefaultToken) {
		t.Error("the execution page shows the Okta API token")
	}
	if n := len(ok.Requests()); n != 0 {
		t.Errorf("the dry run sent %d requests to Okta", n)
	}
}
