package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// FlowTable is a table of a folder: a name and typed columns, held as JSON
// ([{"name": …, "type": …}]) because only the flows package reads them.
type FlowTable struct {
	ID          string
	FolderID    string
	Name        string
	Description string
	Columns     string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// Rows is the number of rows (0 from FlowTableByNameNoCount).
	Rows int
}

const flowTableCols = `id, folder_id, name, description, columns, created_at, updated_at`

func scanFlowTable(scan func(...any) error, extra ...any) (*FlowTable, error) {
	var t FlowTable
	dest := append([]any{&t.ID, &t.FolderID, &t.Name, &t.Description, &t.Columns, scanTime(&t.CreatedAt), scanTime(&t.UpdatedAt)}, extra...)
	if err := scan(dest...); err != nil {
		return nil, err
	}
	return &t, nil
}

// CreateFlowTable inserts t; ErrConflict if the folder has a table of that name.
func (q *Queries) CreateFlowTable(ctx context.Context, t *FlowTable) error {
	_, err := q.c.exec(ctx, `INSERT INTO vigil_flow_table (`+flowTableCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		t.ID, t.FolderID, t.Name, t.Description, t.Columns, t.CreatedAt, t.UpdatedAt)
	return err
}

// UpdateFlowTable writes a table's name, description and columns.
func (q *Queries) UpdateFlowTable(ctx context.Context, t *FlowTable) error {
	res, err := q.c.exec(ctx, `UPDATE vigil_flow_table SET name = $2, description = $3, columns = $4, updated_at = $5 WHERE id = $1`,
		t.ID, t.Name, t.Description, t.Columns, t.UpdatedAt)
	return flowAffected(res, err)
}

// DeleteFlowTable removes a table and its rows.
func (q *Queries) DeleteFlowTable(ctx context.Context, id string) error {
	if _, err := q.c.exec(ctx, `DELETE FROM vigil_flow_table_row WHERE table_id = $1`, id); err != nil {
		return err
	}
	res, err := q.c.exec(ctx, `DELETE FROM vigil_flow_table WHERE id = $1`, id)
	return flowAffected(res, err)
}

// FlowTable returns the table with this id, or ErrNotFound.
func (q *Queries) FlowTable(ctx context.Context, id string) (*FlowTable, error) {
	ts, err := q.flowTablesWhere(ctx, true, `id = $1`, id)
	return flowOne(ts, err)
}

// FlowTableByName returns a folder's table by name, or ErrNotFound.
func (q *Queries) FlowTableByName(ctx context.Context, folderID, name string) (*FlowTable, error) {
	ts, err := q.flowTablesWhere(ctx, true, `folder_id = $1 AND name = $2`, folderID, name)
	return flowOne(ts, err)
}

// FlowTableByNameNoCount is FlowTableByName without the count of its rows
// (Rows is 0). A flow writing a row reads its table by name each time;
// counting the rows then read the whole table's index for every row
// added, so that adding rows to a table of n took time in n.
func (q *Queries) FlowTableByNameNoCount(ctx context.Context, folderID, name string) (*FlowTable, error) {
	ts, err := q.flowTablesWhere(ctx, false, `folder_id = $1 AND name = $2`, folderID, name)
	return flowOne(ts, err)
}

// FlowTables lists a folder's tables by name, with their row counts.
func (q *Queries) FlowTables(ctx context.Context, folderID string) ([]*FlowTable, error) {
	return q.flowTablesWhere(ctx, true, `folder_id = $1`, folderID)
}

// flowTablesWhere reads the tables where holds, with their row counts when
// counted.
func (q *Queries) flowTablesWhere(ctx context.Context, counted bool, where string, args ...any) ([]*FlowTable, error) {
	var out []*FlowTable
	rows := `0`
	if counted {
		rows = `(SELECT COUNT(*) FROM vigil_flow_table_row r WHERE r.table_id = t.id)`
	}
	err := q.c.query(ctx, `SELECT `+flowTableCols+`, `+rows+`
		FROM vigil_flow_table t WHERE `+where+` ORDER BY name`, args, func(r *sql.Rows) error {
		var n int
		t, err := scanFlowTable(r.Scan, &n)
		if err != nil {
			return err
		}
		t.Rows = n
		out = append(out, t)
		return nil
	})
	return out, err
}

