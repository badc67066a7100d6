package builder_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/flows/builder"
	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
)

const start = `document:
  dsl: '1.0.0'
  namespace: tests
  name: start
  version: '1.0.0'
do:
  # The first card.
  - first:
      set:
        a: 1
  - second:
      try:
        - inner:
            set: {b: '${ .a }'}
      catch:
        as: error
`

// testCatalog declares slack.postMessage as the connectors do.
func testCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	cat := catalog.New()
	run := func(context.Context, map[string]any, *engine.CallEnv) (any, error) { return nil, nil }
	cat.MustRegister("slack.postMessage", catalog.Function{Summary: "Posts a message.", Connector: "slack", Run: run, Args: []catalog.Arg{
		{Name: "connection", Type: catalog.String, Required: true}, {Name: "channel", Type: catalog.String},
		{Name: "text", Type: catalog.String, Required: true}, {Name: "blocks", Type: catalog.Array}}})
	cat.MustRegister("tables.createRow", catalog.Function{Summary: "Adds a row.", Run: run, Args: []catalog.Arg{
		{Name: "table", Type: catalog.String, Required: true}, {Name: "row", Type: catalog.Object, Required: true}}})
	return cat
}

// TestApply runs each button of the builder form on the start document and
// compares the document Save would write.
func TestApply(t *testing.T) {
	cat := testCatalog(t)
	tests := []struct {
		name string
		ops  []string
		form url.Values
		want string // the do list after the ops, as YAML
		err  string
	}{
		{name: "add a Slack card at the end", ops: []string{"add:c"}, form: url.Values{"pick:c": {"fn:slack.postMessage"}},
			want: "- first: {set: {a: 1}}\n- second: {try: [{inner: {set: {b: '${ .a }'}}}], catch: {as: error}}\n" +
				"- postMessage: {call: slack.postMessage, with: {connection: Slack, channel: '', text: ''}}"},
		{name: "add a card in a try block", ops: []string{"add:c.1.d"}, form: url.Values{"pick:c.1.d": {"set"}},
			want: "- first: {set: {a: 1}}\n- second: {try: [{inner: {set: {b: '${ .a }'}}}, {setValues: {set: {}}}], catch: {as: error}}"},
		{name: "add a card to the catch block", ops: []string{"add:c.1.k"}, form: url.Values{"pick:c.1.k": {"raise"}},
			want: "- first: {set: {a: 1}}\n- second: {try: [{inner: {set: {b: '${ .a }'}}}], catch: {as: error, do: [{fail: {raise: {error: " +
				"{type: 'https://serverlessworkflow.io/spec/1.0.0/errors/runtime', status: 400, title: ''}}}}]}}"},
		{name: "an approval", ops: []string{"add:c"}, form: url.Values{"pick:c": {"approval"}},
			want: "- first: {set: {a: 1}}\n- second: {try: [{inner: {set: {b: '${ .a }'}}}], catch: {as: error}}\n" +
				"- approval: {call: approval.request, with: {message: '', approvers: [super_admin, workflows_admin], expiresAfter: P1D}}"},
		{name: "names stay unique", ops: []string{"add:c", "add:c"}, form: url.Values{"pick:c": {"wait"}},
			want: "- first: {set: {a: 1}}\n- second: {try: [{inner: {set: {b: '${ .a }'}}}], catch: {as: error}}\n" +
				"- wait: {wait: {seconds: 30}}\n- wait2: {wait: {seconds: 30}}"},
		{name: "move down then remove", ops: []string{"down:c.0", "del:c.0"},
			want: "- first: {set: {a: 1}}"},
		{name: "move the first card up does nothing", ops: []string{"up:c.0"},
			want: "- first: {set: {a: 1}}\n- second: {try: [{inner: {set: {b: '${ .a }'}}}], catch: {as: error}}"},
		{name: "add and remove fields", ops: []string{"addf:c.0.v", "delf:c.0.v.f.0"}, form: url.Values{"key:c.0.v": {"note"}},
			want: "- first: {set: {note: ''}}\n- second: {try: [{inner: {set: {b: '${ .a }'}}}], catch: {as: error}}"},
		{name: "add an output to a nested card", ops: []string{"addf:c.1.d.0.m"}, form: url.Values{"key:c.1.d.0.m": {"output"}},
			want: "- first: {set: {a: 1}}\n- second: {try: [{inner: {set: {b: '${ .a }'}, output: {as: '${ . }'}}}], catch: {as: error}}"},
		{name: "add a retry", ops: []string{"addf:c.1.cm"}, form: url.Values{"key:c.1.cm": {"retry"}},
			want: "- first: {set: {a: 1}}\n- second: {try: [{inner: {set: {b: '${ .a }'}}}], catch: {retry: {}, as: error}}"},
		{name: "a field twice", ops: []string{"addf:c.0.v"}, form: url.Values{"key:c.0.v": {"a"}}, err: "the field a is there already"},
		{name: "a card that is gone", ops: []string{"del:c.7"}, err: "no longer there"},
		{name: "nothing picked", ops: []string{"add:c"}, err: "choose a card to add"},
		{name: "an unknown button", ops: []string{"explode:c.0"}, err: "does not know that button"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := builder.Decode([]byte(start))
			if err != nil {
				t.Fatal(err)
			}
			cards := f.Cards
			for _, op := range tt.ops {
				cards = builder.Cards(builder.Values(cards))
				if cards, err = builder.Apply(cards, op, tt.form, cat); err != nil {
					break
				}
			}
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			f.Attach(cards)
			out, err := f.Encode()
			if err != nil {
				t.Fatal(err)
			}
			want := "document: {dsl: '1.0.0', namespace: tests, name: start, version: '1.0.0'}\ndo:\n" + indent(tt.want)
			if eq, err := builder.Equal([]byte(want), out); err != nil || !eq {
				t.Errorf("got (%v):\n%s\nwant:\n%s", err, out, want)
			}
			if !strings.Contains(string(out), "# The first card.") && strings.Contains(tt.want, "- first:") {
				t.Errorf("the comment of the unchanged first card was lost:\n%s", out)
			}
		})
	}
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ") + "\n"
}

