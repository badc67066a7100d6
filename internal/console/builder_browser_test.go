package console_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/console/browsertest"
	"github.com/vigil-ispm/vigil/internal/console/consoletest"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/builder"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// builtFlow is the document TestBrowserBuilder builds with the mouse and
// the keyboard only: the New Flow page's API Endpoint flow with "Save all
// data", then a switch, a Slack message and an approval.
const builtFlow = `
document:
  dsl: 1.0.0
  namespace: default
  name: triage-events
  version: 1.0.0
  title: Triage Events
  summary: High severity issues go to Slack and wait for approval.
  metadata:
    vigil:
      trigger:
        apiEndpoint:
          security: clientToken
      saveAllData: true
do:
  - decide:
      switch:
        - high:
            when: .body.eventData.severity == "High"
            then: notify
        - otherwise:
            then: end
  - notify:
      call: slack.postMessage
      with:
        connection: Slack
        channel: "#security"
        text: '${ "New issue: \($workflow.input.body.eventData.title)" }'
  - approval:
      call: approval.request
      with:
        message: '${ "Suspend \($workflow.input.body.eventData.affectedEntity.displayName)" }'
        approvers: ["super_admin", "workflows_admin"]
        expiresAfter: P1D
`

// TestBrowserBuilder builds a flow in chromium over the real flows service:
// New Flow → API Endpoint → Save all data, then in the card builder a
// switch, a Slack call (field picked from the sample event) and an
// approval; saves it and compares the saved document with builtFlow; then
// tests it with the sample event (dry run on by default) and checks each
// card's input and output.
func TestBrowserBuilder(t *testing.T) {
	storetest.Each(t, browserBuilder)
}

