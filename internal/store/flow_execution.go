package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"
)

// Execution statuses. Pending, running and waiting executions are
// unfinished; the others are final. A waiting execution is parked until a
// person decides on its approval request: no worker holds it.
const (
	FlowPending   = "pending"
	FlowRunning   = "running"
	FlowWaiting   = "waiting"
	FlowSucceeded = "succeeded"
	FlowFaulted   = "faulted"
	FlowCancelled = "cancelled"
)

// FlowExecution is one execution of one version of a flow.
type FlowExecution struct {
	ID      string
	FlowID  string
	Version int
	Status  string
	// InputSealed is the sealed JSON input (secret.Box.SealBytes; rows
	// stored before migration 0264 hold secret.Box.Seal's text, which
	// OpenBytes opens too). OutputSealed is sealed JSON (secret.Box.Seal).
	InputSealed  []byte
	OutputSealed string
	// Error is the RFC 7807 error object of a fault, as JSON ("" if none).
	Error string
	// Result is a short note on how the execution ended, such as "no
	// matching route".
	Result      string
	ParentID    string
	ParentKey   string
	CallDepth   int
	Test        bool
	DryRun      bool
	SaveAllData bool
	Steps       int
	Attempts    int
	Generation  int
	LeaseUntil  time.Time
	StartedAt   time.Time
	EndedAt     time.Time
	Duration    time.Duration
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// FlowTitle and FolderID are filled by lists, which join the flow.
	FlowTitle string
	FolderID  string
	// Subject is what the execution is about, from its trigger event.
	Subject Subject
}

// Subject is what an execution is about, read from its trigger event: the
// issue's id and title and the affected user. Any field may be empty (a
// flow called with another kind of input).
type Subject struct {
	IssueID string
	Title   string
	User    string
}

const flowExecCols = `e.id, e.flow_id, e.version, e.status, e.input_sealed, e.input_sealed_bin, e.output_sealed, e.error, e.result,
	e.parent_id, e.parent_key, e.call_depth, e.test, e.dry_run, e.save_all_data, e.steps, e.attempts, e.generation,
	e.lease_until, e.started_at, e.ended_at, e.duration_ms, e.created_at, e.updated_at, f.title, f.folder_id,
	e.subject_issue, e.subject_title, e.subject_user`

const flowExecFrom = ` FROM vigil_flow_execution e JOIN vigil_flow f ON f.id = e.flow_id`

