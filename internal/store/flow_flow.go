package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"
)

// Flow is a flow's row: its stable id, folder, on/off switch and a copy of
// what its current version's document says about it.
type Flow struct {
	ID        string
	FolderID  string
	Namespace string
	Name      string
	// DocVersion is document.version of the current version.
	DocVersion  string
	Title       string
	Description string
	On          bool
	// Version is the current version number (1 for the first save).
	Version int
	// TriggerKind is "" for a helper flow, else the trigger's kind
	// (apiEndpoint); TriggerJSON is document.metadata.vigil.trigger as JSON.
	TriggerKind string
	TriggerJSON string
	SaveAllData bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// FolderName is filled by the queries that join the folder.
	FolderName string
}

const flowCols = `f.id, f.folder_id, f.namespace, f.name, f.doc_version, f.title, f.description, f.enabled, f.version,
	f.trigger_kind, f.trigger_json, f.save_all_data, f.created_at, f.updated_at, d.name`

const flowFrom = ` FROM vigil_flow f JOIN vigil_flow_folder d ON d.id = f.folder_id`

func scanFlow(scan func(...any) error) (*Flow, error) {
	var f Flow
	err := scan(&f.ID, &f.FolderID, &f.Namespace, &f.Name, &f.DocVersion, &f.Title, &f.Description, &f.On, &f.Version,
		&f.TriggerKind, &f.TriggerJSON, &f.SaveAllData, scanTime(&f.CreatedAt), scanTime(&f.UpdatedAt), &f.FolderName)
	if err != nil {
		return nil, err
	}
	return &f, nil
}

