package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/flows/catalog"
	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/store"
)

// TableInfo is a table as lists and the console show it.
type TableInfo struct {
	ID          string           `json:"id"`
	FolderID    string           `json:"folderId"`
	Name        string           `json:"name"`
	Description string           `json:"description,omitempty"`
	Columns     []catalog.Column `json:"columns"`
	Rows        int              `json:"rows"`
	CreatedAt   time.Time        `json:"createdAt"`
	UpdatedAt   time.Time        `json:"updatedAt"`
}

func tableInfoOf(r *store.FlowTable) (*TableInfo, error) {
	t := &TableInfo{ID: r.ID, FolderID: r.FolderID, Name: r.Name, Description: r.Description, Rows: r.Rows,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if err := json.Unmarshal([]byte(r.Columns), &t.Columns); err != nil {
		return nil, fmt.Errorf("read the columns of table %q: %w", r.Name, err)
	}
	return t, nil
}

func (t *TableInfo) table() *catalog.Table {
	return &catalog.Table{ID: t.ID, Folder: t.FolderID, Name: t.Name, Columns: t.Columns}
}

// Tables lists a folder's tables by name.
func (s *Service) Tables(ctx context.Context, folderID string) ([]*TableInfo, error) {
	rs, err := s.st.FlowTables(ctx, folderID)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	out := make([]*TableInfo, len(rs))
	for i, r := range rs {
		if out[i], err = tableInfoOf(r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Table returns a table by id, or by name in a folder.
func (s *Service) Table(ctx context.Context, folderID, idOrName string) (*TableInfo, error) {
	r, err := s.st.FlowTable(ctx, idOrName)
	if err == nil && folderID != "" && r.FolderID != folderID {
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) && folderID != "" {
		r, err = s.st.FlowTableByName(ctx, folderID, idOrName)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, kindErrorf(ErrNotFound, "no table is called %q", idOrName)
	}
	if err != nil {
		return nil, fmt.Errorf("read table %q: %w", idOrName, err)
	}
	return tableInfoOf(r)
}

// TableParams describe a table to create or change.
type TableParams struct {
	Name        string
	Description string
	Columns     []catalog.Column
}

func (p *TableParams) check() error {
	p.Name = strings.TrimSpace(p.Name)
	if err := catalog.CheckName(p.Name); err != nil {
		return invalid(fmt.Errorf("table name: %w", err))
	}
	if err := catalog.CheckColumns(p.Columns); err != nil {
		return invalid(fmt.Errorf("table %q: %w", p.Name, err))
	}
	return nil
}

// CreateTable adds a table to a folder; ErrExists if the name is taken.
func (s *Service) CreateTable(ctx context.Context, folderID string, p TableParams) (*TableInfo, error) {
	var t *store.FlowTable
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		t, err = s.createTableTx(ctx, tx, folderID, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	return tableInfoOf(t)
}

func (s *Service) createTableTx(ctx context.Context, tx *store.Tx, folderID string, p TableParams) (*store.FlowTable, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	cols, _ := json.Marshal(p.Columns)
	now := s.now()
	t := &store.FlowTable{ID: id.NewAt("tbl", now), FolderID: folderID, Name: p.Name, Description: p.Description,
		Columns: string(cols), CreatedAt: now, UpdatedAt: now}
	if err := tx.CreateFlowTable(ctx, t); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, kindErrorf(ErrExists, "the folder already has a table called %q", p.Name)
		}
		return nil, fmt.Errorf("create table %q: %w", p.Name, err)
	}
	return t, nil
}

// UpdateTable renames a table or changes its columns. Cells of a removed
// column are kept but no longer shown; a cell whose type differs from its
// column's reads as empty.
func (s *Service) UpdateTable(ctx context.Context, tableID string, p TableParams) (*TableInfo, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	r, err := s.st.FlowTable(ctx, tableID)
	if err != nil {
		return nil, fmt.Errorf("read table %s: %w", tableID, err)
	}
	cols, _ := json.Marshal(p.Columns)
	r.Name, r.Description, r.Columns, r.UpdatedAt = p.Name, p.Description, string(cols), s.now()
	if err := s.st.UpdateFlowTable(ctx, r); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, kindErrorf(ErrExists, "the folder already has a table called %q", p.Name)
		}
		return nil, fmt.Errorf("update table %q: %w", p.Name, err)
	}
	return tableInfoOf(r)
}

// DeleteTable deletes a table and its rows.
func (s *Service) DeleteTable(ctx context.Context, tableID string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteFlowTable(ctx, tableID); err != nil {
			return fmt.Errorf("delete table %s: %w", tableID, err)
		}
		return nil
	})
}