func scanFlowExecution(scan func(...any) error) (*FlowExecution, error) {
	var e FlowExecution
	var parentID, parentKey sql.NullString
	var ms int64
	var inputText string
	err := scan(&e.ID, &e.FlowID, &e.Version, &e.Status, &inputText, &e.InputSealed, &e.OutputSealed, &e.Error, &e.Result,
		&parentID, &parentKey, &e.CallDepth, &e.Test, &e.DryRun, &e.SaveAllData, &e.Steps, &e.Attempts, &e.Generation,
		scanTime(&e.LeaseUntil), scanTime(&e.StartedAt), scanTime(&e.EndedAt), &ms, scanTime(&e.CreatedAt), scanTime(&e.UpdatedAt),
		&e.FlowTitle, &e.FolderID, &e.Subject.IssueID, &e.Subject.Title, &e.Subject.User)
	if err != nil {
		return nil, err
	}
	if e.InputSealed == nil && inputText != "" {
		// Stored before migration 0264, as text.
		e.InputSealed = []byte(inputText)
	}
	e.ParentID, e.ParentKey = parentID.String, parentKey.String
	e.Duration = time.Duration(ms) * time.Millisecond
	return &e, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// CreateFlowExecution inserts e; ErrConflict if its id, or its parent and
// parent key, exist already. An execution created running (claimed by
// the node that starts it at once) carries its Attempts, StartedAt and
// LeaseUntil; a pending one leaves them zero.
func (q *Queries) CreateFlowExecution(ctx context.Context, e *FlowExecution) error {
	if e.Generation == 0 {
		e.Generation = 1
	}
	insert := `INSERT INTO vigil_flow_execution (id, flow_id, version, status, input_sealed, input_sealed_bin, parent_id, parent_key,
		call_depth, test, dry_run, save_all_data, generation, attempts, started_at, lease_until, created_at, updated_at,
		subject_issue, subject_title, subject_user)
		VALUES ($1, $2, $3, $4, '', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`
	args := []any{e.ID, e.FlowID, e.Version, e.Status, e.InputSealed, nullString(e.ParentID), nullString(e.ParentKey),
		e.CallDepth, e.Test, e.DryRun, e.SaveAllData, e.Generation, e.Attempts, e.StartedAt, e.LeaseUntil, e.CreatedAt, e.UpdatedAt,
		e.Subject.IssueID, e.Subject.Title, e.Subject.User}
	if node := q.owner.get(); node != 0 && !e.LeaseUntil.IsZero() {
		insert = `WITH o AS (INSERT INTO vigil_lease_owner (kind, id, node) VALUES ('execution', $1, $21)
			ON CONFLICT (kind, id) DO UPDATE SET node = excluded.node) ` + insert
		args = append(args, node)
	}
	_, err := q.c.exec(ctx, insert, args...)
	return err
}

// FlowExecution returns the execution with this id, or ErrNotFound.
func (q *Queries) FlowExecution(ctx context.Context, id string) (*FlowExecution, error) {
	es, err := q.flowExecutionsWhere(ctx, `e.id = $1`, "", 1, id)
	return flowOne(es, err)
}

// FlowExecutionByParent returns the helper flow execution that parentID
// started at the journal key, or ErrNotFound.
func (q *Queries) FlowExecutionByParent(ctx context.Context, parentID, key string) (*FlowExecution, error) {
	es, err := q.flowExecutionsWhere(ctx, `e.parent_id = $1 AND e.parent_key = $2`, "", 1, parentID, key)
	return flowOne(es, err)
}

// FlowExecutionFilter selects executions to list. Zero fields select all.
type FlowExecutionFilter struct {
	FlowID   string
	FolderID string
	Status   string
	ParentID string
	// MinDuration and MaxDuration bound the duration of finished executions.
	MinDuration time.Duration
	MaxDuration time.Duration
	// Search matches, case-insensitively, a part of the subject's issue
	// id, title or user.
	Search string
	// Before lists executions whose id sorts before this one (paging:
	// pass the last id of the previous page).
	Before string
	// Limit defaults to 50.
	Limit int
}

// FlowExecutionsByID returns the executions with the given ids that exist,
// without their data, newest first.
func (q *Queries) FlowExecutionsByID(ctx context.Context, ids []string) ([]*FlowExecution, error) {
	var out []*FlowExecution
	for start := 0; start < len(ids); start += maxInList {
		marks, args := q.inList(ids[start:min(start+maxInList, len(ids))], 1)
		part, err := q.flowExecutionsWhere(ctx, `e.id IN (`+marks+`)`, " ORDER BY e.id DESC", maxInList, args...)
		if err != nil {
			return nil, err
		}
		out = append(out, part...)
	}
	return out, nil
}

// FlowExecutions lists executions, newest first.
func (q *Queries) FlowExecutions(ctx context.Context, f FlowExecutionFilter) ([]*FlowExecution, error) {
	cond, args := flowExecutionsCond(f, true)
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	return q.flowExecutionsWhere(ctx, cond, " ORDER BY e.id DESC", limit, args...)
}

// CountFlowExecutions counts the executions f selects on every page: its
// Before and Limit are ignored.
func (q *Queries) CountFlowExecutions(ctx context.Context, f FlowExecutionFilter) (int, error) {
	cond, args := flowExecutionsCond(f, false)
	var n int
	err := q.c.queryRow(ctx, `SELECT COUNT(*)`+flowExecFrom+` WHERE `+cond, args, &n)
	return n, err
}

// flowExecutionsCond is the WHERE condition of f and its arguments; paged
// adds the Before bound.
func flowExecutionsCond(f FlowExecutionFilter, paged bool) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.FlowID != "" {
		add("e.flow_id = ?", f.FlowID)
	}
	if f.FolderID != "" {
		add("f.folder_id = ?", f.FolderID)
	}
	if f.Status != "" {
		add("e.status = ?", f.Status)
	}
	if f.ParentID != "" {
		add("e.parent_id = ?", f.ParentID)
	}
	if f.MinDuration > 0 {
		add("e.ended_at IS NOT NULL AND e.duration_ms >= ?", f.MinDuration.Milliseconds())
	}
	if f.MaxDuration > 0 {
		add("e.ended_at IS NOT NULL AND e.duration_ms <= ?", f.MaxDuration.Milliseconds())
	}
	if s := strings.TrimSpace(f.Search); s != "" {
		args = append(args, "%"+escapeLike(strings.ToLower(s))+"%")
		mark := "$" + strconv.Itoa(len(args))
		where = append(where, "(LOWER(e.subject_issue) LIKE "+mark+` ESCAPE '\' OR LOWER(e.subject_title) LIKE `+mark+
			` ESCAPE '\' OR LOWER(e.subject_user) LIKE `+mark+` ESCAPE '\')`)
	}
	if paged && f.Before != "" {
		add("e.id < ?", f.Before)
	}
	cond := "1 = 1"
	if len(where) > 0 {
		cond = strings.Join(where, " AND ")
	}
	return cond, args
}

