package catalog

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"unicode/utf8"

	"github.com/vigil-ispm/vigil/internal/flows/engine"
)

// Arguments shared by the tables functions.
var (
	argTable = Arg{Name: "table", Type: String, Required: true, Summary: "The table's name, in the flow's folder."}
	argWhere = Arg{Name: "where", Type: Object, Summary: "Column values rows must equal: {Username: ali@example.com}. " +
		"A null value selects rows whose cell is empty; _id selects a row by id."}
	argFilter = Arg{Name: "filter", Type: Array, Summary: "Further conditions, all of which must hold.",
		Items: &Arg{Name: "condition", Type: Object, Required: true, Fields: []Arg{
			{Name: "column", Type: String, Required: true, Summary: "A column name, or _id."},
			{Name: "op", Type: String, Required: true, Enum: []string{OpEq, OpNe, OpContains, OpGt, OpGte, OpLt, OpLte},
				Summary: "eq, ne, contains (text, case-insensitive), gt, gte, lt or lte."},
			{Name: "value", Type: Any, Summary: "The value to compare with; null with eq or ne tests for an empty cell."},
		}}}
	argID = Arg{Name: "id", Type: String, Summary: "A row id (_id), to select one row."}
)

// RegisterTables adds the tables functions to c, working on s:
// tables.createRow, tables.getRow, tables.searchRows, tables.updateRows,
// tables.deleteRows and tables.clear.
func RegisterTables(c *Catalog, s Store) error {
	t := &tablesFuncs{s: s}
	funcs := map[string]Function{
		"tables.createRow": {
			Summary: "Adds a row to a table.",
			Args: []Arg{argTable, {Name: "row", Type: Object, Required: true,
				Summary: "The row's cells by column name; values are converted to the column's type, null or \"\" leaves a cell empty."}},
			Output: "The new row: every column (null when empty) plus _id, _createdAt and _updatedAt.",
			Run:    t.createRow,
		},
		"tables.getRow": {
			Summary: "Reads one row by id.",
			Args:    []Arg{argTable, {Name: "id", Type: String, Required: true, Summary: "The row's _id."}},
			Output:  "The row, as tables.createRow returns it. A missing row raises a runtime error with status 404.",
			Run:     t.getRow,
		},
		"tables.searchRows": {
			Summary: "Finds rows by column values, sorted and limited.",
			Args: []Arg{argTable, argWhere, argFilter, argID,
				{Name: "sort", Type: String, Summary: "The column to sort by (empty cells last); default creation order."},
				{Name: "order", Type: String, Enum: []string{"asc", "desc"}, Summary: "asc (default) or desc."},
				{Name: "limit", Type: Integer, Check: between(1, MaxLimit), Summary: fmt.Sprintf("At most this many rows (default %d, at most %d).", DefaultLimit, MaxLimit)},
				{Name: "offset", Type: Integer, Check: between(0, 1<<30), Summary: "Skip this many rows first (paging)."},
			},
			Output: "{rows: [...], count: N}: the rows as tables.createRow returns them, and how many there are.",
			Run:    t.searchRows,
		},
		"tables.updateRows": {
			Summary: "Changes cells of the rows that match.",
			Args: []Arg{argTable, argWhere, argFilter, argID,
				{Name: "set", Type: Object, Required: true, Summary: "The cells to change by column name; null empties a cell."},
				{Name: "all", Type: Boolean, Summary: "Set to true to change every row when no condition is given."},
			},
			Output: "{updated: N}: how many rows changed.",
			Run:    t.updateRows,
		},
		"tables.deleteRows": {
			Summary: "Deletes the rows that match.",
			Args:    []Arg{argTable, argWhere, argFilter, argID},
			Output:  "{deleted: N}: how many rows were deleted. A condition is required; tables.clear empties a table.",
			Run:     t.deleteRows,
		},
		"tables.clear": {
			Summary: "Deletes every row of a table, keeping its columns.",
			Args:    []Arg{argTable},
			Output:  "{deleted: N}: how many rows were deleted.",
			Run:     t.clear,
		},
	}
	for _, name := range sortedFuncNames(funcs) {
		if err := c.Register(name, funcs[name]); err != nil {
			return err
		}
	}
	return nil
}

