package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"
)

// AuditEntry is one row of the audit log: who did what to which record,
// when, from where and with what outcome. Details is a JSON object that
// names what changed; it never holds a secret value.
type AuditEntry struct {
	ID         string
	At         time.Time
	ActorKind  string
	ActorID    string
	ActorName  string
	TokenName  string
	Address    string
	Action     string
	TargetKind string
	TargetID   string
	TargetName string
	Outcome    string
	Details    string
}

const auditCols = `id, at, actor_kind, actor_id, actor_name, token_name, address, action, target_kind, target_id, target_name, outcome, details`

// CreateAuditEntry inserts e.
func (q *Queries) CreateAuditEntry(ctx context.Context, e *AuditEntry) error {
	details := e.Details
	if details == "" {
		details = "{}"
	}
	_, err := q.c.exec(ctx, `INSERT INTO vigil_audit (`+auditCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		e.ID, e.At, e.ActorKind, e.ActorID, e.ActorName, e.TokenName, e.Address, e.Action,
		e.TargetKind, e.TargetID, e.TargetName, e.Outcome, details)
	return err
}

// AuditFilter selects audit rows. Its zero value selects every row, newest
// first, in pages of Limit (0 means no limit).
type AuditFilter struct {
	// Actor matches the actor's user name or user id exactly.
	Actor string
	// ActionPrefix matches an action equal to it or starting with it and a
	// dot: "flow" matches "flow.enable" but not "flows.x".
	ActionPrefix string
	// Since and Until bound the time: Since <= at < Until; zero is open.
	Since, Until time.Time
	// Before returns only rows written before the row with this id, for
	// paging.
	Before string
	Limit  int
}

// AuditEntries returns the rows f selects, the last written first.
func (q *Queries) AuditEntries(ctx context.Context, f AuditFilter) ([]*AuditEntry, error) {
	var where []string
	var args []any
	// add appends a condition whose every "?" stands for the one value v.
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.Actor != "" {
		add(`(actor_name = ? OR actor_id = ?)`, f.Actor)
	}
	if p := strings.TrimSuffix(f.ActionPrefix, "."); p != "" {
		add(`action = ?`, p)
		where[len(where)-1] = `(` + where[len(where)-1] + ` OR action LIKE $` + strconv.Itoa(len(args)+1) + ` ESCAPE '\')`
		args = append(args, likeEscape(p)+".%")
	}
	if !f.Since.IsZero() {
		add(`at >= ?`, f.Since)
	}
	if !f.Until.IsZero() {
		add(`at < ?`, f.Until)
	}
	if f.Before != "" {
		add(`seq < (SELECT seq FROM vigil_audit WHERE id = ?)`, f.Before)
	}
	sqlText := `SELECT ` + auditCols + ` FROM vigil_audit`
	if len(where) > 0 {
		sqlText += ` WHERE ` + strings.Join(where, ` AND `)
	}
	sqlText += ` ORDER BY seq DESC`
	if f.Limit > 0 {
		sqlText += ` LIMIT ` + strconv.Itoa(f.Limit)
	}
	var out []*AuditEntry
	err := q.c.query(ctx, sqlText, args, func(r *sql.Rows) error {
		var e AuditEntry
		if err := r.Scan(&e.ID, scanTime(&e.At), &e.ActorKind, &e.ActorID, &e.ActorName, &e.TokenName, &e.Address,
			&e.Action, &e.TargetKind, &e.TargetID, &e.TargetName, &e.Outcome, &e.Details); err != nil {
			return err
		}
		out = append(out, &e)
		return nil
	})
	return out, err
}