func (q *Queries) flowExecutionsWhere(ctx context.Context, where, order string, limit int, args ...any) ([]*FlowExecution, error) {
	var out []*FlowExecution
	err := q.c.query(ctx, `SELECT `+flowExecCols+flowExecFrom+` WHERE `+where+order+` LIMIT `+strconv.Itoa(limit), args, func(r *sql.Rows) error {
		e, err := scanFlowExecution(r.Scan)
		if err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// ClaimFlowExecution marks an execution running for a worker of its
// current generation, until leaseUntil. It reports false when the
// execution is final, belongs to another generation, or is held by a
// worker whose lease has not run out.
func (q *Queries) ClaimFlowExecution(ctx context.Context, id string, generation int, now, leaseUntil time.Time) (bool, error) {
	claim := `UPDATE vigil_flow_execution SET status = 'running', attempts = attempts + 1, lease_until = $4,
		started_at = COALESCE(started_at, $3), updated_at = $3
		WHERE id = $1 AND generation = $2 AND (status = 'pending' OR (status = 'running' AND (lease_until IS NULL OR lease_until < $3)))`
	args := []any{id, generation, now, leaseUntil}
	if node := q.owner.get(); node != 0 {
		// One statement: the row counted is the owner's, written only when
		// the claim succeeded.
		claim = `WITH c AS (` + claim + ` RETURNING id) INSERT INTO vigil_lease_owner (kind, id, node) SELECT 'execution', id, $5 FROM c
			ON CONFLICT (kind, id) DO UPDATE SET node = excluded.node`
		args = append(args, node)
	}
	res, err := q.c.exec(ctx, claim, args...)
	return flowChanged(res, err)
}

// RenewFlowExecutionLease extends the lease of a running execution. It
// reports false when the execution was cancelled or queued anew, so the
// worker must stop.
func (q *Queries) RenewFlowExecutionLease(ctx context.Context, id string, generation int, now, leaseUntil time.Time) (bool, error) {
	res, err := q.c.exec(ctx, `UPDATE vigil_flow_execution SET lease_until = $4, updated_at = $3
		WHERE id = $1 AND generation = $2 AND status = 'running'`, id, generation, now, leaseUntil)
	return flowChanged(res, err)
}

// RenewFlowExecutionLeases extends, until leaseUntil, the leases of the
// running executions among ids that are in the given generation, and
// returns the ids of those it extended: a node renews at once those of
// the many executions it holds waiting for a slot. An execution cancelled
// or queued anew is left alone, as RenewFlowExecutionLease leaves it, and
// its caller must not take it as renewed.
func (q *Queries) RenewFlowExecutionLeases(ctx context.Context, ids []string, generation int, now, leaseUntil time.Time) ([]string, error) {
	var renewed []string
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), renewLeasesChunk)]
		ids = ids[len(chunk):]
		// Always renewLeasesChunk ids, the last repeated, so that one
		// statement (prepared once) serves every call.
		args := make([]any, 0, 3+renewLeasesChunk)
		args = append(args, leaseUntil, now, generation)
		for i := range renewLeasesChunk {
			args = append(args, chunk[min(i, len(chunk)-1)])
		}
		err := q.c.queryWrite(ctx, renewLeasesSQL, args, func(r *sql.Rows) error {
			var id string
			if err := r.Scan(&id); err != nil {
				return err
			}
			renewed = append(renewed, id)
			return nil
		})
		if err != nil {
			return renewed, err
		}
	}
	return renewed, nil
}