// CreateFlow inserts f; ErrConflict if its folder already holds a flow with
// the same namespace and name.
func (q *Queries) CreateFlow(ctx context.Context, f *Flow) error {
	_, err := q.c.exec(ctx, `INSERT INTO vigil_flow (id, folder_id, namespace, name, doc_version, title, description, enabled,
		version, trigger_kind, trigger_json, save_all_data, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		f.ID, f.FolderID, f.Namespace, f.Name, f.DocVersion, f.Title, f.Description, f.On, f.Version,
		f.TriggerKind, f.TriggerJSON, f.SaveAllData, f.CreatedAt, f.UpdatedAt)
	return err
}

// UpdateFlow writes the document-derived fields and the version of f (not
// its folder or on/off switch); ErrConflict if the new namespace/name is
// taken in the folder.
func (q *Queries) UpdateFlow(ctx context.Context, f *Flow) error {
	res, err := q.c.exec(ctx, `UPDATE vigil_flow SET namespace = $2, name = $3, doc_version = $4, title = $5, description = $6,
		version = $7, trigger_kind = $8, trigger_json = $9, save_all_data = $10, updated_at = $11 WHERE id = $1`,
		f.ID, f.Namespace, f.Name, f.DocVersion, f.Title, f.Description, f.Version, f.TriggerKind, f.TriggerJSON,
		f.SaveAllData, f.UpdatedAt)
	return flowAffected(res, err)
}

// SetFlowOn turns a flow on or off.
func (q *Queries) SetFlowOn(ctx context.Context, id string, on bool, now time.Time) error {
	res, err := q.c.exec(ctx, `UPDATE vigil_flow SET enabled = $2, updated_at = $3 WHERE id = $1`, id, on, now)
	return flowAffected(res, err)
}

// DeleteFlow removes a flow with its versions and executions.
func (q *Queries) DeleteFlow(ctx context.Context, id string) error {
	// Its API endpoint (alias and sealed client tokens) and idempotency
	// keys refer to the flow without a foreign key; they go with it, so
	// that no token of a deleted flow stays stored.
	for _, table := range []string{"vigil_endpoint", "vigil_invoke_key"} {
		if _, err := q.c.exec(ctx, `DELETE FROM `+table+` WHERE flow_id = $1`, id); err != nil {
			return err
		}
	}
	res, err := q.c.exec(ctx, `DELETE FROM vigil_flow WHERE id = $1`, id)
	return flowAffected(res, err)
}

// Flow returns the flow with this id, or ErrNotFound.
func (q *Queries) Flow(ctx context.Context, id string) (*Flow, error) {
	fs, err := q.flowsWhere(ctx, `f.id = $1`, id)
	return flowOne(fs, err)
}

// FlowByName returns the flow of a folder with this namespace and name, or
// ErrNotFound.
func (q *Queries) FlowByName(ctx context.Context, folderID, namespace, name string) (*Flow, error) {
	fs, err := q.flowsWhere(ctx, `f.folder_id = $1 AND f.namespace = $2 AND f.name = $3`, folderID, namespace, name)
	return flowOne(fs, err)
}

// FlowsByName lists the flows of every folder with this namespace and name.
func (q *Queries) FlowsByName(ctx context.Context, namespace, name string) ([]*Flow, error) {
	return q.flowsWhere(ctx, `f.namespace = $1 AND f.name = $2`, namespace, name)
}

// FlowsByTitle lists the flows whose title is title, in folderID when it
// is not empty.
func (q *Queries) FlowsByTitle(ctx context.Context, title, folderID string) ([]*Flow, error) {
	if folderID != "" {
		return q.flowsWhere(ctx, `f.title = $1 AND f.folder_id = $2`, title, folderID)
	}
	return q.flowsWhere(ctx, `f.title = $1`, title)
}

// FlowFilter selects flows to list; zero fields select all.
type FlowFilter struct {
	FolderID string
	// On, when not nil, keeps only flows on (true) or off (false).
	On *bool
}

// Flows lists flows by folder name, then title.
func (q *Queries) Flows(ctx context.Context, filter FlowFilter) ([]*Flow, error) {
	var where []string
	var args []any
	if filter.FolderID != "" {
		args = append(args, filter.FolderID)
		where = append(where, `f.folder_id = $1`)
	}
	if filter.On != nil {
		args = append(args, *filter.On)
		where = append(where, `f.enabled = $`+strconv.Itoa(len(args)))
	}
	cond := "1 = 1"
	if len(where) > 0 {
		cond = strings.Join(where, " AND ")
	}
	return q.flowsWhere(ctx, cond, args...)
}

func (q *Queries) flowsWhere(ctx context.Context, where string, args ...any) ([]*Flow, error) {
	var out []*Flow
	err := q.c.query(ctx, `SELECT `+flowCols+flowFrom+` WHERE `+where+` ORDER BY d.name, f.title, f.id`, args, func(r *sql.Rows) error {
		f, err := scanFlow(r.Scan)
		if err != nil {
			return err
		}
		out = append(out, f)
		return nil
	})
	return out, err
}

func flowOne[T any](list []*T, err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, ErrNotFound
	}
	return list[0], nil
}

// FlowVersion is one saved version of a flow.
type FlowVersion struct {
	FlowID     string
	Version    int
	DocVersion string
	// Document is the full document text as saved.
	Document  string
	CreatedBy string
	CreatedAt time.Time
}

// CreateFlowVersion inserts v; ErrConflict if the version number exists.
func (q *Queries) CreateFlowVersion(ctx context.Context, v *FlowVersion) error {
	_, err := q.c.exec(ctx, `INSERT INTO vigil_flow_version (flow_id, version, doc_version, document, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, v.FlowID, v.Version, v.DocVersion, v.Document, v.CreatedBy, v.CreatedAt)
	return err
}

// FlowVersion returns one version of a flow with its document, or
// ErrNotFound.
func (q *Queries) FlowVersion(ctx context.Context, flowID string, version int) (*FlowVersion, error) {
	v := FlowVersion{FlowID: flowID, Version: version}
	err := q.c.queryRow(ctx, `SELECT doc_version, document, created_by, created_at FROM vigil_flow_version
		WHERE flow_id = $1 AND version = $2`, []any{flowID, version}, &v.DocVersion, &v.Document, &v.CreatedBy, scanTime(&v.CreatedAt))
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// FlowVersionByDoc returns the latest version of a flow whose
// document.version is docVersion, or ErrNotFound.
func (q *Queries) FlowVersionByDoc(ctx context.Context, flowID, docVersion string) (*FlowVersion, error) {
	var n int
	err := q.c.queryRow(ctx, `SELECT MAX(version) FROM vigil_flow_version WHERE flow_id = $1 AND doc_version = $2`,
		[]any{flowID, docVersion}, &flowNullInt{&n})
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, ErrNotFound
	}
	return q.FlowVersion(ctx, flowID, n)
}

// FlowVersions lists a flow's versions, newest first, without documents.
func (q *Queries) FlowVersions(ctx context.Context, flowID string) ([]*FlowVersion, error) {
	var out []*FlowVersion
	err := q.c.query(ctx, `SELECT version, doc_version, created_by, created_at FROM vigil_flow_version
		WHERE flow_id = $1 ORDER BY version DESC`, []any{flowID}, func(r *sql.Rows) error {
		v := &FlowVersion{FlowID: flowID}
		if err := r.Scan(&v.Version, &v.DocVersion, &v.CreatedBy, scanTime(&v.CreatedAt)); err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	return out, err
}

// flowNullInt scans a nullable integer as 0.
type flowNullInt struct{ n *int }

// Scan stores the integer, or 0 for NULL, for database/sql.
func (s *flowNullInt) Scan(src any) error {
	var v sql.NullInt64
	if err := v.Scan(src); err != nil {
		return err
	}
	*s.n = int(v.Int64)
	return nil
}
