package flows

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/flows/engine"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

var peopleColumns = []catalog.Column{
	{Name: "Name", Type: catalog.ColText},
	{Name: "Age", Type: catalog.ColNumber},
	{Name: "Admin", Type: catalog.ColBoolean},
	{Name: "Seen", Type: catalog.ColDatetime},
}

var people = []map[string]any{
	{"Name": "Ada Lovelace", "Age": 36, "Admin": true, "Seen": "2026-01-02T03:04:05Z"},
	{"Name": "alan turing", "Age": "41", "Admin": false, "Seen": "2025-06-01"},
	{"Name": "Grace Hopper", "Age": 85.5, "Admin": "true"},
	{"Name": "Linus", "Admin": false, "Seen": "2026-03-01T00:00:00+02:00"},
	{"Name": "100% _odd_", "Age": 0},
}

// tableCase is one call of a tables function and what it must return:
// the names of the rows in order, or a count, or an error.
type tableCase struct {
	fn    string
	args  string // JSON object, without the table argument
	names string // for searchRows
	count string // for updateRows/deleteRows: "updated=N" or "deleted=N"
	err   string
}

var tableCases = []tableCase{
	{fn: "tables.searchRows", args: `{}`, names: "Ada Lovelace|alan turing|Grace Hopper|Linus|100% _odd_"},
	{fn: "tables.searchRows", args: `{"where": {"Name": "Linus"}}`, names: "Linus"},
	{fn: "tables.searchRows", args: `{"where": {"Admin": true}}`, names: "Ada Lovelace|Grace Hopper"},
	{fn: "tables.searchRows", args: `{"where": {"Age": 41}}`, names: "alan turing"},
	{fn: "tables.searchRows", args: `{"where": {"Age": null}}`, names: "Linus"},
	{fn: "tables.searchRows", args: `{"filter": [{"column": "Name", "op": "contains", "value": "A"}]}`, names: "Ada Lovelace|alan turing|Grace Hopper"},
	{fn: "tables.searchRows", args: `{"filter": [{"column": "Name", "op": "contains", "value": "%"}]}`, names: "100% _odd_"},
	{fn: "tables.searchRows", args: `{"filter": [{"column": "Name", "op": "contains", "value": "_o"}]}`, names: "100% _odd_"},
	{fn: "tables.searchRows", args: `{"filter": [{"column": "Age", "op": "gt", "value": 36}]}`, names: "alan turing|Grace Hopper"},
	{fn: "tables.searchRows", args: `{"filter": [{"column": "Age", "op": "lte", "value": "36"}]}`, names: "Ada Lovelace|100% _odd_"},
	{fn: "tables.searchRows", args: `{"filter": [{"column": "Age", "op": "ne", "value": 36}]}`, names: "alan turing|Grace Hopper|Linus|100% _odd_"},
	{fn: "tables.searchRows", args: `{"filter": [{"column": "Seen", "op": "gte", "value": "2026-01-01"}]}`, names: "Ada Lovelace|Linus"},
	{fn: "tables.searchRows", args: `{"filter": [{"column": "Seen", "op": "lt", "value": "2026-02-28T23:00:00Z"}]}`, names: "Ada Lovelace|alan turing|Linus"},
	{fn: "tables.searchRows", args: `{"where": {"Admin": false}, "filter": [{"column": "Seen", "op": "ne", "value": null}]}`, names: "alan turing|Linus"},
	{fn: "tables.searchRows", args: `{"sort": "Age"}`, names: "100% _odd_|Ada Lovelace|alan turing|Grace Hopper|Linus"},
	{fn: "tables.searchRows", args: `{"sort": "Age", "order": "desc"}`, names: "Grace Hopper|alan turing|Ada Lovelace|100% _odd_|Linus"},
	{fn: "tables.searchRows", args: `{"sort": "Name"}`, names: "100% _odd_|Ada Lovelace|Grace Hopper|Linus|alan turing"},
	{fn: "tables.searchRows", args: `{"sort": "Seen", "order": "desc", "limit": 2}`, names: "Linus|Ada Lovelace"},
	{fn: "tables.searchRows", args: `{"sort": "Admin", "offset": 3}`, names: "Grace Hopper|100% _odd_"},
	{fn: "tables.searchRows", args: `{"where": {"Nope": 1}}`, err: `has no column "Nope"`},
	{fn: "tables.searchRows", args: `{"filter": [{"column": "Age", "op": "contains", "value": "1"}]}`, err: "contains works on text columns only"},
	{fn: "tables.searchRows", args: `{"filter": [{"column": "Admin", "op": "gt", "value": true}]}`, err: "use eq or ne"},
	{fn: "tables.searchRows", args: `{"filter": [{"column": "Age", "op": "like", "value": 1}]}`, err: "filter[0].op: expected one of"},
	{fn: "tables.searchRows", args: `{"where": {"Age": "old"}}`, err: `column "Age": expected a number`},
	{fn: "tables.searchRows", args: `{"limit": 5000}`, err: "limit: expected a number from 1 to 1000"},
	{fn: "tables.searchRows", args: `{"sort": "Nope"}`, err: `cannot sort by "Nope"`},
	{fn: "tables.updateRows", args: `{"where": {"Name": "Linus"}, "set": {"Age": 55, "Seen": ""}}`, count: "updated=1"},
	{fn: "tables.searchRows", args: `{"where": {"Age": 55, "Seen": null}}`, names: "Linus"},
	{fn: "tables.updateRows", args: `{"set": {"Admin": true}}`, err: "all: true"},
	{fn: "tables.updateRows", args: `{"set": {"Admin": false}, "all": true}`, count: "updated=5"},
	{fn: "tables.updateRows", args: `{"where": {"Admin": false}, "set": {"Nope": 1}}`, err: `has no column "Nope"`},
	{fn: "tables.searchRows", args: `{"where": {"Admin": true}}`, names: ""},
	{fn: "tables.deleteRows", args: `{}`, err: "tables.clear deletes every row"},
	{fn: "tables.deleteRows", args: `{"filter": [{"column": "Name", "op": "contains", "value": "o"}]}`, count: "deleted=3"},
	{fn: "tables.searchRows", args: `{}`, names: "alan turing|Linus"},
	{fn: "tables.createRow", args: `{"row": {"Name": 5, "Age": "x"}}`, err: `column "Age": expected a number`},
	{fn: "tables.createRow", args: `{"row": {"Nope": 5}}`, err: `has no column "Nope"`},
	{fn: "tables.createRow", args: `{}`, err: "row: required"},
	{fn: "tables.clear", args: `{}`, count: "deleted=2"},
	{fn: "tables.searchRows", args: `{}`, names: ""},
}