// TestFunctionChange: a call card given another function keeps the values
// typed for arguments of the same name and gets the new one's required
// ones; an argument the new function lacks stays, for the user to see.
func TestFunctionChange(t *testing.T) {
	cat := testCatalog(t)
	c := builder.NewCard("fn:slack.postMessage", cat, nil)
	c.Value.Field("text").Text = "hello"
	c.Function = "tables.createRow"
	got := builder.Args(c.Function, cat, c.Value)
	var keys []string
	for _, f := range got.Fields {
		keys = append(keys, f.Key)
	}
	if strings.Join(keys, ",") != "table,row,connection,channel,text" || got.Field("text").Text != "hello" || got.Field("row").Type != builder.Object {
		t.Errorf("arguments after the change: %v %+v", keys, got)
	}
}

// TestPicks lists paths a picker offers, quoting keys jq cannot take bare.
func TestPicks(t *testing.T) {
	v := map[string]any{"body": map[string]any{"title": "Unused Admin Account", "Risk and Impact": "x", "list": []any{map[string]any{"id": 1.0}}}}
	var got []string
	for _, p := range builder.Picks("$workflow.input", v, 100) {
		got = append(got, p.Expr+"="+p.Sample+"|"+p.Label)
	}
	want := []string{
		"$workflow.input.body={…}|.body",
		`$workflow.input.body["Risk and Impact"]="x"|.body["Risk and Impact"]`,
		"$workflow.input.body.list=[1 items]|.body.list",
		"$workflow.input.body.list[0]={…}|.body.list[0]",
		"$workflow.input.body.list[0].id=1|.body.list[0].id",
		`$workflow.input.body.title="Unused Admin Account"|.body.title`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("picks:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := len(builder.Picks(".", v, 2)); n != 2 {
		t.Errorf("a limit of 2 gave %d picks", n)
	}
}

// TestReferences: a card's steps are found under the engine's JSON pointer.
func TestReferences(t *testing.T) {
	f, err := builder.Decode([]byte(start))
	if err != nil {
		t.Fatal(err)
	}
	refs := builder.References(f.Cards)
	if got := refs[f.Cards[1].Do[0]]; got != "/do/1/second/try/0/inner" {
		t.Errorf("the try's card is %q", got)
	}
}

// TestDecodeErrors: what is not a workflow document is an error, not cards.
func TestDecodeErrors(t *testing.T) {
	for _, doc := range []string{"- a\n- b\n", "a: [", ""} {
		if _, err := builder.Decode([]byte(doc)); err == nil {
			t.Errorf("%q decoded", doc)
		}
	}
	f, err := builder.Decode([]byte("document: {dsl: '1.0.0'}\ndo:\n  - x: {set: {a: &anchor 1}}\n  - y: {set: {b: *anchor}}\n"))
	if err != nil || len(f.Unsupported) != 2 || !strings.Contains(f.Unsupported[0], "anchor") {
		t.Errorf("anchors: %v %v", err, f.Unsupported)
	}
}