// TableRows searches a table's rows as tables.searchRows does, returning
// them as flows see them plus, for a row a flow added, the flow and
// execution that added it (catalog.RowFlow, catalog.RowExecution). A zero
// Limit means catalog.DefaultLimit.
func (s *Service) TableRows(ctx context.Context, tableID string, q catalog.Query) ([]map[string]any, error) {
	info, err := s.Table(ctx, "", tableID)
	if err != nil {
		return nil, err
	}
	t := info.table()
	if q.Limit == 0 {
		q.Limit = catalog.DefaultLimit
	}
	if q.Limit > catalog.MaxLimit {
		q.Limit = catalog.MaxLimit
	}
	where, err := t.Check(q)
	if err != nil {
		return nil, invalid(err)
	}
	rows, err := s.tables.Search(ctx, t, q, where)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(rows))
	for i, r := range rows {
		out[i] = r.Object(t)
		if r.By.ExecutionID != "" {
			out[i][catalog.RowFlow], out[i][catalog.RowExecution] = r.By.FlowID, r.By.ExecutionID
		}
	}
	return out, nil
}

// WriteTableCSV writes every row of a table as CSV (see catalog.WriteCSV),
// reading the table in batches.
func (s *Service) WriteTableCSV(ctx context.Context, w io.Writer, tableID string) error {
	info, err := s.Table(ctx, "", tableID)
	if err != nil {
		return err
	}
	t := info.table()
	var all []*catalog.Row
	after := ""
	for {
		var where []catalog.Typed
		if after != "" {
			where = []catalog.Typed{{Condition: catalog.Condition{Column: catalog.RowID, Op: catalog.OpGt, Value: after}, Type: catalog.ColText}}
		}
		rows, err := s.tables.Search(ctx, t, catalog.Query{Limit: 1000}, where)
		if err != nil {
			return err
		}
		all = append(all, rows...)
		if len(rows) < 1000 {
			break
		}
		after = rows[len(rows)-1].ID
	}
	return catalog.WriteCSV(w, t, all)
}

// dbTables is the catalog's table store in the database.
type dbTables struct {
	s *Service
}

// Table reads a folder's table by name.
func (d *dbTables) Table(ctx context.Context, folder, name string) (*catalog.Table, error) {
	r, err := d.s.st.FlowTableByNameNoCount(ctx, folder, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %q", catalog.ErrNoTable, name)
	}
	if err != nil {
		return nil, err
	}
	info, err := tableInfoOf(r)
	if err != nil {
		return nil, err
	}
	return info.table(), nil
}

// Insert adds a row to t, recording who wrote it.
func (d *dbTables) Insert(ctx context.Context, t *catalog.Table, values map[string]any, by catalog.Writer) (*catalog.Row, error) {
	data, err := json.Marshal(values)
	if err != nil {
		return nil, err
	}
	now := d.s.now()
	r := &store.FlowTableRow{ID: d.s.rowIDs(), TableID: t.ID, Data: string(data), CreatedAt: now, UpdatedAt: now,
		FlowID: by.FlowID, ExecutionID: by.ExecutionID}
	if j := journalOf(ctx); j != nil {
		// A task of an execution: written with its step (dbJournal.addRow).
		j.addRow(r)
		return rowOf(r)
	}
	if err := d.s.st.InsertFlowTableRow(ctx, r); err != nil {
		return nil, err
	}
	return rowOf(r)
}