func sortedFuncNames(m map[string]Function) []string {
	return slices.Sorted(maps.Keys(m))
}

func between(lo, hi int) func(any) string {
	return func(v any) string {
		f, _ := number(v)
		if f < float64(lo) || f > float64(hi) {
			return fmt.Sprintf("expected a number from %d to %d", lo, hi)
		}
		return ""
	}
}

type tablesFuncs struct {
	s Store
}

func folderOf(env *engine.CallEnv) string {
	if env == nil {
		return ""
	}
	return env.Folder
}

// table finds the table a call names, as a fault flows can catch.
func (f *tablesFuncs) table(ctx context.Context, args map[string]any, env *engine.CallEnv) (*Table, error) {
	name, _ := args["table"].(string)
	t, err := f.s.Table(ctx, folderOf(env), name)
	if errors.Is(err, ErrNoTable) {
		return nil, &engine.Fault{Type: engine.ErrRuntime, Status: 404, Title: "Table not found",
			Detail: fmt.Sprintf("table %q does not exist in this flow's folder; create it or import a bundle that defines it", name)}
	}
	if err != nil {
		return nil, fmt.Errorf("open table %q: %w", name, err)
	}
	return t, nil
}

func invalid(err error) error {
	return &engine.Fault{Type: engine.ErrValidation, Status: 400, Title: "Invalid table request", Detail: err.Error()}
}

// query builds the conditions of where, filter and id.
func query(args map[string]any) Query {
	var q Query
	if id, ok := args["id"].(string); ok {
		q.Where = append(q.Where, Condition{Column: RowID, Op: OpEq, Value: id})
	}
	if w, ok := args["where"].(map[string]any); ok {
		for _, k := range slices.Sorted(maps.Keys(w)) {
			q.Where = append(q.Where, Condition{Column: k, Op: OpEq, Value: w[k]})
		}
	}
	if fl, ok := args["filter"].([]any); ok {
		for _, e := range fl {
			m, _ := e.(map[string]any)
			col, _ := m["column"].(string)
			op, _ := m["op"].(string)
			q.Where = append(q.Where, Condition{Column: col, Op: op, Value: m["value"]})
		}
	}
	return q
}

func (f *tablesFuncs) createRow(ctx context.Context, args map[string]any, env *engine.CallEnv) (any, error) {
	t, err := f.table(ctx, args, env)
	if err != nil {
		return nil, err
	}
	row, _ := args["row"].(map[string]any)
	values, err := t.Values(row)
	if err != nil {
		return nil, invalid(err)
	}
	var by Writer
	if env != nil {
		// An awaited helper shares its caller's history: name the
		// execution whose page shows the write.
		by = Writer{FlowID: env.FlowID, ExecutionID: cmp.Or(env.RootID, env.ExecutionID)}
	}
	r, err := f.s.Insert(ctx, t, values, by)
	if err != nil {
		return nil, fmt.Errorf("add a row to table %q: %w", t.Name, err)
	}
	return r.Object(t), nil
}

func (f *tablesFuncs) getRow(ctx context.Context, args map[string]any, env *engine.CallEnv) (any, error) {
	t, err := f.table(ctx, args, env)
	if err != nil {
		return nil, err
	}
	id, _ := args["id"].(string)
	r, err := f.s.Row(ctx, t, id)
	if errors.Is(err, ErrNoRow) {
		return nil, &engine.Fault{Type: engine.ErrRuntime, Status: 404, Title: "Row not found",
			Detail: fmt.Sprintf("table %q has no row %s", t.Name, id)}
	}
	if err != nil {
		return nil, fmt.Errorf("read a row of table %q: %w", t.Name, err)
	}
	return r.Object(t), nil
}