func browserBuilder(t *testing.T, st *store.Store) {
	w := consoletest.New(t, consoletest.Options{Store: st, Logger: testLogger(t)})
	ctx := context.Background()
	if _, err := w.Connections.Create(ctx, connection.Input{Name: "Slack", Kind: "slack",
		Fields: map[string]string{"token": "xoxb-dry-run"}}); err != nil {
		t.Fatal(err)
	}
	b := browsertest.NewBrowser(t, w.URL)
	b.Open("/login")
	b.Type("#username", consoletest.Users["workflows_admin"])
	b.Type("#password", consoletest.Password)
	b.Follow(".login button[type=submit]")

	// New Flow → API Endpoint → Save all data.
	b.Open("/workflows/flows/new")
	b.Click("#add-event")
	b.Click("#pick-builtin")
	b.Click("#pick-api")
	b.Click(`//button[normalize-space()="Secure with client token"]`)
	b.Click("#close-event")
	b.Click("#save-flow")
	b.Type("#f-name", "Triage Events")
	b.Type("#f-desc", "High severity issues go to Slack and wait for approval.")
	b.Click("#f-saveall")
	b.Follow(`[data-testid="save-new-flow"]`)
	flowPage := browsertest.Eval[string](b, `location.pathname`)

	// The card builder: replace the starting card.
	b.Follow(`[data-testid="open-builder"]`)
	b.Shot("builder-new-flow")
	b.Follow(`button[value="del:c.0"]`)
	if n := browsertest.Eval[int](b, `document.querySelectorAll("[data-card]").length`); n != 0 {
		t.Fatalf("after removing the only card, the builder shows %d", n)
	}

	// A switch: high severity goes on, anything else ends.
	b.Select(`[name="pick:c"]`, "switch")
	b.Follow(`[data-testid="add-c"]`)
	b.Type(`[name="c.0.s.0.name"]`, "high")
	b.Type(`[name="c.0.s.0.when"]`, `.body.eventData.severity == "High"`)
	b.Type(`[name="c.0.s.0.then"]`, "notify")
	b.Type(`[name="c.0.s.1.then"]`, "end")

	// A Slack message whose text picks the event's title.
	b.Select(`[name="pick:c"]`, "fn:slack.postMessage")
	b.Follow(`[data-testid="add-c"]`)
	if got := b.Value(`[name="c.0.s.0.when"]`); got != `.body.eventData.severity == "High"` {
		t.Fatalf("adding a card lost the switch's condition: %q", got)
	}
	b.Type(`[name="c.1.name"]`, "notify")
	if got := b.Value(`[name="c.1.v.f.0.x"]`); got != "Slack" {
		t.Fatalf("the Slack card's connection starts as %q, want Slack", got)
	}
	b.Type(`[name="c.1.v.f.1.x"]`, "#security")
	b.Type(`[name="c.1.v.f.2.x"]`, "New issue: ")
	b.Click(`[name="c.1.v.f.2.x"]`)
	b.Click(`.pick[data-expr="$workflow.input.body.eventData.title"]`)
	b.Shot("builder-slack-card")

	// An approval whose message picks the affected identity.
	b.Select(`[name="pick:c"]`, "approval")
	b.Follow(`[data-testid="add-c"]`)
	b.Type(`[name="c.2.v.f.0.x"]`, "Suspend ")
	b.Click(`[name="c.2.v.f.0.x"]`)
	b.Click(`.pick[data-expr="$workflow.input.body.eventData.affectedEntity.displayName"]`)
	b.Shot("builder-three-cards")
	b.Follow(`[data-testid="builder-save"]`)
	if msg := b.Flash(); !strings.Contains(msg, "Version 2 of Triage Events is saved") {
		b.Shot("builder-save-failed")
		t.Fatalf("Save in the builder said %q; the page says:\n%s", msg, browsertest.Eval[string](b, `(document.querySelector('[role=alert]')||{}).innerText||''`))
	}

	// The saved document is the expected YAML, and the YAML editor shows it.
	b.Open(flowPage)
	saved := b.Value("#document")
	if eq, err := builder.Equal([]byte(builtFlow), []byte(saved)); err != nil || !eq {
		t.Fatalf("the saved document (%v) is not the expected one:\n%s", err, saved)
	}

	// Test flow from the builder: the sample event, dry run on by default.
	b.Follow(`[data-testid="open-builder"]`)
	if !browsertest.Eval[bool](b, `document.getElementById("test-dry-run").checked`) {
		t.Fatal("the builder's Test flow starts with dry run off")
	}
	if in := b.Value("#test-input"); !strings.Contains(in, `"Unused Admin Account"`) {
		t.Fatalf("the test input is not the ISPM sample event:\n%s", in)
	}
	b.Follow(`[data-testid="builder-test-run"]`)
	b.WaitFor("the test run to stop", `!/Running|Pending/.test(document.querySelector('[data-testid="execution-status"]').innerText)`, true, 2*time.Minute)
	b.Shot("builder-test-run")
	status := b.Text(`[data-testid="execution-status"]`)
	steps := b.Text("table.tasks")
	for _, want := range []string{"decide", "notify", `"severity": "High"`, `"dryRun": true`, `"channel": "#security"`} {
		if !strings.Contains(steps, want) {
			t.Errorf("the run's tasks lack %q:\n%s", want, steps)
		}
	}
	if status != "Waiting" || !strings.Contains(b.Text("main"), "Suspend Ali Lesch") {
		t.Errorf("the run should wait at the approval card for a decision on \"Suspend Ali Lesch\"; it is %s:\n%s", status, b.Text("main"))
	}

	// Back in the builder, each card shows its input and output of the run.
	b.Open(flowPage + "/builder")
	for _, card := range []string{"decide", "notify"} {
		got := b.Text(`[data-testid="lastrun-` + card + `"]`)
		if !strings.Contains(got, "Succeeded") {
			t.Errorf("the builder's %s card shows the last run as %q", card, got)
		}
	}
	if in := browsertest.Eval[string](b, `document.querySelector('[data-testid="lastrun-notify"] pre').textContent`); !strings.Contains(in, "Unused Admin Account") {
		t.Errorf("the notify card's last input lacks the event:\n%s", in)
	}
	b.Shot("builder-last-run")

	// Test one card: the switch on its input of the last run.
	b.Follow(`[data-testid="testcard-decide"]`)
	if got := b.Text(`[data-testid="cardtest-result"]`); !strings.Contains(got, "its input in the flow's last run") ||
		!strings.Contains(got, `"case": "high"`) {
		t.Errorf("Test this card on the switch shows %q", got)
	}
	b.Shot("builder-test-card")

	// Edited as YAML, the flow opens in the builder with the change.
	b.Open(flowPage)
	b.Type("#document", saved+"  - done:\n      set:\n        result: sent\n      then: end\n")
	b.Follow(`form[action="` + flowPage + `"] button.primary`)
	if msg := b.Flash(); !strings.Contains(msg, "Version 3") {
		t.Fatalf("saving the YAML said %q", msg)
	}
	b.Follow(`[data-testid="open-builder"]`)
	if got := b.Value(`[name="c.3.name"]`); got != "done" || b.Value(`[name="c.3.kind"]`) != "return" {
		t.Errorf("the card added as YAML shows as %q (%s)", got, b.Value(`[name="c.3.kind"]`))
	}

	// A template helper flow, with its try/catch, opens as cards.
	doc, err := os.ReadFile("../flows/template/bundles/identity-security-posture-management/flows/2.2-suspend-okta-user.yaml")
	if err != nil {
		t.Fatal(err)
	}
	triage, err := w.Flows.Flow(ctx, strings.TrimPrefix(flowPage, "/workflows/flows/"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.Flows.SaveFlow(ctx, flows.SaveParams{FolderID: triage.FolderID, Document: doc, By: "test"})
	if err != nil {
		t.Fatal(err)
	}
	b.Open("/workflows/flows/" + res.Flow.ID + "/builder")
	if n := browsertest.Eval[int](b, `document.querySelectorAll("[data-card]").length`); n != 9 {
		t.Errorf("the template flow 2.2 shows %d cards, want 9 (6 at the top, 1 in its try, 2 in its catch)", n)
	}
	b.Shot("builder-template-flow")
}
