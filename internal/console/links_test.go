package console_test

import (
	"context"

	"github.com/vigil-ispm/vigil/internal/posture/issue"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// relayFlow saves its data and has two tasks: the first reads the
// execution's input as it came, the second the first one's output.
const relayFlow = `document:
  dsl: '1.0.0'
  namespace: tests
  name: relay
  version: '1.0.0'
  title: Relay
  metadata:
    vigil:
      saveAllData: true
do:
  - first:
      set:
        marker: '${ .eventData.id }'
  - second:
      set:
        seen: '${ .marker }'
`

// TestExecutionShowsTheTriggerEventOnce runs a flow on an issue event and
// reads its execution page: the event is shown once, in the Input card,
// and the task that received it as it came says so instead of repeating
// it; the next task, whose input differs, shows its own.
func TestExecutionShowsTheTriggerEventOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setupTestRun(t, st, false)
		f := b.flow(t, relayFlow)
		execID := b.testRun(t, f.ID, url.Values{"input": {`{"eventData": {"id": "iss_once_0001", "title": "No MFA - Account"}}`}})
		b.wait(t, execID)
		pg := get(t, b.builder, b.w.URL+"/workflows/executions/"+execID)
		if pg.Status != http.StatusOK {
			t.Fatalf("execution page: %d", pg.Status)
		}
		if n := strings.Count(pg.Body, "No MFA - Account"); n != 1 {
			t.Errorf("the event's title shows %d times on the execution page, want once", n)
		}
		if n := strings.Count(pg.Body, `data-testid="input-is-execution-input"`); n != 1 {
			t.Errorf("%d tasks say their input is the execution's, want 1 (the first)", n)
		}
		if !strings.Contains(pg.Body, "&#34;marker&#34;: &#34;iss_once_0001&#34;") && !strings.Contains(pg.Body, `"marker": "iss_once_0001"`) {
			t.Errorf("the second task's own input (the first one's output) is not shown")
		}
	})
}

// TestIssueLinksItsAccount checks that an issue page's affected login links
// to that account in Identities, escaped as a query value.
func TestIssueLinksItsAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setupTestRun(t, st, false)
		seedIssues(t, b.w, 1)
		page, err := b.w.Issues.List(context.Background(), issue.Filter{Limit: 1})
		if err != nil || len(page.Issues) != 1 {
			t.Fatalf("issues: %+v, %v", page, err)
		}
		is := page.Issues[0]
		login := is.Data.AffectedEntity.IdentifierInService
		if login == "" {
			t.Fatal("the seeded issue has no login")
		}
		pg := get(t, b.builder, b.w.URL+"/ispm/issues/"+is.ID)
		want := `href="/ispm/identities?view=accounts&amp;q=` + url.QueryEscape(login) + `"`
		if !strings.Contains(pg.Body, want) {
			t.Errorf("the issue page does not link %q to Identities (%s): %.2000s", login, want, pg.Body)
		}
	})
}