func (f *tablesFuncs) searchRows(ctx context.Context, args map[string]any, env *engine.CallEnv) (any, error) {
	t, err := f.table(ctx, args, env)
	if err != nil {
		return nil, err
	}
	q := query(args)
	q.Sort, _ = args["sort"].(string)
	q.Desc = args["order"] == "desc"
	q.Limit = DefaultLimit
	if n, ok := number(args["limit"]); ok {
		q.Limit = int(n)
	}
	if n, ok := number(args["offset"]); ok {
		q.Offset = int(n)
	}
	where, err := t.Check(q)
	if err != nil {
		return nil, invalid(err)
	}
	rows, err := f.s.Search(ctx, t, q, where)
	if err != nil {
		return nil, fmt.Errorf("search table %q: %w", t.Name, err)
	}
	out := make([]any, len(rows))
	for i, r := range rows {
		out[i] = r.Object(t)
	}
	return map[string]any{"rows": out, "count": len(out)}, nil
}

func (f *tablesFuncs) updateRows(ctx context.Context, args map[string]any, env *engine.CallEnv) (any, error) {
	t, err := f.table(ctx, args, env)
	if err != nil {
		return nil, err
	}
	q := query(args)
	if len(q.Where) == 0 && args["all"] != true {
		return nil, invalid(errors.New("give where, filter or id to choose the rows to update, or all: true to update every row"))
	}
	where, err := t.Check(q)
	if err != nil {
		return nil, invalid(err)
	}
	set, _ := args["set"].(map[string]any)
	if t.Loose {
		// A loose table gains columns only by createRow: updating a
		// column no row has would be a typo.
		t.Loose = false
	}
	values, err := t.Values(set)
	if err != nil {
		return nil, invalid(err)
	}
	for k, v := range set {
		if _, kept := values[k]; !kept && (v == nil || v == "") {
			values[k] = nil // empties the cell
		}
	}
	n, err := f.s.Update(ctx, t, where, values)
	if err != nil {
		return nil, fmt.Errorf("update table %q: %w", t.Name, err)
	}
	return map[string]any{"updated": n}, nil
}

func (f *tablesFuncs) deleteRows(ctx context.Context, args map[string]any, env *engine.CallEnv) (any, error) {
	t, err := f.table(ctx, args, env)
	if err != nil {
		return nil, err
	}
	q := query(args)
	if len(q.Where) == 0 {
		return nil, invalid(errors.New("give where, filter or id to choose the rows to delete; tables.clear deletes every row"))
	}
	where, err := t.Check(q)
	if err != nil {
		return nil, invalid(err)
	}
	n, err := f.s.Delete(ctx, t, where)
	if err != nil {
		return nil, fmt.Errorf("delete rows of table %q: %w", t.Name, err)
	}
	return map[string]any{"deleted": n}, nil
}

func (f *tablesFuncs) clear(ctx context.Context, args map[string]any, env *engine.CallEnv) (any, error) {
	t, err := f.table(ctx, args, env)
	if err != nil {
		return nil, err
	}
	n, err := f.s.Delete(ctx, t, nil)
	if err != nil {
		return nil, fmt.Errorf("clear table %q: %w", t.Name, err)
	}
	return map[string]any{"deleted": n}, nil
}

// MaxResultLength bounds the result note of an execution.
const MaxResultLength = 200

// NoteResult is the kind of history note execution.setResult records;
// Vigil's journal keeps its message as the execution's result.
const NoteResult = "result"

// RegisterExecution adds execution.setResult to c.
func RegisterExecution(c *Catalog) error {
	return c.Register("execution.setResult", Function{
		Summary: "Sets the execution's short result note, shown in the execution history (\"no matching route\").",
		Args: []Arg{{Name: "result", Type: String, Required: true, Summary: fmt.Sprintf("The note, at most %d characters.", MaxResultLength),
			Check: func(v any) string {
				if utf8.RuneCountInString(v.(string)) > MaxResultLength {
					return fmt.Sprintf("longer than %d characters", MaxResultLength)
				}
				return ""
			}}},
		Output: "{result: NOTE}.",
		Pure:   true,
		Run: func(ctx context.Context, args map[string]any, env *engine.CallEnv) (any, error) {
			r, _ := args["result"].(string)
			if err := env.Record(ctx, NoteResult, r, nil); err != nil {
				return nil, fmt.Errorf("record the result: %w", err)
			}
			return map[string]any{"result": r}, nil
		},
	})
}