// runTableCases plays tableCases against a catalog whose tables store
// has a People table (in folder) holding the people rows.
func runTableCases(t *testing.T, cat *catalog.Catalog, folder string) {
	t.Helper()
	ctx := context.Background()
	env := &engine.CallEnv{Folder: folder}
	var ids []string
	for _, p := range people {
		out, err := cat.Call(ctx, "tables.createRow", map[string]any{"table": "People", "row": p}, env)
		if err != nil {
			t.Fatalf("create row %v: %v", p, err)
		}
		row := out.(map[string]any)
		ids = append(ids, row[catalog.RowID].(string))
		if len(row) != len(peopleColumns)+3 {
			t.Errorf("created row %v lacks columns", row)
		}
	}
	got, err := cat.Call(ctx, "tables.getRow", map[string]any{"table": "People", "id": ids[0]}, env)
	if err != nil || got.(map[string]any)["Seen"] != "2026-01-02T03:04:05.000Z" || got.(map[string]any)["Admin"] != true {
		t.Errorf("getRow = %v, %v", got, err)
	}
	_, err = cat.Call(ctx, "tables.getRow", map[string]any{"table": "People", "id": "row_absent"}, env)
	var f *engine.Fault
	if !errors.As(err, &f) || f.Status != 404 {
		t.Errorf("getRow of a missing row: %v; want a 404 fault", err)
	}
	for i, c := range tableCases {
		args, err := engine.DecodeJSON([]byte(c.args))
		if err != nil {
			t.Fatal(err)
		}
		m := args.(map[string]any)
		m["table"] = "People"
		out, err := cat.Call(ctx, c.fn, m, env)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("case %d %s %s: error = %v; want %q", i, c.fn, c.args, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("case %d %s %s: %v", i, c.fn, c.args, err)
			continue
		}
		res := out.(map[string]any)
		if c.count != "" {
			k, _, _ := strings.Cut(c.count, "=")
			if got := fmt.Sprintf("%s=%v", k, res[k]); got != c.count {
				t.Errorf("case %d %s %s: %s; want %s", i, c.fn, c.args, got, c.count)
			}
			continue
		}
		var names []string
		for _, r := range res["rows"].([]any) {
			names = append(names, fmt.Sprint(r.(map[string]any)["Name"]))
		}
		if got := strings.Join(names, "|"); got != c.names || res["count"] != len(names) {
			t.Errorf("case %d %s %s:\n got %s\nwant %s", i, c.fn, c.args, got, c.names)
		}
	}
}

