package catalog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
)

func noop(context.Context, map[string]any, *engine.CallEnv) (any, error) { return "ran", nil }

func TestRegister(t *testing.T) {
	c := New()
	cases := []struct {
		name string
		fn   Function
		want string
	}{
		{"okta.suspendUser", Function{Run: noop}, ""},
		{"okta.suspendUser", Function{Run: noop}, "already registered"},
		{"suspend", Function{Run: noop}, "dotted identifiers"},
		{"okta.suspend-user", Function{Run: noop}, "dotted identifiers"},
		{"okta.none", Function{}, "has no Run"},
		{"okta.twice", Function{Run: noop, Args: []Arg{{Name: "a", Type: String}, {Name: "a", Type: Number}}}, "declared twice"},
		{"okta.badType", Function{Run: noop, Args: []Arg{{Name: "a", Type: "date"}}}, `unknown type "date"`},
		{"okta.nested", Function{Run: noop, Args: []Arg{{Name: "a", Type: Object, Fields: []Arg{{Name: "b"}}}}}, `a.b has unknown type`},
		{"okta.noConn", Function{Run: noop, Connector: "okta"}, `declares no "connection" argument`},
	}
	for _, tc := range cases {
		err := c.Register(tc.name, tc.fn)
		if tc.want == "" {
			if err != nil {
				t.Errorf("Register(%s): %v", tc.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Register(%s) = %v; want %q", tc.name, err, tc.want)
		}
	}
	if err := c.Register("okta.suspendUser", Function{Run: noop}); !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate: %v; want ErrDuplicate", err)
	}
	if got := fmt.Sprint(c.Names()); got != "[okta.suspendUser]" {
		t.Errorf("names = %s", got)
	}
	if !c.Lookup("okta.suspendUser") || c.Lookup("okta.other") {
		t.Error("Lookup is wrong")
	}
}

var userArgs = []Arg{
	{Name: "connection", Type: String, Required: true},
	{Name: "userId", Type: String, Required: true},
	{Name: "notify", Type: Boolean},
	{Name: "count", Type: Integer, Check: func(v any) string {
		if n, _ := number(v); n > 10 {
			return "at most 10"
		}
		return ""
	}},
	{Name: "ratio", Type: Number},
	{Name: "mode", Type: String, Enum: []string{"soft", "hard"}},
	{Name: "profile", Type: Object, Fields: []Arg{{Name: "login", Type: String, Required: true}}, Open: true},
	{Name: "strict", Type: Object, Fields: []Arg{{Name: "a", Type: Number}}},
	{Name: "groups", Type: Array, Items: &Arg{Name: "group", Type: String, Required: true}},
	{Name: "extra", Type: Any},
}

func TestArguments(t *testing.T) {
	c := New()
	c.MustRegister("okta.update", Function{Connector: "okta", Args: userArgs, Run: noop})
	cases := []struct {
		args string
		want string // "" for valid
	}{
		{`{"connection": "Okta", "userId": "00u1"}`, ""},
		{`{"connection": "Okta", "userId": "00u1", "notify": true, "count": 3, "ratio": 0.5, "mode": "soft",
			"profile": {"login": "a", "other": 1}, "strict": {"a": 1}, "groups": ["g1"], "extra": [1, {"x": null}]}`, ""},
		{`{"connection": "Okta"}`, "userId: required"},
		{`{"connection": "Okta", "userId": 5}`, "userId: expected string, got number"},
		{`{"connection": "Okta", "userId": "u", "notify": "yes"}`, "notify: expected boolean, got string"},
		{`{"connection": "Okta", "userId": "u", "count": 1.5}`, "count: expected integer"},
		{`{"connection": "Okta", "userId": "u", "count": 11}`, "count: at most 10"},
		{`{"connection": "Okta", "userId": "u", "mode": "medium"}`, `mode: expected one of soft, hard, got "medium"`},
		{`{"connection": "Okta", "userId": "u", "profile": {}}`, "profile.login: required"},
		{`{"connection": "Okta", "userId": "u", "strict": {"b": 1}}`, "strict.b: unknown argument; expected one of a"},
		{`{"connection": "Okta", "userId": "u", "groups": ["a", 2]}`, "groups[1]: expected string, got number"},
		{`{"connection": "Okta", "userId": "u", "groups": [null]}`, "groups[0]: required"},
		{`{"connection": "Okta", "userId": "u", "userID": "x"}`, "userID: unknown argument; expected one of connection, userId,"},
	}
	for _, tc := range cases {
		v, err := engine.DecodeJSON([]byte(tc.args))
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.Call(context.Background(), "okta.update", v.(map[string]any), nil)
		if tc.want == "" {
			if err != nil || out != "ran" {
				t.Errorf("Call(%s) = %v, %v", tc.args, out, err)
			}
			continue
		}
		var f *engine.Fault
		if !errors.As(err, &f) || f.Type != engine.ErrValidation || f.Status != 400 || !strings.Contains(f.Detail, tc.want) {
			t.Errorf("Call(%s) error = %v; want a validation fault with %q", tc.args, err, tc.want)
		}
	}
	if _, err := c.Call(context.Background(), "okta.absent", nil, nil); err == nil || !strings.Contains(err.Error(), "not in the catalog") {
		t.Errorf("unknown function: %v", err)
	}
}

// TestCheckArgsSkipsExpressions checks a call as written in a flow: values
// that are runtime expressions are not known yet.
func TestCheckArgsSkipsExpressions(t *testing.T) {
	c := New()
	c.MustRegister("okta.update", Function{Connector: "okta", Args: userArgs, Run: noop})
	w, err := dsl.Parse([]byte(`document: {dsl: '1.0.0', namespace: t, name: t, version: '1.0.0'}
do:
  - a:
      call: okta.update
      with:
        connection: Okta
        userId: '${ .id }'
        count: '${ .n }'
        profile: {login: '${ .login }'}
        groups: ['${ .g }', 7]
        mode: wrong
`))
	if err != nil {
		t.Fatal(err)
	}
	args := w.Do[0].Task.Call.With.Value.(map[string]any)
	var got []string
	for _, p := range c.CheckArgs("okta.update", args) {
		got = append(got, p.Arg+": "+p.Msg)
	}
	want := `[mode: expected one of soft, hard, got "wrong" groups[1]: expected string, got number]`
	if fmt.Sprint(got) != want {
		t.Errorf("problems = %v\nwant %s", got, want)
	}
	if c.CheckArgs("okta.absent", args) != nil {
		t.Error("problems for an unknown function")
	}
}

func TestCells(t *testing.T) {
	cases := []struct {
		typ  ColumnType
		in   any
		want any
		err  string
	}{
		{ColText, "a", "a", ""},
		{ColText, 3, "3", ""},
		{ColText, 2.5, "2.5", ""},
		{ColText, true, "true", ""},
		{ColText, "", nil, ""},
		{ColText, strings.Repeat("x", MaxTextLength+1), nil, "longer than"},
		{ColText, map[string]any{}, nil, "expected text, got object"},
		{ColNumber, 3, 3.0, ""},
		{ColNumber, " 4.5 ", 4.5, ""},
		{ColNumber, "4x", nil, `expected a number, got "4x"`},
		{ColNumber, "NaN", nil, "expected a number"},
		{ColNumber, true, nil, "expected a number, got boolean"},
		{ColBoolean, "TRUE", true, ""},
		{ColBoolean, false, false, ""},
		{ColBoolean, "yes", nil, `expected true or false, got "yes"`},
		{ColDatetime, "2026-11-28T10:00:00+01:00", "2026-11-28T09:00:00.000Z", ""},
		{ColDatetime, "2026-11-28", "2026-11-28T00:00:00.000Z", ""},
		{ColDatetime, "yesterday", nil, "expected a date and time"},
		{ColDatetime, nil, nil, ""},
	}
	for _, c := range cases {
		got, err := Cell(c.typ, c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Cell(%s, %v) error = %v; want %q", c.typ, c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("Cell(%s, %v) = %v, %v; want %v", c.typ, c.in, got, err, c.want)
		}
	}
}

func TestLooseMemoryTables(t *testing.T) {
	ctx := context.Background()
	mem := NewMemoryTables(nil)
	c := New()
	if err := RegisterTables(c, mem); err != nil {
		t.Fatal(err)
	}
	call := func(fn string, args map[string]any) (map[string]any, error) {
		args["table"] = "Log"
		out, err := c.Call(ctx, fn, args, &engine.CallEnv{Folder: "f"})
		m, _ := out.(map[string]any)
		return m, err
	}
	// A table nobody created: searching finds nothing, writing creates
	// columns typed by their first value.
	if res, err := call("tables.searchRows", map[string]any{"where": map[string]any{"User": "a"}}); err != nil || res["count"] != 0 {
		t.Fatalf("search of a new table = %v, %v", res, err)
	}
	if _, err := call("tables.createRow", map[string]any{"row": map[string]any{"User": "a", "N": 1, "Ok": true, "Gone": nil}}); err != nil {
		t.Fatal(err)
	}
	if _, err := call("tables.createRow", map[string]any{"row": map[string]any{"User": "b", "N": "x"}}); err == nil || !strings.Contains(err.Error(), `column "N": expected a number`) {
		t.Errorf("second row with a text N: %v", err)
	}
	if _, err := call("tables.updateRows", map[string]any{"all": true, "set": map[string]any{"New": 1}}); err == nil {
		t.Error("update of a column no row has was accepted")
	}
	rows := mem.Rows("f", "Log")
	if len(rows) != 1 || rows[0]["User"] != "a" || rows[0]["N"] != 1.0 || rows[0]["Ok"] != true {
		t.Errorf("rows = %v", rows)
	}
	if _, ok := rows[0]["Gone"]; ok {
		t.Errorf("a null value made a column: %v", rows[0])
	}
}

func TestRowIDsSortByCreation(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	next := NewRowIDs(func() time.Time { return now })
	prev := next()
	for range 1000 {
		id := next()
		if id <= prev {
			t.Fatalf("%s after %s", id, prev)
		}
		prev = id
	}
	if got := increment("row_0000000000000000000000000Z"); got != "row_00000000000000000000000010" {
		t.Errorf("increment carries to %s", got)
	}
}

func TestWriteCSV(t *testing.T) {
	tbl := &Table{Name: "T", Columns: []Column{{Name: "Text", Type: ColText}, {Name: "N", Type: ColNumber}, {Name: "B", Type: ColBoolean}}}
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	rows := []*Row{
		{ID: "row_1", Created: at, Updated: at, Values: map[string]any{"Text": "=HYPERLINK(\"x\")", "N": -2.5, "B": true}},
		{ID: "row_2", Created: at, Updated: at, Values: map[string]any{"Text": "a,b"}},
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, tbl, rows); err != nil {
		t.Fatal(err)
	}
	want := "Text,N,B,_id,_createdAt,_updatedAt\n" +
		"\"'=HYPERLINK(\"\"x\"\")\",-2.5,true,row_1,2026-11-28T10:00:00.000Z,2026-11-28T10:00:00.000Z\n" +
		"\"a,b\",,,row_2,2026-11-28T10:00:00.000Z,2026-11-28T10:00:00.000Z\n"
	if buf.String() != want {
		t.Errorf("CSV =\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestSetResult(t *testing.T) {
	c := New()
	if err := RegisterExecution(c); err != nil {
		t.Fatal(err)
	}
	out, err := c.Call(context.Background(), "execution.setResult", map[string]any{"result": "no matching route"}, nil)
	if err != nil || out.(map[string]any)["result"] != "no matching route" {
		t.Errorf("setResult = %v, %v", out, err)
	}
	_, err = c.Call(context.Background(), "execution.setResult", map[string]any{"result": strings.Repeat("x", MaxResultLength+1)}, nil)
	if err == nil || !strings.Contains(err.Error(), "longer than 200 characters") {
		t.Errorf("long result: %v", err)
	}
}
