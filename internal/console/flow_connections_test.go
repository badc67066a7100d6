package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/connection"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// callsFlow acts through two Okta calls and one Slack call, each naming
// its connection as a template would.
const callsFlow = `document:
  dsl: '1.0.0'
  namespace: tests
  name: calls
  version: '1.0.0'
  title: Calls
do:
  # Suspend first, then clear the sessions.
  - suspend:
      call: okta.suspendUser
      with:
        connection: Okta
        user: '${ .body.user }'
  - clear:
      call: okta.clearUserSessions
      with:
        connection: Okta
        user: '${ .body.user }'
  - tell:
      call: slack.postMessage
      with:
        connection: Slack
        channel: '#security'
        text: done
`

// TestPickConnectionsOfAFlow picks, on the flow page over the real
// services on both databases, another saved Okta connection for a flow
// whose calls name "Okta": the picker offers the Okta connections only,
// the flow is saved as a new version whose Okta calls name the chosen
// connection and whose Slack call and comment are untouched, and a name
// that is not a saved connection of that type changes nothing.
func TestPickConnectionsOfAFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		b := setupTestRun(t, st, false)
		f := b.flow(t, callsFlow)
		for _, in := range []connection.Input{
			{Name: "Okta", Kind: "okta", DryRun: true, Fields: map[string]string{"url": "https://127.0.0.1", "token": "00first"}},
			{Name: "Okta prod", Kind: "okta", DryRun: true, Fields: map[string]string{"url": "https://127.0.0.2", "token": "00second"}},
			{Name: "Slack", Kind: "slack", DryRun: true, Fields: map[string]string{"token": "xoxb-dry-run"}},
		} {
			if _, err := b.w.Connections.Create(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		page := get(t, b.builder, b.w.URL+"/workflows/flows/"+f.ID).Body
		for _, want := range []string{`data-testid="connection-picker"`, `action="/workflows/flows/` + f.ID + `/connections"`,
			`<input type="hidden" name="kind" value="okta">`, `<option selected>Okta</option><option>Okta prod</option>`} {
			if !strings.Contains(page, want) {
				t.Errorf("the flow page's picker lacks %s", want)
			}
		}
		if strings.Contains(page, `<option>Slack</option><option>Okta`) || strings.Contains(page, `<option selected>Okta</option><option>Okta prod</option><option>Slack`) {
			t.Error("the Okta picker offers the Slack connection")
		}

		refused := []url.Values{
			{"kind": {"okta"}, "from": {"Okta"}, "to": {"Nope"}},
			{"kind": {"okta"}, "from": {"Okta"}, "to": {"Slack"}},
		}
		for _, form := range refused {
			pg := post(t, b.builder, b.w.URL+"/workflows/flows/"+f.ID+"/connections", form)
			if pg.Status != http.StatusSeeOther {
				t.Fatalf("refused pick: %d", pg.Status)
			}
			if msg := flashOf(get(t, b.builder, b.w.URL+pg.Location).Body); !strings.Contains(msg, "There is no okta connection named") {
				t.Errorf("refused pick %v says %q", form, msg)
			}
		}
		if cur, _ := b.w.Flows.Flow(ctx, f.ID); cur.Version != f.Version {
			t.Fatalf("a refused pick saved version %d", cur.Version)
		}

		pg := post(t, b.builder, b.w.URL+"/workflows/flows/"+f.ID+"/connections", url.Values{"kind": {"okta"}, "from": {"Okta"}, "to": {"Okta prod"}})
		if pg.Status != http.StatusSeeOther || pg.Location != "/workflows/flows/"+f.ID {
			t.Fatalf("pick: %d to %q", pg.Status, pg.Location)
		}
		if msg := flashOf(get(t, b.builder, b.w.URL+pg.Location).Body); !strings.Contains(msg, "2 calls now use Okta prod") {
			t.Errorf("pick says %q", msg)
		}
		cur, err := b.w.Flows.Flow(ctx, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		v, err := b.w.Flows.Version(ctx, f.ID, cur.Version)
		if err != nil {
			t.Fatal(err)
		}
		doc := v.Document
		if cur.Version != f.Version+1 || strings.Count(doc, "connection: Okta prod") != 2 || strings.Contains(doc, "connection: Okta\n") ||
			!strings.Contains(doc, "connection: Slack") || !strings.Contains(doc, "# Suspend first, then clear the sessions.") {
			t.Errorf("version %d after the pick:\n%s", cur.Version, doc)
		}
		if pg := post(t, b.w.Client(t, auth.RoleIssueResponder), b.w.URL+"/workflows/flows/"+f.ID+"/connections",
			url.Values{"kind": {"okta"}, "from": {"Okta prod"}, "to": {"Okta"}}); pg.Status != http.StatusForbidden {
			t.Errorf("a responder's pick: %d", pg.Status)
		}
	})
}