// TestTablesMemoryAndDatabaseAgree plays the same calls against the
// in-memory tables of standalone runs and the database on both dialects.
func TestTablesMemoryAndDatabaseAgree(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		mem := catalog.NewMemoryTables(nil)
		if err := mem.Create("f", "People", peopleColumns); err != nil {
			t.Fatal(err)
		}
		runTableCases(t, NewCatalog(mem), "f")
	})
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, Config{})
		if _, err := b.svc.CreateTable(b.ctx, b.folder.ID, TableParams{Name: "People", Columns: peopleColumns}); err != nil {
			t.Fatal(err)
		}
		runTableCases(t, b.svc.Catalog(), b.folder.ID)
	})
}

func TestTablesService(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, Config{})
		ctx := b.ctx
		if _, err := b.svc.CreateTable(ctx, b.folder.ID, TableParams{Name: "Log", Columns: []catalog.Column{{Name: "A", Type: "blob"}}}); !errors.Is(err, ErrInvalid) {
			t.Errorf("bad column type: %v", err)
		}
		if _, err := b.svc.CreateTable(ctx, b.folder.ID, TableParams{Name: "Log", Columns: []catalog.Column{{Name: "_id", Type: "text"}}}); !errors.Is(err, ErrInvalid) {
			t.Errorf("reserved column name: %v", err)
		}
		tbl, err := b.svc.CreateTable(ctx, b.folder.ID, TableParams{Name: "Log", Columns: []catalog.Column{
			{Name: "User", Type: catalog.ColText}, {Name: "Count", Type: catalog.ColNumber}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.CreateTable(ctx, b.folder.ID, TableParams{Name: "Log"}); !errors.Is(err, ErrExists) {
			t.Errorf("second table Log: %v", err)
		}
		// A flow writes rows; a missing table is a 404 fault.
		f := b.saveOn(t, flowDoc("log", "", `do:
  - each:
      for: {each: u, in: .users}
      do:
        - add:
            call: tables.createRow
            with: {table: Log, row: {User: '${ $u }', Count: 1}}
  - missing:
      try:
        - write: {call: tables.createRow, with: {table: Absent, row: {}}}
      catch:
        errors: {with: {status: 404}}
        as: e
        do:
          - keep: {set: {caught: '${ $e.title }'}}
`))
		e := b.run(t, f.ID, map[string]any{"users": []any{"=cmd()", "bob", "ann"}}, StartOptions{})
		if e.Status != StatusSucceeded || e.Output.(map[string]any)["caught"] != "Table not found" {
			t.Fatalf("execution = %+v %v", e, e.Error)
		}
		tables, err := b.svc.Tables(ctx, b.folder.ID)
		if err != nil || len(tables) != 1 || tables[0].Rows != 3 {
			t.Fatalf("tables = %+v, %v", tables, err)
		}
		rows, err := b.svc.TableRows(ctx, tbl.ID, catalog.Query{Sort: "User"})
		if err != nil || len(rows) != 3 || rows[0]["User"] != "=cmd()" {
			t.Fatalf("rows = %v, %v", rows, err)
		}
		var buf bytes.Buffer
		if err := b.svc.WriteTableCSV(ctx, &buf, tbl.ID); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if len(lines) != 4 || lines[0] != "User,Count,_id,_createdAt,_updatedAt" || !strings.HasPrefix(lines[1], "'=cmd(),1,row_") {
			t.Errorf("CSV =\n%s", buf.String())
		}
		if _, err := b.svc.UpdateTable(ctx, tbl.ID, TableParams{Name: "Log2", Columns: tbl.Columns}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.Table(ctx, b.folder.ID, "Log2"); err != nil {
			t.Errorf("renamed table: %v", err)
		}
		if err := b.svc.DeleteTable(ctx, tbl.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := b.svc.Table(ctx, b.folder.ID, tbl.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleted table: %v", err)
		}
	})
}
