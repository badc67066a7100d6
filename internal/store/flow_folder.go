package store

import (
	"context"
	"database/sql"
	"time"
)

// FlowFolder groups flows and tables.
type FlowFolder struct {
	ID          string
	Name        string
	Description string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// Flows is the number of flows in the folder (lists only).
	Flows int
}

const flowFolderCols = `id, name, description, created_at, updated_at`

func scanFlowFolder(scan func(...any) error, extra ...any) (*FlowFolder, error) {
	var f FlowFolder
	dest := append([]any{&f.ID, &f.Name, &f.Description, scanTime(&f.CreatedAt), scanTime(&f.UpdatedAt)}, extra...)
	if err := scan(dest...); err != nil {
		return nil, err
	}
	return &f, nil
}

// CreateFlowFolder inserts f; ErrConflict if the name is taken.
func (q *Queries) CreateFlowFolder(ctx context.Context, f *FlowFolder) error {
	_, err := q.c.exec(ctx, `INSERT INTO vigil_flow_folder (`+flowFolderCols+`) VALUES ($1, $2, $3, $4, $5)`,
		f.ID, f.Name, f.Description, f.CreatedAt, f.UpdatedAt)
	return err
}

// FlowFolder returns the folder with this id, or ErrNotFound.
func (q *Queries) FlowFolder(ctx context.Context, id string) (*FlowFolder, error) {
	return q.flowFolderWhere(ctx, `id = $1`, id)
}

// FlowFolderByName returns the folder with this name, or ErrNotFound.
func (q *Queries) FlowFolderByName(ctx context.Context, name string) (*FlowFolder, error) {
	return q.flowFolderWhere(ctx, `name = $1`, name)
}

func (q *Queries) flowFolderWhere(ctx context.Context, where string, arg any) (*FlowFolder, error) {
	var f *FlowFolder
	err := q.c.query(ctx, `SELECT `+flowFolderCols+` FROM vigil_flow_folder WHERE `+where, []any{arg}, func(r *sql.Rows) error {
		var err error
		f, err = scanFlowFolder(r.Scan)
		return err
	})
	if err == nil && f == nil {
		err = ErrNotFound
	}
	return f, err
}

// FlowFolders lists every folder by name, with its number of flows.
func (q *Queries) FlowFolders(ctx context.Context) ([]*FlowFolder, error) {
	var out []*FlowFolder
	err := q.c.query(ctx, `SELECT f.id, f.name, f.description, f.created_at, f.updated_at,
		(SELECT COUNT(*) FROM vigil_flow WHERE folder_id = f.id)
		FROM vigil_flow_folder f ORDER BY f.name`, nil, func(r *sql.Rows) error {
		var n int
		f, err := scanFlowFolder(r.Scan, &n)
		if err != nil {
			return err
		}
		f.Flows = n
		out = append(out, f)
		return nil
	})
	return out, err
}

// UpdateFlowFolder renames a folder or changes its description;
// ErrConflict if the new name is taken, ErrNotFound if there is no folder.
func (q *Queries) UpdateFlowFolder(ctx context.Context, f *FlowFolder) error {
	res, err := q.c.exec(ctx, `UPDATE vigil_flow_folder SET name = $2, description = $3, updated_at = $4 WHERE id = $1`,
		f.ID, f.Name, f.Description, f.UpdatedAt)
	return flowAffected(res, err)
}

// DeleteFlowFolder removes a folder and its tables. The caller makes sure it
// holds no flows (the foreign key refuses otherwise).
func (q *Queries) DeleteFlowFolder(ctx context.Context, id string) error {
	res, err := q.c.exec(ctx, `DELETE FROM vigil_flow_folder WHERE id = $1`, id)
	return flowAffected(res, err)
}

// affected turns "no row changed" into ErrNotFound.
func flowAffected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return ErrNotFound
	}
	return nil
}