// renewLeasesChunk is how many ids one statement of
// RenewFlowExecutionLeases takes.
const renewLeasesChunk = 256

// renewLeasesSQL is RenewFlowExecutionLeases' statement for
// renewLeasesChunk ids.
var renewLeasesSQL = func() string {
	var b strings.Builder
	b.WriteString(`UPDATE vigil_flow_execution SET lease_until = $1, updated_at = $2
		WHERE generation = $3 AND status = 'running' AND id IN (`)
	for i := range renewLeasesChunk {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(i+4))
	}
	b.WriteString(") RETURNING id")
	return b.String()
}()

// ReleaseFlowExecution hands a running execution back (its worker is
// shutting down): it is pending again and its job will run it.
func (q *Queries) ReleaseFlowExecution(ctx context.Context, id string, generation int, now time.Time) error {
	_, err := q.c.exec(ctx, `UPDATE vigil_flow_execution SET status = 'pending', lease_until = NULL, updated_at = $3
		WHERE id = $1 AND generation = $2 AND status = 'running'`, id, generation, now)
	return err
}

// FlowExecutionEnd is how an execution ended.
type FlowExecutionEnd struct {
	ID           string
	Generation   int
	Status       string
	OutputSealed string
	Error        string
	Steps        int
	EndedAt      time.Time
	Duration     time.Duration
}

// FinishFlowExecution records the end of an unfinished execution of the
// given generation. It reports false when the execution had already
// ended (cancelled, say) or was queued anew.
func (q *Queries) FinishFlowExecution(ctx context.Context, e FlowExecutionEnd) (bool, error) {
	res, err := q.c.exec(ctx, `UPDATE vigil_flow_execution SET status = $3, output_sealed = $4, error = $5, steps = $6,
		ended_at = $7, duration_ms = $8, lease_until = NULL, updated_at = $7
		WHERE id = $1 AND generation = $2 AND status IN ('pending', 'running')`,
		e.ID, e.Generation, e.Status, e.OutputSealed, e.Error, e.Steps, e.EndedAt, e.Duration.Milliseconds())
	return flowChanged(res, err)
}

// CancelFlowExecution ends an unfinished execution as cancelled after
// running for d; it reports false when the execution had already ended.
func (q *Queries) CancelFlowExecution(ctx context.Context, id string, now time.Time, d time.Duration) (bool, error) {
	res, err := q.c.exec(ctx, `UPDATE vigil_flow_execution SET status = 'cancelled', lease_until = NULL, ended_at = $2,
		duration_ms = $3, updated_at = $2 WHERE id = $1 AND status IN ('pending', 'running', 'waiting')`, id, now, d.Milliseconds())
	return flowChanged(res, err)
}

