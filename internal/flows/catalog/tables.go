package catalog

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ColumnType is the type of a table column.
type ColumnType string

// Column types. Datetime cells hold UTC times written as
// 2006-01-02T15:04:05.000Z, so that they sort as text.
const (
	ColText     ColumnType = "text"
	ColNumber   ColumnType = "number"
	ColBoolean  ColumnType = "boolean"
	ColDatetime ColumnType = "datetime"
)

// DatetimeFormat is how datetime cells are written.
const DatetimeFormat = "2006-01-02T15:04:05.000Z"

// Column is one typed column of a table.
type Column struct {
	Name string     `json:"name" yaml:"name"`
	Type ColumnType `json:"type" yaml:"type"`
}

// Limits of tables, so that a flow in a loop cannot fill the database
// with one table.
const (
	MaxColumns    = 100
	MaxNameLength = 100
	MaxTextLength = 32 << 10
	// DefaultLimit and MaxLimit bound how many rows a search returns.
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Row fields that are not columns: column names may not start with "_".
const (
	RowID      = "_id"
	RowCreated = "_createdAt"
	RowUpdated = "_updatedAt"
	// RowFlow and RowExecution name the run that added a row, in the rows
	// the console and the API list (not in those flows read).
	RowFlow      = "_flowId"
	RowExecution = "_executionId"
)

// Table is a table of a folder: a name and typed columns.
type Table struct {
	ID      string
	Folder  string
	Name    string
	Columns []Column
	// Loose tables take columns as rows bring them, typed by their first
	// value; standalone runs (vigil flows run) use them so that a flow
	// can write to a table no one created.
	Loose bool
}

// Column returns the column called name.
func (t *Table) Column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// CheckColumns checks a table's column declarations.
func CheckColumns(cols []Column) error {
	if len(cols) > MaxColumns {
		return fmt.Errorf("a table may have at most %d columns", MaxColumns)
	}
	seen := map[string]bool{}
	for i, c := range cols {
		if err := CheckName(c.Name); err != nil {
			return fmt.Errorf("column %d: %w", i+1, err)
		}
		if strings.HasPrefix(c.Name, "_") {
			return fmt.Errorf("column %q: names starting with _ are reserved", c.Name)
		}
		if seen[c.Name] {
			return fmt.Errorf("column %q is declared twice", c.Name)
		}
		seen[c.Name] = true
		switch c.Type {
		case ColText, ColNumber, ColBoolean, ColDatetime:
		default:
			return fmt.Errorf("column %q has type %q; expected text, number, boolean or datetime", c.Name, c.Type)
		}
	}
	return nil
}

// CheckName checks a table or column name.
func CheckName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return errors.New("the name is empty")
	case utf8.RuneCountInString(name) > MaxNameLength:
		return fmt.Errorf("the name is longer than %d characters", MaxNameLength)
	case strings.ContainsAny(name, "\"\\\n\r\t"):
		return errors.New("the name may not contain quotes, backslashes or line breaks")
	case !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl):
		// PostgreSQL refuses a NUL in text, and no control character
		// belongs in a name people read.
		return errors.New("the name may not contain control characters")
	}
	return nil
}

// Cell converts v to a cell of type typ: numbers from numbers or numeric
// text, booleans from booleans or "true"/"false", datetimes from RFC 3339
// text. nil and "" clear a cell (nil is returned).
func Cell(typ ColumnType, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if s, ok := v.(string); ok && s == "" {
		return nil, nil
	}
	switch typ {
	case ColText:
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case bool:
			s = strconv.FormatBool(x)
		default:
			f, ok := number(v)
			if !ok {
				return nil, fmt.Errorf("expected text, got %s", typeOf(v))
			}
			s = strconv.FormatFloat(f, 'f', -1, 64)
		}
		if len(s) > MaxTextLength {
			return nil, fmt.Errorf("text is longer than %d bytes", MaxTextLength)
		}
		return s, nil
	case ColNumber:
		if f, ok := number(v); ok {
			return f, nil
		}
		if s, ok := v.(string); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
				return f, nil
			}
			return nil, fmt.Errorf("expected a number, got %q", s)
		}
		return nil, fmt.Errorf("expected a number, got %s", typeOf(v))
	case ColBoolean:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
			return nil, fmt.Errorf("expected true or false, got %q", x)
		}
		return nil, fmt.Errorf("expected a boolean, got %s", typeOf(v))
	case ColDatetime:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("expected a date and time, got %s", typeOf(v))
		}
		t, err := ParseDatetime(s)
		if err != nil {
			return nil, err
		}
		return t.UTC().Format(DatetimeFormat), nil
	}
	return nil, fmt.Errorf("unknown column type %q", typ)
}

