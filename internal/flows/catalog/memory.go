package catalog

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigil-ispm/vigil/internal/id"
)

// MemoryTables keeps tables in memory, for standalone runs and tests. Its
// search semantics are those of the database-backed store. Tables not
// created with Create are made loose on first use.
type MemoryTables struct {
	mu     sync.Mutex
	now    func() time.Time
	newID  func() string
	tables map[string]*memTable // by folder + "\x00" + name
}

type memTable struct {
	t    Table
	rows []*Row // in creation order
}

// NewMemoryTables returns an empty store. now defaults to time.Now.
func NewMemoryTables(now func() time.Time) *MemoryTables {
	if now == nil {
		now = time.Now
	}
	return &MemoryTables{now: now, newID: NewRowIDs(now), tables: map[string]*memTable{}}
}

// Create adds a table with fixed columns, replacing one of the same name.
func (m *MemoryTables) Create(folder, name string, cols []Column) error {
	if err := CheckName(name); err != nil {
		return fmt.Errorf("table name: %w", err)
	}
	if err := CheckColumns(cols); err != nil {
		return fmt.Errorf("table %q: %w", name, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tables[folder+"\x00"+name] = &memTable{t: Table{ID: "tbl_" + name, Folder: folder, Name: name, Columns: slices.Clone(cols)}}
	return nil
}

// Rows returns a table's rows in creation order, as flows see them.
func (m *MemoryTables) Rows(folder, name string) []map[string]any {
	m.mu.Lock()
	defer m.mu.Unlock()
	mt := m.tables[folder+"\x00"+name]
	if mt == nil {
		return nil
	}
	out := make([]map[string]any, len(mt.rows))
	for i, r := range mt.rows {
		out[i] = r.Object(&mt.t)
	}
	return out
}

func (m *MemoryTables) get(folder, name string) *memTable {
	k := folder + "\x00" + name
	mt := m.tables[k]
	if mt == nil {
		mt = &memTable{t: Table{ID: "tbl_" + name, Folder: folder, Name: name, Loose: true}}
		m.tables[k] = mt
	}
	return mt
}

// Table returns the table, creating a loose one when there is none.
func (m *MemoryTables) Table(_ context.Context, folder, name string) (*Table, error) {
	if err := CheckName(name); err != nil {
		return nil, fmt.Errorf("table name: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.get(folder, name).t
	t.Columns = slices.Clone(t.Columns)
	return &t, nil
}

// Insert adds a row.
func (m *MemoryTables) Insert(_ context.Context, t *Table, values map[string]any, by Writer) (*Row, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mt := m.get(t.Folder, t.Name)
	if t.Loose {
		for _, c := range t.Columns {
			if _, ok := mt.t.Column(c.Name); !ok {
				mt.t.Columns = append(mt.t.Columns, c)
			}
		}
	}
	now := m.now().UTC()
	r := &Row{ID: m.newID(), Created: now, Updated: now, Values: maps.Clone(values), By: by}
	mt.rows = append(mt.rows, r)
	return cloneRow(r), nil
}

func cloneRow(r *Row) *Row {
	c := *r
	c.Values = maps.Clone(r.Values)
	return &c
}

// Row returns a row by id.
func (m *MemoryTables) Row(_ context.Context, t *Table, rowID string) (*Row, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.get(t.Folder, t.Name).rows {
		if r.ID == rowID {
			return cloneRow(r), nil
		}
	}
	return nil, fmt.Errorf("%w: table %q has no row %s", ErrNoRow, t.Name, rowID)
}

// Search returns the rows q selects.
func (m *MemoryTables) Search(_ context.Context, t *Table, q Query, where []Typed) ([]*Row, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*Row
	for _, r := range m.get(t.Folder, t.Name).rows {
		if Match(r, where) {
			out = append(out, cloneRow(r))
		}
	}
	if q.Sort != "" {
		typ := t.SortType(q)
		slices.SortStableFunc(out, func(a, b *Row) int {
			return compareForSort(a, b, q.Sort, typ, q.Desc)
		})
	}
	if q.Offset > 0 {
		out = out[min(q.Offset, len(out)):]
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// Update sets values in the rows where selects.
func (m *MemoryTables) Update(_ context.Context, t *Table, where []Typed, values map[string]any) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	now := m.now().UTC()
	for _, r := range m.get(t.Folder, t.Name).rows {
		if !Match(r, where) {
			continue
		}
		Merge(r.Values, values)
		r.Updated = now
		n++
	}
	return n, nil
}

// Merge sets values into cells; a nil value clears a cell.
func Merge(cells, values map[string]any) {
	for k, v := range values {
		if v == nil {
			delete(cells, k)
		} else {
			cells[k] = v
		}
	}
}

// Delete removes the rows where selects.
func (m *MemoryTables) Delete(_ context.Context, t *Table, where []Typed) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mt := m.get(t.Folder, t.Name)
	kept := mt.rows[:0]
	n := 0
	for _, r := range mt.rows {
		if Match(r, where) {
			n++
			continue
		}
		kept = append(kept, r)
	}
	clear(mt.rows[len(kept):])
	mt.rows = kept
	return n, nil
}

// cell returns a row's value of a column, the id for RowID.
func cell(r *Row, column string) any {
	if column == RowID {
		return r.ID
	}
	return r.Values[column]
}

// Match tells whether every condition holds for r.
func Match(r *Row, where []Typed) bool {
	for _, c := range where {
		if !matchOne(cell(r, c.Column), c) {
			return false
		}
	}
	return true
}

func matchOne(v any, c Typed) bool {
	if v != nil && !hasType(v, c.Type) {
		v = nil // a cell of another type is empty, as in the database
	}
	if c.Value == nil {
		switch c.Op {
		case OpEq:
			return v == nil
		case OpNe:
			return v != nil
		}
		return false
	}
	if c.Op == OpContains {
		s, _ := v.(string)
		return v != nil && strings.Contains(strings.ToLower(s), strings.ToLower(c.Value.(string)))
	}
	if v == nil {
		return c.Op == OpNe
	}
	d := compareCells(v, c.Value)
	switch c.Op {
	case OpEq:
		return d == 0
	case OpNe:
		return d != 0
	case OpGt:
		return d > 0
	case OpGte:
		return d >= 0
	case OpLt:
		return d < 0
	case OpLte:
		return d <= 0
	}
	return false
}

func hasType(v any, typ ColumnType) bool {
	switch v.(type) {
	case string:
		return typ == ColText || typ == ColDatetime
	case bool:
		return typ == ColBoolean
	}
	_, isNum := number(v)
	return isNum && typ == ColNumber
}

// compareCells compares two non-nil cells of the same type.
func compareCells(a, b any) int {
	switch x := a.(type) {
	case string:
		y, _ := b.(string)
		return strings.Compare(x, y)
	case bool:
		y, _ := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	}
	x, _ := number(a)
	y, _ := number(b)
	return cmp.Compare(x, y)
}

// compareForSort orders rows by a column, empty cells last in both
// directions, then by id.
func compareForSort(a, b *Row, column string, typ ColumnType, desc bool) int {
	va, vb := cell(a, column), cell(b, column)
	if va != nil && !hasType(va, typ) {
		va = nil
	}
	if vb != nil && !hasType(vb, typ) {
		vb = nil
	}
	switch {
	case va == nil && vb == nil:
	case va == nil:
		return 1
	case vb == nil:
		return -1
	default:
		if d := compareCells(va, vb); d != 0 {
			if desc {
				return -d
			}
			return d
		}
	}
	return strings.Compare(a.ID, b.ID)
}

// NewRowIDs returns a generator of row ids ("row_…") that sort in the
// order they were made, even within one millisecond, so that sorting by
// id is sorting by creation.
func NewRowIDs(now func() time.Time) func() string {
	var mu sync.Mutex
	var last string
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		next := id.NewAt("row", now())
		if next <= last {
			next = increment(last)
		}
		last = next
		return next
	}
}

// increment returns the next id after s in Crockford base32 order.
func increment(s string) string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	b := []byte(s)
	for i := len(b) - 1; i >= 0 && b[i] != '_'; i-- {
		k := strings.IndexByte(alphabet, b[i])
		if k < len(alphabet)-1 {
			b[i] = alphabet[k+1]
			return string(b)
		}
		b[i] = alphabet[0]
	}
	return string(b)
}