// SetFlowExecutionResult sets the short result note of an execution.
func (q *Queries) SetFlowExecutionResult(ctx context.Context, id, result string) error {
	_, err := q.c.exec(ctx, `UPDATE vigil_flow_execution SET result = $2 WHERE id = $1`, id, result)
	return err
}

// ExpiredFlowExecutions lists running executions whose worker's lease ran
// out before now, or, on PostgreSQL, whose node no longer holds its node
// lock: their worker died.
func (q *Queries) ExpiredFlowExecutions(ctx context.Context, now time.Time, limit int) ([]*FlowExecution, error) {
	return q.flowExecutionsWhere(ctx, `e.status = 'running' AND (e.lease_until < $1 OR `+q.ownerGone("execution", "e.id")+`)`,
		" ORDER BY e.lease_until", limit, now)
}

// RequeueFlowExecution makes an execution pending in a new generation,
// if it is still the given generation and unfinished, and returns the new
// generation (0 when nothing changed). The caller queues its job in the
// same transaction.
func (q *Queries) RequeueFlowExecution(ctx context.Context, id string, generation int, now time.Time) (int, error) {
	res, err := q.c.exec(ctx, `UPDATE vigil_flow_execution SET status = 'pending', generation = generation + 1, lease_until = NULL,
		updated_at = $3 WHERE id = $1 AND generation = $2 AND status IN ('pending', 'running')`, id, generation, now)
	ok, err := flowChanged(res, err)
	if err != nil || !ok {
		return 0, err
	}
	return generation + 1, nil
}

// unfinishedFlowExecutionsSQL counts a flow's unfinished executions; its
// WHERE clause is the partial index vigil_flow_execution_unfinished's, so
// that SQLite's planner picks that index.
const unfinishedFlowExecutionsSQL = `SELECT COUNT(*) FROM vigil_flow_execution WHERE flow_id = $1 AND status IN ('pending', 'running')`

// UnfinishedFlowExecutions counts a flow's pending and running executions.
func (q *Queries) UnfinishedFlowExecutions(ctx context.Context, flowID string) (int, error) {
	var n int
	err := q.c.queryRow(ctx, unfinishedFlowExecutionsSQL, []any{flowID}, &n)
	return n, err
}

// FlowExecutionCount counts a flow's executions, finished or not.
func (q *Queries) FlowExecutionCount(ctx context.Context, flowID string) (int, error) {
	var n int
	err := q.c.queryRow(ctx, `SELECT COUNT(*) FROM vigil_flow_execution WHERE flow_id = $1`, []any{flowID}, &n)
	return n, err
}