// ParseDatetime reads an RFC 3339 date and time, or a date alone
// (midnight UTC).
func ParseDatetime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("expected a date and time such as 2026-11-28T10:00:00Z, got %q", s)
}

// inferType is the column type a loose table gives a new column.
func inferType(v any) ColumnType {
	switch v.(type) {
	case bool:
		return ColBoolean
	case string:
		return ColText
	}
	if _, ok := number(v); ok {
		return ColNumber
	}
	return ColText
}

// Values checks and converts a row's values for t. Unknown columns are
// refused, except on a loose table, which gains them (the caller stores
// the table's new columns).
func (t *Table) Values(values map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(values))
	for _, name := range slices.Sorted(maps.Keys(values)) {
		v := values[name]
		col, ok := t.Column(name)
		if !ok {
			if t.Loose && v == nil {
				continue // an empty cell of a column no row has yet
			}
			if !t.Loose {
				return nil, fmt.Errorf("table %q has no column %q; its columns are %s", t.Name, name, t.columnList())
			}
			if err := CheckColumns(append(append([]Column(nil), t.Columns...), Column{Name: name, Type: inferType(v)})); err != nil {
				return nil, fmt.Errorf("table %q: %w", t.Name, err)
			}
			col = Column{Name: name, Type: inferType(v)}
			t.Columns = append(t.Columns, col)
		}
		cell, err := Cell(col.Type, v)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", name, err)
		}
		if cell != nil {
			out[name] = cell
		}
	}
	return out, nil
}

func (t *Table) columnList() string {
	if len(t.Columns) == 0 {
		return "none"
	}
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = strconv.Quote(c.Name)
	}
	return strings.Join(names, ", ")
}

// Row is a row of a table.
type Row struct {
	ID      string
	Created time.Time
	Updated time.Time
	// By is the run that added the row; zero for rows added otherwise.
	By Writer
	// Values holds the non-empty cells by column name.
	Values map[string]any
}

// Object is the row as flows see it: every column (null when empty) plus
// _id, _createdAt and _updatedAt.
func (r *Row) Object(t *Table) map[string]any {
	m := make(map[string]any, len(t.Columns)+3)
	for _, c := range t.Columns {
		m[c.Name] = r.Values[c.Name]
	}
	m[RowID] = r.ID
	m[RowCreated] = r.Created.UTC().Format(DatetimeFormat)
	m[RowUpdated] = r.Updated.UTC().Format(DatetimeFormat)
	return m
}

// Writer names the run that writes a row: the flow and the execution
// whose history page shows the write. Flows do not see it in a row's
// object; the console and the API show it.
type Writer struct {
	FlowID      string
	ExecutionID string
}

// Comparison operators of a Condition.
const (
	OpEq       = "eq"
	OpNe       = "ne"
	OpContains = "contains"
	OpGt       = "gt"
	OpGte      = "gte"
	OpLt       = "lt"
	OpLte      = "lte"
)

// Condition compares a column of each row with a value. A nil Value with
// eq or ne tests whether the cell is empty; contains is a
// case-insensitive substring test of text columns.
type Condition struct {
	Column string `json:"column" yaml:"column"`
	Op     string `json:"op" yaml:"op"`
	Value  any    `json:"value" yaml:"value"`
}

// Query selects, sorts and limits rows. Every condition must hold. Rows
// are sorted by Sort (empty cells last), then by creation.
type Query struct {
	Where  []Condition
	Sort   string
	Desc   bool
	Limit  int
	Offset int
}