// FlowTableRow is a row of a table: a JSON object keyed by column name.
type FlowTableRow struct {
	ID        string
	TableID   string
	Data      string
	CreatedAt time.Time
	UpdatedAt time.Time
	// FlowID and ExecutionID name the run that added the row; empty for
	// rows added by hand or before Vigil kept them.
	FlowID      string
	ExecutionID string
}

// InsertFlowTableRow inserts r.
func (q *Queries) InsertFlowTableRow(ctx context.Context, r *FlowTableRow) error {
	_, err := q.c.exec(ctx, `INSERT INTO vigil_flow_table_row (id, table_id, data, created_at, updated_at, flow_id, execution_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		r.ID, r.TableID, r.Data, r.CreatedAt, r.UpdatedAt, r.FlowID, r.ExecutionID)
	return err
}

// UpdateFlowTableRow replaces a row's data.
func (q *Queries) UpdateFlowTableRow(ctx context.Context, tableID, id, data string, now time.Time) error {
	res, err := q.c.exec(ctx, `UPDATE vigil_flow_table_row SET data = $3, updated_at = $4 WHERE table_id = $1 AND id = $2`,
		tableID, id, data, now)
	return flowAffected(res, err)
}

// DeleteFlowTableRows deletes rows of a table by id and returns how many.
func (q *Queries) DeleteFlowTableRows(ctx context.Context, tableID string, ids []string) (int64, error) {
	var n int64
	for start := 0; start < len(ids); start += maxInList {
		marks, args := q.inList(ids[start:min(start+maxInList, len(ids))], 2)
		res, err := q.c.exec(ctx, `DELETE FROM vigil_flow_table_row WHERE table_id = $1 AND id IN (`+marks+`)`, append([]any{tableID}, args...)...)
		if err != nil {
			return n, err
		}
		k, _ := res.RowsAffected()
		n += k
	}
	return n, nil
}

// ClearFlowTable deletes every row of a table and returns how many.
func (q *Queries) ClearFlowTable(ctx context.Context, tableID string) (int64, error) {
	res, err := q.c.exec(ctx, `DELETE FROM vigil_flow_table_row WHERE table_id = $1`, tableID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Column types of tables, as RowCondition.Type and RowQuery.SortType name them.
const (
	ColumnText     = "text"
	ColumnNumber   = "number"
	ColumnBoolean  = "boolean"
	ColumnDatetime = "datetime"
)

// RowIDColumn names a row's id in conditions and sorting.
const RowIDColumn = "_id"

// RowCondition compares a column of each row with a value. Op is eq, ne,
// contains (text, case-insensitive), gt, gte, lt or lte. A nil Value with
// eq or ne tests for an empty cell. Datetime values must be in the
// fixed-width UTC format the flows package writes, so that they compare
// as text.
type RowCondition struct {
	Column string
	Type   string
	Op     string
	Value  any
}

// RowQuery selects rows of a table: every condition must hold. Rows are
// sorted by SortColumn (empty cells last), then by creation.
type RowQuery struct {
	Where      []RowCondition
	SortColumn string
	SortType   string
	Desc       bool
	Limit      int
	Offset     int
}

// FlowTableRows returns the rows of a table that q selects.
func (q *Queries) FlowTableRows(ctx context.Context, tableID string, rq RowQuery) ([]*FlowTableRow, error) {
	b := rowQueryBuilder{d: q.d, args: []any{tableID}}
	where := []string{"table_id = $1"}
	for _, c := range rq.Where {
		cond, err := b.condition(c)
		if err != nil {
			return nil, err
		}
		where = append(where, cond)
	}
	order := "id"
	if rq.SortColumn != "" {
		dir := "ASC"
		if rq.Desc {
			dir = "DESC"
		}
		x := b.extract(rq.SortColumn, rq.SortType)
		if q.d == Postgres && (rq.SortType == ColumnText || rq.SortType == ColumnDatetime || rq.SortType == "") {
			x += ` COLLATE "C"`
		}
		order = x + " " + dir + " NULLS LAST, id"
	}
	sqlText := `SELECT id, table_id, data, created_at, updated_at, flow_id, execution_id FROM vigil_flow_table_row WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY ` + order
	if rq.Limit > 0 {
		sqlText += ` LIMIT ` + strconv.Itoa(rq.Limit)
	} else if rq.Offset > 0 {
		sqlText += ` LIMIT -1`
		if q.d == Postgres {
			sqlText = strings.TrimSuffix(sqlText, ` LIMIT -1`) + ` LIMIT ALL`
		}
	}
	if rq.Offset > 0 {
		sqlText += ` OFFSET ` + strconv.Itoa(rq.Offset)
	}
	var out []*FlowTableRow
	err := q.c.query(ctx, sqlText, b.args, func(r *sql.Rows) error {
		var row FlowTableRow
		if err := r.Scan(&row.ID, &row.TableID, &row.Data, scanTime(&row.CreatedAt), scanTime(&row.UpdatedAt), &row.FlowID, &row.ExecutionID); err != nil {
			return err
		}
		out = append(out, &row)
		return nil
	})
	return out, err
}

// rowQueryBuilder writes the one part of Vigil's SQL that differs between
// the databases: reading a typed value out of a JSON column.
type rowQueryBuilder struct {
	d    Dialect
	args []any
}

func (b *rowQueryBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

// extract is the SQL expression for a column's typed value, NULL when the
// cell is empty or holds a value of another type than the column's.
func (b *rowQueryBuilder) extract(column, typ string) string {
	if column == RowIDColumn {
		return "id"
	}
	if b.d == SQLite {
		p := b.arg(`$."` + column + `"`)
		return "(CASE WHEN json_type(data, " + p + ") IN (" + sqliteJSONTypes(typ) + ") THEN json_extract(data, " + p + ") END)"
	}
	p := b.arg(column) + "::text"
	switch typ {
	case ColumnNumber:
		return "(CASE WHEN jsonb_typeof(data::jsonb -> " + p + ") = 'number' THEN (data::jsonb ->> " + p + ")::double precision END)"
	case ColumnBoolean:
		return "(CASE WHEN jsonb_typeof(data::jsonb -> " + p + ") = 'boolean' THEN (data::jsonb ->> " + p + ")::boolean END)"
	default:
		return "(CASE WHEN jsonb_typeof(data::jsonb -> " + p + ") = 'string' THEN data::jsonb ->> " + p + " END)"
	}
}

func (b *rowQueryBuilder) value(typ string, v any) any {
	if typ == ColumnBoolean && b.d == SQLite {
		if v == true {
			return 1
		}
		return 0
	}
	return v
}

var rowOps = map[string]string{"eq": "=", "ne": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}

func (b *rowQueryBuilder) condition(c RowCondition) (string, error) {
	if strings.ContainsAny(c.Column, `"\`) {
		return "", fmt.Errorf("column name %q may not contain quotes or backslashes", c.Column)
	}
	x := b.extract(c.Column, c.Type)
	if c.Op == "contains" {
		s, _ := c.Value.(string)
		return "lower(" + x + ") LIKE " + b.arg("%"+likeEscape(strings.ToLower(s))+"%") + ` ESCAPE '\'`, nil
	}
	op, ok := rowOps[c.Op]
	if !ok {
		return "", fmt.Errorf("unknown comparison %q", c.Op)
	}
	if c.Value == nil {
		switch c.Op {
		case "eq":
			return x + " IS NULL", nil
		case "ne":
			return x + " IS NOT NULL", nil
		}
		return "", fmt.Errorf("comparison %s needs a value", c.Op)
	}
	cond := x + " " + op + " " + b.arg(b.value(c.Type, c.Value))
	if c.Op == "ne" {
		// An empty cell differs from any value.
		cond = "(" + cond + " OR " + x + " IS NULL)"
	}
	return cond, nil
}

func sqliteJSONTypes(typ string) string {
	switch typ {
	case ColumnNumber:
		return "'integer', 'real'"
	case ColumnBoolean:
		return "'true', 'false'"
	default:
		return "'text'"
	}
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
