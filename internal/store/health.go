package store

import (
	"context"
	"database/sql"
	"time"
)

// FlowHealth is how a flow's runs went lately. Test runs are left out:
// they are watched by whoever started them.
type FlowHealth struct {
	FlowID string
	// LastExecutionID, LastStatus and LastRunAt describe the latest run;
	// empty when the flow never ran.
	LastExecutionID string
	LastStatus      string
	LastRunAt       time.Time
	// Faults counts the runs that faulted since the time asked for.
	Faults int
}

// FlowHealth returns, by flow id, the latest run of every flow that ran
// and the number of its runs that faulted since since.
func (q *Queries) FlowHealth(ctx context.Context, since time.Time) (map[string]*FlowHealth, error) {
	out := map[string]*FlowHealth{}
	get := func(flowID string) *FlowHealth {
		h := out[flowID]
		if h == nil {
			h = &FlowHealth{FlowID: flowID}
			out[flowID] = h
		}
		return h
	}
	err := q.c.query(ctx, `SELECT e.flow_id, e.id, e.status, e.created_at FROM vigil_flow_execution e
		JOIN (SELECT flow_id, MAX(created_at) AS latest FROM vigil_flow_execution WHERE test = FALSE GROUP BY flow_id) l
		  ON l.flow_id = e.flow_id AND l.latest = e.created_at
		WHERE e.test = FALSE`, nil, func(r *sql.Rows) error {
		var flowID, execID, status string
		var at time.Time
		if err := r.Scan(&flowID, &execID, &status, scanTime(&at)); err != nil {
			return err
		}
		h := get(flowID)
		if execID > h.LastExecutionID { // two runs created in the same microsecond: the later id wins
			h.LastExecutionID, h.LastStatus, h.LastRunAt = execID, status, at
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = q.c.query(ctx, `SELECT flow_id, COUNT(*) FROM vigil_flow_execution
		WHERE status = $1 AND test = FALSE AND ended_at >= $2 GROUP BY flow_id`, []any{FlowFaulted, since},
		func(r *sql.Rows) error {
			var flowID string
			var n int
			if err := r.Scan(&flowID, &n); err != nil {
				return err
			}
			get(flowID).Faults = n
			return nil
		})
	return out, err
}

// HookHealth is how an integration's deliveries went lately.
type HookHealth struct {
	HookID string
	// Dead counts the dead-lettered deliveries waiting to be resent.
	Dead int
	// LastAttemptAt is when a delivery was last tried.
	LastAttemptAt time.Time
	// Failures counts the attempts since the time asked for that got no
	// 2xx answer.
	Failures int
}

// HookHealth returns, by integration id, the dead letters, the last
// attempt and the failed attempts since since of every integration with
// deliveries.
func (q *Queries) HookHealth(ctx context.Context, since time.Time) (map[string]*HookHealth, error) {
	out := map[string]*HookHealth{}
	get := func(hookID string) *HookHealth {
		h := out[hookID]
		if h == nil {
			h = &HookHealth{HookID: hookID}
			out[hookID] = h
		}
		return h
	}
	err := q.c.query(ctx, `SELECT hook_id, SUM(CASE WHEN status = $1 THEN 1 ELSE 0 END), MAX(last_attempt_at)
		FROM vigil_hook_delivery GROUP BY hook_id`, []any{HookDeliveryDead}, func(r *sql.Rows) error {
		var hookID string
		var dead int
		var last time.Time
		if err := r.Scan(&hookID, &dead, scanTime(&last)); err != nil {
			return err
		}
		h := get(hookID)
		h.Dead, h.LastAttemptAt = dead, last
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = q.c.query(ctx, `SELECT d.hook_id, COUNT(*) FROM vigil_hook_attempt a JOIN vigil_hook_delivery d ON d.id = a.delivery_id
		WHERE a.started_at >= $1 AND (a.status_code < 200 OR a.status_code > 299) GROUP BY d.hook_id`, []any{since},
		func(r *sql.Rows) error {
			var hookID string
			var n int
			if err := r.Scan(&hookID, &n); err != nil {
				return err
			}
			get(hookID).Failures = n
			return nil
		})
	return out, err
}
