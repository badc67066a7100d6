package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/console"
	"github.com/vigil-ispm/vigil/internal/flows/builder"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// loopFlow has a for task, which the builder has no card for.
const loopFlow = `document:
  dsl: '1.0.0'
  namespace: tests
  name: loop
  version: '1.0.0'
  title: Loop
do:
  - each:
      for: {each: item, in: '${ .items }'}
      do:
        - note:
            set: {seen: '${ $item }'}
`

// builderForm is the builder's form for doc's cards after change, as a
// browser posts it, with the button op.
func builderForm(t *testing.T, doc string, op string, change func([]*builder.Card) []*builder.Card) url.Values {
	t.Helper()
	f, err := builder.Decode([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	vals := builder.Values(change(f.Cards))
	// Browsers post line ends as CRLF.
	vals.Set("base", strings.ReplaceAll(doc, "\n", "\r\n"))
	vals.Set("op", op)
	return vals
}

// TestFlowBuilderOverRealServices checks the card builder's pages on both
// databases: the cards and the sample event show; a button other than Save
// changes the cards on the page only; Save writes the cards into the
// document as a new version; a document that does not validate, or a
// builder opened on an older version, saves nothing; a flow with a task the
// builder has no card for opens read-only; roles that may not manage flows
// cannot post.
func TestFlowBuilderOverRealServices(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setupTestRun(t, st, true)
		ctx := context.Background()
		f := b.flow(t, greetFlow)
		u := b.w.URL + "/workflows/flows/" + f.ID + "/builder"

		pg := get(t, b.builder, u)
		for _, s := range []string{`name="c.0.name" value="greet"`, `name="c.0.v.f.0.k" value="greeting"`, `Unused Admin Account`,
			`data-expr="$workflow.input.eventData.title"`, `id="test-dry-run" name="dry_run" checked`, `value="fn:slack.postMessage"`} {
			if !strings.Contains(pg.Body, s) {
				t.Errorf("the builder page lacks %s", s)
			}
		}

		// Add a Slack card: shown, not saved.
		add := builderForm(t, greetFlow, "add:c", func(c []*builder.Card) []*builder.Card { return c })
		add.Set("pick:c", "fn:slack.postMessage")
		pg = post(t, b.builder, u, add)
		if pg.Status != http.StatusOK || !strings.Contains(pg.Body, `name="c.1.name" value="postMessage"`) ||
			!strings.Contains(pg.Body, `name="c.1.v.f.0.x" value="Slack"`) || !strings.Contains(pg.Body, "changes not saved yet") {
			t.Fatalf("Add card: status %d, want the page with the new card: %.3000s", pg.Status, pg.Body)
		}
		if got, _ := b.w.Flows.Flow(ctx, f.ID); got.Version != 1 {
			t.Fatalf("Add card saved version %d", got.Version)
		}

		// Save a changed card.
		save := builderForm(t, greetFlow, "save", func(c []*builder.Card) []*builder.Card {
			c[0].Value.Fields[0].Value.Text = "${ \"hi \" + .name }"
			c[0].Value.Fields = append(c[0].Value.Fields, builder.Field{Key: "count", Value: builder.Value{Type: builder.JSON, Text: "2"}})
			return c
		})
		pg = post(t, b.builder, u, save)
		if pg.Status != http.StatusSeeOther || pg.Location != "/workflows/flows/"+f.ID+"/builder" {
			t.Fatalf("Save: status %d to %q: %.3000s", pg.Status, pg.Location, pg.Body)
		}
		got, err := console.FlowService{Service: b.w.Flows}.Flow(ctx, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := strings.Replace(greetFlow, `greeting: '${ "hello " + .name }'`, "greeting: '${ \"hi \" + .name }'\n        count: 2", 1)
		if eq, err := builder.Equal([]byte(want), got.Document); err != nil || !eq || got.Version != 2 {
			t.Fatalf("saved version %d (%v):\n%s\nwant:\n%s", got.Version, err, got.Document, want)
		}

		// The form of version 1 no longer saves.
		pg = post(t, b.builder, u, save)
		if pg.Status != http.StatusConflict || !strings.Contains(pg.Body, "saved elsewhere (now version 2)") {
			t.Errorf("Save over a newer version: status %d: %.2000s", pg.Status, pg.Body)
		}

		// A card calling a function that does not exist saves nothing.
		bad := builderForm(t, string(got.Document), "save", func(c []*builder.Card) []*builder.Card {
			return append(c, &builder.Card{Kind: builder.KindCall, Name: "nope", Function: "nope.nothing", Value: builder.ObjectValue()})
		})
		pg = post(t, b.builder, u, bad)
		if pg.Status != http.StatusUnprocessableEntity || !strings.Contains(pg.Body, "nope.nothing is not in the catalog") ||
			!strings.Contains(pg.Body, `name="c.1.name" value="nope"`) {
			t.Errorf("Save of an unknown function: status %d, want 422 with the problem and the cards kept: %.3000s", pg.Status, pg.Body)
		}
		if after, _ := b.w.Flows.Flow(ctx, f.ID); after.Version != 2 {
			t.Errorf("a refused save made version %d", after.Version)
		}

		// A flow with a for loop opens read-only and cannot be saved here.
		loop := b.flow(t, loopFlow)
		lu := b.w.URL + "/workflows/flows/" + loop.ID + "/builder"
		pg = get(t, b.builder, lu)
		if !strings.Contains(pg.Body, `data-testid="builder-readonly"`) || !strings.Contains(pg.Body, "do[0].each: is a for loop") ||
			strings.Contains(pg.Body, `id="builder-form"`) {
			t.Errorf("a flow with a for loop: want the read-only note and no form: %.3000s", pg.Body)
		}
		pg = post(t, b.builder, lu, url.Values{"base": {loopFlow}, "op": {"save"}})
		if pg.Status != http.StatusSeeOther {
			t.Errorf("Save of a read-only flow: status %d", pg.Status)
		}
		if after, _ := b.w.Flows.Flow(ctx, loop.ID); after.Version != 1 {
			t.Errorf("Save of a read-only flow made version %d", after.Version)
		}

		// The YAML editor's Edit in builder link.
		if pg := get(t, b.builder, b.w.URL+"/workflows/flows/"+f.ID); !strings.Contains(pg.Body, `href="/workflows/flows/`+f.ID+`/builder"`) {
			t.Error("the flow page has no link to the builder")
		}
		for _, role := range []auth.Role{auth.RoleIssueViewer, auth.RoleIssueResponder} {
			if pg := post(t, b.w.Client(t, role), u, save); pg.Status != http.StatusForbidden {
				t.Errorf("%s: Save status %d, want 403", role, pg.Status)
			}
		}
	})
}

// switchFlow routes by severity; its first card is a switch.
const switchFlow = `document:
  dsl: '1.0.0'
  namespace: tests
  name: route
  version: '1.0.0'
  title: Route
do:
  - decide:
      switch:
        - high:
            when: .eventData.severity == "High"
            then: shout
        - other:
            then: end
  - shout:
      set:
        title: '${ $workflow.input.eventData.title | ascii_upcase }'
  - post:
      call: execution.setResult
      with: {result: '${ .title }'}
`

// TestTestCardOverRealServices checks Test this card on both databases:
// a switch says which branch the sample event takes, a set card computes
// its output from the flow's input, a call card is refused with the
// reason, and nothing is saved or started.
func TestTestCardOverRealServices(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setupTestRun(t, st, true)
		f := b.flow(t, switchFlow)
		u := b.w.URL + "/workflows/flows/" + f.ID + "/builder"
		same := func(c []*builder.Card) []*builder.Card { return c }
		for _, tc := range []struct{ card, want string }{
			{"c.0", `&#34;case&#34;: &#34;high&#34;`},
			{"c.1", `&#34;title&#34;: &#34;UNUSED ADMIN ACCOUNT&#34;`},
			{"c.2", "Only cards that compute values"},
		} {
			pg := post(t, b.builder, u, builderForm(t, switchFlow, "testcard:"+tc.card, same))
			if pg.Status != http.StatusOK || !strings.Contains(pg.Body, `data-testid="cardtest-result"`) || !strings.Contains(pg.Body, tc.want) {
				t.Errorf("Test card %s: status %d, want the result with %s: %.4000s", tc.card, pg.Status, tc.want, pg.Body)
			}
		}
		if got, _ := b.w.Flows.Flow(context.Background(), f.ID); got.Version != 1 {
			t.Errorf("testing cards saved version %d", got.Version)
		}
		if n := b.executions(t, f.ID); n != 0 {
			t.Errorf("testing cards started %d executions", n)
		}
	})
}