// DeleteFlowExecutionsEndedBefore deletes up to limit executions (with
// their steps and notes) that ended before t, and returns how many.
func (q *Queries) DeleteFlowExecutionsEndedBefore(ctx context.Context, t time.Time, limit int) (int64, error) {
	var ids []string
	err := q.c.query(ctx, `SELECT id FROM vigil_flow_execution WHERE ended_at < $1 ORDER BY ended_at LIMIT `+strconv.Itoa(limit),
		[]any{t}, func(r *sql.Rows) error {
			var id string
			if err := r.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
			return nil
		})
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	in, args := q.inList(ids, 1)
	// Children first: SQLite enforces the cascade only when foreign keys
	// are on, which the store sets, but deleting explicitly keeps the
	// statement cheap on both databases.
	for _, table := range []string{"vigil_flow_step", "vigil_flow_note", "vigil_flow_approval", "vigil_issue_run"} {
		if _, err := q.c.exec(ctx, `DELETE FROM `+table+` WHERE execution_id IN (`+in+`)`, args...); err != nil {
			return 0, err
		}
	}
	res, err := q.c.exec(ctx, `DELETE FROM vigil_flow_execution WHERE id IN (`+in+`)`, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func flowChanged(res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// FlowStep is a journal record: one task run of an execution.
type FlowStep struct {
	ExecutionID string
	Key         string
	Seq         int
	Reference   string
	Name        string
	Kind        string
	Directive   string
	Skipped     bool
	// Fault is the RFC 7807 error object as JSON ("" if none).
	Fault string
	// StateSealed is the sealed JSON a resume continues from.
	StateSealed string
	// History is the redacted {input, output} as JSON, "" when the flow
	// does not save all data.
	History   string
	StartedAt time.Time
	EndedAt   time.Time
}

// PutFlowStep records a step, replacing an earlier record at the same key.
func (q *Queries) PutFlowStep(ctx context.Context, s *FlowStep) error {
	_, err := q.c.exec(ctx, `INSERT INTO vigil_flow_step (execution_id, step_key, seq, reference, name, kind, directive, skipped,
		fault, state_sealed, history, started_at, ended_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (execution_id, step_key) DO UPDATE SET seq = excluded.seq, reference = excluded.reference, name = excluded.name,
		kind = excluded.kind, directive = excluded.directive, skipped = excluded.skipped, fault = excluded.fault,
		state_sealed = excluded.state_sealed, history = excluded.history, started_at = excluded.started_at, ended_at = excluded.ended_at`,
		s.ExecutionID, s.Key, s.Seq, s.Reference, s.Name, s.Kind, s.Directive, s.Skipped, s.Fault, s.StateSealed, s.History,
		s.StartedAt, s.EndedAt)
	return err
}

// FlowSteps lists an execution's steps in the order they were recorded.
func (q *Queries) FlowSteps(ctx context.Context, executionID string) ([]*FlowStep, error) {
	var out []*FlowStep
	err := q.c.query(ctx, `SELECT step_key, seq, reference, name, kind, directive, skipped, fault, state_sealed, history,
		started_at, ended_at FROM vigil_flow_step WHERE execution_id = $1 ORDER BY seq`, []any{executionID}, func(r *sql.Rows) error {
		s := &FlowStep{ExecutionID: executionID}
		if err := r.Scan(&s.Key, &s.Seq, &s.Reference, &s.Name, &s.Kind, &s.Directive, &s.Skipped, &s.Fault, &s.StateSealed,
			&s.History, scanTime(&s.StartedAt), scanTime(&s.EndedAt)); err != nil {
			return err
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

// FlowNote is an extra history entry of an execution.
type FlowNote struct {
	ExecutionID string
	Seq         int
	Key         string
	Reference   string
	Kind        string
	Message     string
	// Data is redacted JSON ("" if none).
	Data      string
	CreatedAt time.Time
}

// AddFlowNote inserts a note.
func (q *Queries) AddFlowNote(ctx context.Context, n *FlowNote) error {
	_, err := q.c.exec(ctx, `INSERT INTO vigil_flow_note (execution_id, seq, step_key, reference, kind, message, data, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, n.ExecutionID, n.Seq, n.Key, n.Reference, n.Kind, n.Message, n.Data, n.CreatedAt)
	return err
}

// FlowNotes lists an execution's notes in order.
func (q *Queries) FlowNotes(ctx context.Context, executionID string) ([]*FlowNote, error) {
	var out []*FlowNote
	err := q.c.query(ctx, `SELECT seq, step_key, reference, kind, message, data, created_at FROM vigil_flow_note
		WHERE execution_id = $1 ORDER BY seq`, []any{executionID}, func(r *sql.Rows) error {
		n := &FlowNote{ExecutionID: executionID}
		if err := r.Scan(&n.Seq, &n.Key, &n.Reference, &n.Kind, &n.Message, &n.Data, scanTime(&n.CreatedAt)); err != nil {
			return err
		}
		out = append(out, n)
		return nil
	})
	return out, err
}
