package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// remediateFlow is callable on demand and keeps the event it was given.
const remediateFlow = `document:
  dsl: '1.0.0'
  namespace: tests
  name: remediate
  version: '1.0.0'
  title: Remediate
  metadata:
    vigil:
      saveAllData: true
      onDemand: true
do:
  - keep:
      set:
        got: '${ .body }'
`

// TestRunFlowOnIssueOverRealServices checks the issue page's Run flow form
// on both databases: it offers only flows marked on demand, starts the
// chosen one with the issue's event and opens the execution; a flow not
// marked is refused with the reason and starts nothing; roles that may not
// manage flows are not offered the form and are refused.
func TestRunFlowOnIssueOverRealServices(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setupTestRun(t, st, false)
		ctx := context.Background()
		seedIssues(t, b.w, 1)
		page, err := b.w.Issues.List(ctx, issue.Filter{Limit: 1})
		if err != nil || len(page.Issues) != 1 {
			t.Fatalf("issues: %+v, %v", page, err)
		}
		is := page.Issues[0]
		remediate, greet := b.flow(t, remediateFlow), b.flow(t, greetFlow)
		for _, f := range []*flows.Flow{remediate, greet} {
			if _, err := b.w.Flows.SetOn(ctx, f.ID, true); err != nil {
				t.Fatal(err)
			}
		}
		issueURL := b.w.URL + "/ispm/issues/" + is.ID

		pg := get(t, b.builder, issueURL)
		if !strings.Contains(pg.Body, `action="/ispm/issues/`+is.ID+`/run-flow"`) ||
			!strings.Contains(pg.Body, `<option value="`+remediate.ID+`">Remediate`) {
			t.Fatalf("the issue page does not offer Remediate: %.3000s", pg.Body)
		}
		if strings.Contains(pg.Body, `<option value="`+greet.ID+`"`) {
			t.Error("the issue page offers Greet, which is not callable on demand")
		}

		pg = post(t, b.builder, issueURL+"/run-flow", url.Values{"flow": {remediate.ID}})
		execID, ok := strings.CutPrefix(pg.Location, "/workflows/executions/")
		if pg.Status != http.StatusSeeOther || !ok || execID == "" {
			t.Fatalf("Run flow: status %d to %q, want 303 to the execution: %.300s", pg.Status, pg.Location, pg.Body)
		}
		e := b.wait(t, execID)
		if e.Status != flows.StatusSucceeded || e.FlowID != remediate.ID || e.Test {
			t.Fatalf("run: %+v; want a succeeded, non-test run of Remediate", e)
		}
		h, err := b.w.Flows.Execution(ctx, execID)
		if err != nil {
			t.Fatal(err)
		}
		out := fmt.Sprint(h.Execution.Output)
		for _, s := range []string{"eventData:", "title:" + is.Data.Title, "id:" + is.ID, "affectedEntity:", is.Data.AffectedEntity.IdentifierInService} {
			if !strings.Contains(out, s) {
				t.Errorf("the flow's output %s does not hold %q", out, s)
			}
		}
		if pg := get(t, b.builder, b.w.URL+pg.Location); pg.Status != http.StatusOK || !strings.Contains(pg.Body, "The flow started on issue "+is.ID) {
			t.Errorf("execution page: status %d, want 200 with the flash: %.2000s", pg.Status, pg.Body)
		}
		// The issue page links the run, and lists no other.
		runs := regexp.MustCompile(`href="/workflows/executions/(exe_[0-9A-Za-z]+)" data-testid="issue-run"`).FindAllStringSubmatch(get(t, b.builder, issueURL).Body, -1)
		if len(runs) != 1 || runs[0][1] != execID {
			t.Errorf("the issue page links the runs %v, want only %s", runs, execID)
		}

		before := b.executions(t, greet.ID)
		pg = post(t, b.builder, issueURL+"/run-flow", url.Values{"flow": {greet.ID}})
		if pg.Status != http.StatusSeeOther || pg.Location != "/ispm/issues/"+is.ID {
			t.Fatalf("not on demand: status %d to %q, want 303 back to the issue", pg.Status, pg.Location)
		}
		if msg := get(t, b.builder, b.w.URL+pg.Location).Body; !strings.Contains(msg, "not callable on demand") {
			t.Errorf("not on demand: the issue page does not say why: %.3000s", msg)
		}
		if n := b.executions(t, greet.ID); n != before {
			t.Errorf("not on demand: %d executions started", n-before)
		}

		for _, role := range []auth.Role{auth.RoleIssueViewer, auth.RoleIssueResponder} {
			c := b.w.Client(t, role)
			if pg := get(t, c, issueURL); strings.Contains(pg.Body, "/run-flow") {
				t.Errorf("%s: the issue page offers Run flow", role)
			}
			before := b.executions(t, remediate.ID)
			if pg := post(t, c, issueURL+"/run-flow", url.Values{"flow": {remediate.ID}}); pg.Status != http.StatusForbidden {
				t.Errorf("%s: status %d, want 403", role, pg.Status)
			}
			if n := b.executions(t, remediate.ID); n != before {
				t.Errorf("%s: %d executions started", role, n-before)
			}
		}
	})
}