func rowOf(r *store.FlowTableRow) (*catalog.Row, error) {
	row := &catalog.Row{ID: r.ID, Created: r.CreatedAt, Updated: r.UpdatedAt,
		By: catalog.Writer{FlowID: r.FlowID, ExecutionID: r.ExecutionID}}
	if err := json.Unmarshal([]byte(r.Data), &row.Values); err != nil {
		return nil, fmt.Errorf("read row %s: %w", r.ID, err)
	}
	if row.Values == nil {
		row.Values = map[string]any{}
	}
	return row, nil
}

func conditions(where []catalog.Typed) []store.RowCondition {
	out := make([]store.RowCondition, len(where))
	for i, c := range where {
		out[i] = store.RowCondition{Column: c.Column, Type: string(c.Type), Op: c.Op, Value: c.Value}
	}
	return out
}

// Row reads one row of t by its ID.
func (d *dbTables) Row(ctx context.Context, t *catalog.Table, rowID string) (*catalog.Row, error) {
	rs, err := d.s.st.FlowTableRows(ctx, t.ID, store.RowQuery{Limit: 1,
		Where: []store.RowCondition{{Column: store.RowIDColumn, Type: store.ColumnText, Op: "eq", Value: rowID}}})
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("%w: table %q has no row %s", catalog.ErrNoRow, t.Name, rowID)
	}
	return rowOf(rs[0])
}

// Search reads the rows of t that match q and every condition of where.
func (d *dbTables) Search(ctx context.Context, t *catalog.Table, q catalog.Query, where []catalog.Typed) ([]*catalog.Row, error) {
	rq := store.RowQuery{Where: conditions(where), Limit: q.Limit, Offset: q.Offset, Desc: q.Desc}
	if q.Sort != "" {
		rq.SortColumn, rq.SortType = q.Sort, string(t.SortType(q))
	}
	rs, err := d.s.st.FlowTableRows(ctx, t.ID, rq)
	if err != nil {
		return nil, err
	}
	out := make([]*catalog.Row, len(rs))
	for i, r := range rs {
		if out[i], err = rowOf(r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Update changes the rows of t that match where and returns how many.
func (d *dbTables) Update(ctx context.Context, t *catalog.Table, where []catalog.Typed, values map[string]any) (int, error) {
	n := 0
	err := d.s.st.InTx(ctx, func(tx *store.Tx) error {
		rs, err := tx.FlowTableRows(ctx, t.ID, store.RowQuery{Where: conditions(where)})
		if err != nil {
			return err
		}
		now := d.s.now()
		for _, r := range rs {
			row, err := rowOf(r)
			if err != nil {
				return err
			}
			catalog.Merge(row.Values, values)
			data, err := json.Marshal(row.Values)
			if err != nil {
				return err
			}
			if err := tx.UpdateFlowTableRow(ctx, t.ID, r.ID, string(data), now); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// Delete removes the rows of t that match where and returns how many.
func (d *dbTables) Delete(ctx context.Context, t *catalog.Table, where []catalog.Typed) (int, error) {
	if len(where) == 0 {
		n, err := d.s.st.ClearFlowTable(ctx, t.ID)
		return int(n), err
	}
	var n int64
	err := d.s.st.InTx(ctx, func(tx *store.Tx) error {
		rs, err := tx.FlowTableRows(ctx, t.ID, store.RowQuery{Where: conditions(where)})
		if err != nil {
			return err
		}
		ids := make([]string, len(rs))
		for i, r := range rs {
			ids[i] = r.ID
		}
		n, err = tx.DeleteFlowTableRows(ctx, t.ID, ids)
		return err
	})
	return int(n), err
}
