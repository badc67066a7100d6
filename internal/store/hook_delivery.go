package store

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"time"
)

// HookEvent is an event in the outbox. Payload is the exact JSON body that
// every attempt sends and signs.
type HookEvent struct {
	ID        string
	Type      string
	IssueID   string
	Title     string
	Payload   string
	CreatedAt time.Time
}

// CreateHookEvent inserts e; ErrConflict if its id was already published.
func (q *Queries) CreateHookEvent(ctx context.Context, e *HookEvent) error {
	_, err := q.c.exec(ctx, `INSERT INTO vigil_hook_event (id, type, issue_id, title, payload, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		e.ID, e.Type, e.IssueID, e.Title, e.Payload, e.CreatedAt)
	return err
}

// HookEventPayload returns the JSON body of an event, or ErrNotFound.
func (q *Queries) HookEventPayload(ctx context.Context, id string) (string, error) {
	var p string
	err := q.c.queryRow(ctx, `SELECT payload FROM vigil_hook_event WHERE id = $1`, []any{id}, &p)
	return p, err
}

// Delivery states.
const (
	HookDeliveryPending   = "pending"
	HookDeliveryDelivered = "delivered"
	HookDeliveryHeld      = "held"
	HookDeliveryDead      = "dead"
)

// HookDelivery is one (event, integration) pair and where its delivery stands.
type HookDelivery struct {
	ID            string
	EventID       string
	HookID        string
	IssueID       string
	EventType     string
	Title         string
	Status        string
	Generation    int
	RoundAttempts int
	Attempts      int
	NextAttemptAt time.Time
	LeasedUntil   time.Time
	LastAttemptAt time.Time
	LastStatus    int
	LastError     string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// JobID is the River job of the current generation (0 if unknown).
	JobID int64
}

const hookDeliveryCols = `id, event_id, hook_id, issue_id, event_type, title, status, generation, round_attempts, attempts,
	next_attempt_at, leased_until, last_attempt_at, last_status_code, last_error, created_at, updated_at, job_id`

func scanHookDelivery(scan func(...any) error) (*HookDelivery, error) {
	var d HookDelivery
	err := scan(&d.ID, &d.EventID, &d.HookID, &d.IssueID, &d.EventType, &d.Title, &d.Status, &d.Generation,
		&d.RoundAttempts, &d.Attempts, scanTime(&d.NextAttemptAt), scanTime(&d.LeasedUntil), scanTime(&d.LastAttemptAt),
		&d.LastStatus, &d.LastError, scanTime(&d.CreatedAt), scanTime(&d.UpdatedAt), &d.JobID)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

func (q *Queries) hookDeliveries(ctx context.Context, query string, args []any) ([]*HookDelivery, error) {
	var out []*HookDelivery
	err := q.c.query(ctx, query, args, appendHookDeliveries(&out))
	return out, err
}

// appendHookDeliveries is a row scanner that appends each delivery to out.
func appendHookDeliveries(out *[]*HookDelivery) func(*sql.Rows) error {
	return func(r *sql.Rows) error {
		d, err := scanHookDelivery(r.Scan)
		if err == nil {
			*out = append(*out, d)
		}
		return err
	}
}

// CreateHookDelivery inserts d; ErrConflict if the event already has a
// delivery to that integration. A delivery created leased (LeasedUntil
// set: the publishing node sends it itself) names this node as the
// lease's owner on PostgreSQL, as ClaimHookDelivery does, so that it is
// recovered as soon as the node dies; call it in a transaction then.
func (q *Queries) CreateHookDelivery(ctx context.Context, d *HookDelivery) error {
	_, err := q.c.exec(ctx, `INSERT INTO vigil_hook_delivery (`+hookDeliveryCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
		d.ID, d.EventID, d.HookID, d.IssueID, d.EventType, d.Title, d.Status, d.Generation, d.RoundAttempts, d.Attempts,
		d.NextAttemptAt, d.LeasedUntil, d.LastAttemptAt, d.LastStatus, d.LastError, d.CreatedAt, d.UpdatedAt, d.JobID)
	if err != nil || d.LeasedUntil.IsZero() {
		return err
	}
	if node := q.owner.get(); node != 0 {
		_, err = q.c.exec(ctx, `INSERT INTO vigil_lease_owner (kind, id, node) VALUES ('delivery', $1, $2)
			ON CONFLICT (kind, id) DO UPDATE SET node = excluded.node`, d.ID, node)
	}
	return err
}

// HookDelivery returns a delivery by id, or ErrNotFound.
func (q *Queries) HookDelivery(ctx context.Context, id string) (*HookDelivery, error) {
	ds, err := q.hookDeliveries(ctx, `SELECT `+hookDeliveryCols+` FROM vigil_hook_delivery WHERE id = $1`, []any{id})
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, ErrNotFound
	}
	return ds[0], nil
}

// HookDeliveryFilter selects deliveries; empty fields match everything.
type HookDeliveryFilter struct {
	HookID  string
	IssueID string
	EventID string
	Status  string
	// BeforeID pages backwards: only deliveries with a smaller id (older).
	BeforeID string
	// Limit caps the rows returned; zero means 100.
	Limit int
}

// HookDeliveries lists deliveries matching f, newest first.
func (q *Queries) HookDeliveries(ctx context.Context, f HookDeliveryFilter) ([]*HookDelivery, error) {
	var where []string
	var args []any
	add := func(cond string, v string) {
		if v == "" {
			return
		}
		args = append(args, v)
		where = append(where, cond+" $"+strconv.Itoa(len(args)))
	}
	add("hook_id =", f.HookID)
	add("issue_id =", f.IssueID)
	add("event_id =", f.EventID)
	add("status =", f.Status)
	add("id <", f.BeforeID)
	query := `SELECT ` + hookDeliveryCols + ` FROM vigil_hook_delivery`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	query += " ORDER BY id DESC LIMIT " + strconv.Itoa(limit)
	return q.hookDeliveries(ctx, query, args)
}

// HookDeliveryCounts returns how many deliveries of an integration are in
// each state.
func (q *Queries) HookDeliveryCounts(ctx context.Context, hookID string) (map[string]int, error) {
	out := map[string]int{}
	err := q.c.query(ctx, `SELECT status, COUNT(*) FROM vigil_hook_delivery WHERE hook_id = $1 GROUP BY status`, []any{hookID},
		func(r *sql.Rows) error {
			var s string
			var n int
			if err := r.Scan(&s, &n); err != nil {
				return err
			}
			out[s] = n
			return nil
		})
	return out, err
}

// ClaimHookDelivery takes the lease of a pending delivery of the given
// generation until leaseUntil, if no live lease is held. It returns
// ErrNotFound when there is nothing to claim: the delivery is gone, done,
// held, of another generation or leased by a live worker.
func (q *Queries) ClaimHookDelivery(ctx context.Context, id string, generation int, now, leaseUntil time.Time) (*HookDelivery, error) {
	claim := `UPDATE vigil_hook_delivery SET leased_until = $4
		WHERE id = $1 AND generation = $2 AND status = 'pending' AND (leased_until IS NULL OR leased_until < $3)
		RETURNING ` + hookDeliveryCols
	args := []any{id, generation, now, leaseUntil}
	if node := q.owner.get(); node != 0 {
		// The owner is written in the same statement as the lease, so a
		// lease never names a previous holder.
		claim = `WITH c AS (` + claim + `), o AS (INSERT INTO vigil_lease_owner (kind, id, node) SELECT 'delivery', id, $5 FROM c
			ON CONFLICT (kind, id) DO UPDATE SET node = excluded.node) SELECT ` + hookDeliveryCols + ` FROM c`
		args = append(args, node)
	}
	var ds []*HookDelivery
	err := q.c.queryWrite(ctx, claim, args, appendHookDeliveries(&ds))
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, ErrNotFound
	}
	return ds[0], nil
}

// RenewHookDeliveryLease extends, until leaseUntil, the lease of a pending
// delivery of the given generation that still ends at heldUntil: the
// lease its holder took, not run out and taken again since. It reports
// false, changing nothing, otherwise (the delivery was recovered, queued
// anew, held or deleted meanwhile).
func (q *Queries) RenewHookDeliveryLease(ctx context.Context, id string, generation int, heldUntil, leaseUntil time.Time) (bool, error) {
	res, err := q.c.exec(ctx, `UPDATE vigil_hook_delivery SET leased_until = $4
		WHERE id = $1 AND generation = $2 AND status = 'pending' AND leased_until = $3`, id, generation, heldUntil, leaseUntil)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// HookDeliveryResult is the outcome of one attempt, applied to its delivery.
type HookDeliveryResult struct {
	ID            string
	Generation    int
	Status        string
	NextAttemptAt time.Time
	AttemptAt     time.Time
	StatusCode    int
	Error         string
	Now           time.Time
}

// FinishHookDelivery records an attempt's outcome on its delivery and
// releases the lease. It reports false, changing nothing, when the delivery
// has moved to another generation meanwhile (it was queued anew).
func (q *Queries) FinishHookDelivery(ctx context.Context, r *HookDeliveryResult) (bool, error) {
	res, err := q.c.exec(ctx, `UPDATE vigil_hook_delivery SET status = $3, round_attempts = round_attempts + 1,
		attempts = attempts + 1, next_attempt_at = $4, leased_until = NULL, last_attempt_at = $5,
		last_status_code = $6, last_error = $7, updated_at = $8 WHERE id = $1 AND generation = $2`,
		r.ID, r.Generation, r.Status, r.NextAttemptAt, r.AttemptAt, r.StatusCode, r.Error, r.Now)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// SetHookDeliveryStatus moves a delivery of the given generation to status
// and releases its lease, without recording an attempt.
func (q *Queries) SetHookDeliveryStatus(ctx context.Context, id string, generation int, status string, now time.Time) error {
	_, err := q.c.exec(ctx, `UPDATE vigil_hook_delivery SET status = $3, leased_until = NULL, updated_at = $4
		WHERE id = $1 AND generation = $2`, id, generation, status, now)
	return err
}

// ReleaseHookDelivery gives up the lease of a delivery of the given
// generation without an attempt, its next attempt due at next.
func (q *Queries) ReleaseHookDelivery(ctx context.Context, id string, generation int, next, now time.Time) error {
	_, err := q.c.exec(ctx, `UPDATE vigil_hook_delivery SET leased_until = NULL, next_attempt_at = $3, updated_at = $4
		WHERE id = $1 AND generation = $2`, id, generation, next, now)
	return err
}

// HoldHookDeliveries moves an integration's pending deliveries to held.
func (q *Queries) HoldHookDeliveries(ctx context.Context, hookID string, now time.Time) (int64, error) {
	res, err := q.c.exec(ctx, `UPDATE vigil_hook_delivery SET status = 'held', updated_at = $2
		WHERE hook_id = $1 AND status = 'pending' AND (leased_until IS NULL OR leased_until < $3)`, hookID, now, now)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// HookJobRef names a delivery generation that needs a job.
type HookJobRef struct {
	DeliveryID string
	HookID     string
	Generation int
	// At is when the job is due, at once when zero (as the queries here
	// return it).
	At time.Time
}

func (q *Queries) hookJobRefs(ctx context.Context, query string, args []any) ([]HookJobRef, error) {
	var out []HookJobRef
	err := q.c.query(ctx, query, args, func(r *sql.Rows) error {
		var ref HookJobRef
		if err := r.Scan(&ref.DeliveryID, &ref.HookID, &ref.Generation); err != nil {
			return err
		}
		out = append(out, ref)
		return nil
	})
	return out, err
}

// RequeueHookDeliveries starts a new round for an integration's held and
// pending deliveries that no live worker holds: new generation, attempts
// counted from zero, due now. The caller inserts one job per returned ref.
func (q *Queries) RequeueHookDeliveries(ctx context.Context, hookID string, now time.Time) ([]HookJobRef, error) {
	return q.hookJobRefs(ctx, `UPDATE vigil_hook_delivery SET status = 'pending', generation = generation + 1,
		round_attempts = 0, next_attempt_at = $2, leased_until = NULL, updated_at = $3
		WHERE hook_id = $1 AND status IN ('held', 'pending') AND (leased_until IS NULL OR leased_until < $4)
		RETURNING id, hook_id, generation`, []any{hookID, now, now, now})
}

// ResendHookDelivery starts a new round for one delivery whatever its
// state, unless a live worker holds it (then ErrNotFound, as for an unknown id).
func (q *Queries) ResendHookDelivery(ctx context.Context, id string, now time.Time) (HookJobRef, error) {
	refs, err := q.hookJobRefs(ctx, `UPDATE vigil_hook_delivery SET status = 'pending', generation = generation + 1,
		round_attempts = 0, next_attempt_at = $2, leased_until = NULL, updated_at = $3
		WHERE id = $1 AND (leased_until IS NULL OR leased_until < $4)
		RETURNING id, hook_id, generation`, []any{id, now, now, now})
	if err != nil {
		return HookJobRef{}, err
	}
	if len(refs) == 0 {
		return HookJobRef{}, ErrNotFound
	}
	return refs[0], nil
}

// SetHookDeliveryJob records the River job of a delivery generation.
func (q *Queries) SetHookDeliveryJob(ctx context.Context, id string, generation int, jobID int64) error {
	_, err := q.c.exec(ctx, `UPDATE vigil_hook_delivery SET job_id = $3 WHERE id = $1 AND generation = $2`, id, generation, jobID)
	return err
}

// RecoverHookDeliveries gives a new generation to the pending deliveries
// whose job was lost: those whose lease ran out (the worker died during the
// attempt), and those nobody leased that have been overdue and untouched
// since before staleBefore while their River job is no longer waiting to
// run (the worker died between taking the job and leasing the delivery, or
// River gave up on the job). A job that is only waiting in a long queue is
// left alone. The caller inserts one job per returned ref. A lease counts
// as run out when it ends before leaseBefore: now, or later for a caller
// that knows every worker holding a lease has died (a server alone on its
// database, at start); on PostgreSQL also when the node that took it no
// longer holds its node lock.
//
// It reads River's river_job table, whose id and state columns are part of
// River's stable schema.
func (q *Queries) RecoverHookDeliveries(ctx context.Context, now, leaseBefore, staleBefore time.Time) ([]HookJobRef, error) {
	return q.hookJobRefs(ctx, `UPDATE vigil_hook_delivery SET generation = generation + 1, leased_until = NULL, updated_at = $1
		WHERE status = 'pending' AND ((leased_until IS NOT NULL AND (leased_until < $2 OR `+q.ownerGone("delivery", "vigil_hook_delivery.id")+`))
			OR (leased_until IS NULL AND next_attempt_at < $3 AND updated_at < $4 AND NOT EXISTS (
				SELECT 1 FROM river_job j WHERE j.id = vigil_hook_delivery.job_id
				AND j.state IN ('available', 'pending', 'retryable', 'scheduled'))))
		RETURNING id, hook_id, generation`, []any{now, leaseBefore, staleBefore, staleBefore})
}

// HookAttempt is one HTTP attempt of a delivery.
type HookAttempt struct {
	ID                string
	DeliveryID        string
	Generation        int
	StartedAt         time.Time
	LatencyMS         int64
	StatusCode        int
	Response          []byte
	ResponseTruncated bool
	ErrorKind         string
	Error             string
	// Request is the request sent, secrets masked: a JSON object of the
	// method, URL and headers; empty for attempts from before it was kept.
	Request string
}

// CreateHookAttempt inserts an attempt record, with the request it sent
// when a.Request is set; call it in a transaction so both are kept or
// neither.
func (q *Queries) CreateHookAttempt(ctx context.Context, a *HookAttempt) error {
	resp := a.Response
	if resp == nil {
		resp = []byte{}
	}
	_, err := q.c.exec(ctx, `INSERT INTO vigil_hook_attempt (id, delivery_id, generation, started_at, latency_ms, status_code,
		response, response_truncated, error_kind, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		a.ID, a.DeliveryID, a.Generation, a.StartedAt, a.LatencyMS, a.StatusCode, resp, a.ResponseTruncated, a.ErrorKind, a.Error)
	if err != nil || a.Request == "" {
		return err
	}
	_, err = q.c.exec(ctx, `INSERT INTO vigil_hook_attempt_request (attempt_id, delivery_id, request, created_at) VALUES ($1, $2, $3, $4)`,
		a.ID, a.DeliveryID, a.Request, a.StartedAt)
	return err
}

// HookAttempts lists the attempts of the given deliveries, oldest first:
// a page of deliveries reads its attempts in one query, not one a delivery.
func (q *Queries) HookAttempts(ctx context.Context, deliveryIDs ...string) ([]*HookAttempt, error) {
	var out []*HookAttempt
	for start := 0; start < len(deliveryIDs); start += maxInList {
		marks, args := q.inList(deliveryIDs[start:min(start+maxInList, len(deliveryIDs))], 1)
		err := q.c.query(ctx, `SELECT a.id, a.delivery_id, a.generation, a.started_at, a.latency_ms, a.status_code, a.response,
			a.response_truncated, a.error_kind, a.error, COALESCE(r.request, '')
			FROM vigil_hook_attempt a LEFT JOIN vigil_hook_attempt_request r ON r.attempt_id = a.id
			WHERE a.delivery_id IN (`+marks+`) ORDER BY a.started_at, a.id`,
			args, func(r *sql.Rows) error {
				var a HookAttempt
				if err := r.Scan(&a.ID, &a.DeliveryID, &a.Generation, scanTime(&a.StartedAt), &a.LatencyMS, &a.StatusCode,
					&a.Response, &a.ResponseTruncated, &a.ErrorKind, &a.Error, &a.Request); err != nil {
					return err
				}
				out = append(out, &a)
				return nil
			})
		if err != nil {
			return nil, err
		}
	}
	if len(deliveryIDs) > maxInList { // the chunks' orders interleave
		slices.SortStableFunc(out, func(a, b *HookAttempt) int {
			return cmp.Or(a.StartedAt.Compare(b.StartedAt), strings.Compare(a.ID, b.ID))
		})
	}
	return out, nil
}

// HookIssuesSent returns the ids of the issues an integration has a
// delivery of, in any state.
func (q *Queries) HookIssuesSent(ctx context.Context, hookID string) (map[string]bool, error) {
	out := map[string]bool{}
	err := q.c.query(ctx, `SELECT DISTINCT issue_id FROM vigil_hook_delivery WHERE hook_id = $1 AND issue_id <> ''`, []any{hookID},
		func(r *sql.Rows) error {
			var id string
			if err := r.Scan(&id); err != nil {
				return err
			}
			out[id] = true
			return nil
		})
	return out, err
}