// Typed is a condition checked against its table, with its column's type
// and its value converted to that type.
type Typed struct {
	Condition
	Type ColumnType
}

// Check checks q against t and converts its values, returning the typed
// conditions. It refuses unknown columns and operators, contains on
// anything but text and ordering comparisons on booleans.
func (t *Table) Check(q Query) ([]Typed, error) {
	out := make([]Typed, 0, len(q.Where))
	for _, c := range q.Where {
		var typ ColumnType
		if c.Column == RowID {
			typ = ColText
		} else {
			col, ok := t.Column(c.Column)
			if !ok {
				if t.Loose {
					// A column no row has written yet: every cell is empty.
					col = Column{Name: c.Column, Type: inferType(c.Value)}
				} else {
					return nil, fmt.Errorf("table %q has no column %q; its columns are %s", t.Name, c.Column, t.columnList())
				}
			}
			typ = col.Type
		}
		switch c.Op {
		case OpEq, OpNe:
		case OpContains:
			if typ != ColText {
				return nil, fmt.Errorf("column %q is %s: contains works on text columns only", c.Column, typ)
			}
		case OpGt, OpGte, OpLt, OpLte:
			if typ == ColBoolean {
				return nil, fmt.Errorf("column %q is boolean: use eq or ne", c.Column)
			}
			if c.Value == nil {
				return nil, fmt.Errorf("comparison %s on column %q needs a value", c.Op, c.Column)
			}
		default:
			return nil, fmt.Errorf("unknown comparison %q; expected eq, ne, contains, gt, gte, lt or lte", c.Op)
		}
		v := c.Value
		if c.Op == OpContains {
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("contains on column %q needs text", c.Column)
			}
			v = s
		} else {
			cell, err := Cell(typ, v)
			if err != nil {
				return nil, fmt.Errorf("column %q: %w", c.Column, err)
			}
			v = cell
		}
		out = append(out, Typed{Condition: Condition{Column: c.Column, Op: c.Op, Value: v}, Type: typ})
	}
	if q.Sort != "" && q.Sort != RowID {
		if _, ok := t.Column(q.Sort); !ok && !t.Loose {
			return nil, fmt.Errorf("cannot sort by %q: table %q has no such column", q.Sort, t.Name)
		}
	}
	if q.Limit < 0 || q.Offset < 0 {
		return nil, errors.New("limit and offset may not be negative")
	}
	return out, nil
}

// SortType is the type of the column q sorts by.
func (t *Table) SortType(q Query) ColumnType {
	if c, ok := t.Column(q.Sort); ok {
		return c.Type
	}
	return ColText
}

// ErrNoTable is wrapped by Store.Table when a folder has no table of
// that name.
var ErrNoTable = errors.New("no such table")

// ErrNoRow is wrapped by Store.Row when a table has no row of that id.
var ErrNoRow = errors.New("no such row")

// Store keeps tables and their rows: in the database for Vigil's server
// (package flows) or in memory for standalone runs (MemoryTables). Every
// query and value it gets has been checked by Table.Check and
// Table.Values.
type Store interface {
	// Table returns the folder's table called name, or an error wrapping
	// ErrNoTable.
	Table(ctx context.Context, folder, name string) (*Table, error)
	// Insert adds a row. On a loose table it also keeps t's new columns.
	Insert(ctx context.Context, t *Table, values map[string]any, by Writer) (*Row, error)
	// Row returns a row by id, or an error wrapping ErrNoRow.
	Row(ctx context.Context, t *Table, id string) (*Row, error)
	// Search returns the rows q selects.
	Search(ctx context.Context, t *Table, q Query, where []Typed) ([]*Row, error)
	// Update sets values in every row where selects, and returns how many
	// rows changed.
	Update(ctx context.Context, t *Table, where []Typed, values map[string]any) (int, error)
	// Delete deletes every row where selects, all rows when where is
	// empty, and returns how many.
	Delete(ctx context.Context, t *Table, where []Typed) (int, error)
}
