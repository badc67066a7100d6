package store

import (
	"context"
	"database/sql"
	"time"
)

// Node is one 'vigil serve' process as it registered itself.
type Node struct {
	ID       string
	Role     string
	Version  string
	Hostname string
	Addr     string
	// StartedAt is when the process started; HeartbeatAt when it last
	// said it is alive.
	StartedAt   time.Time
	HeartbeatAt time.Time
	// Running is what the node worked at its last heartbeat: executions
	// in-process and jobs.
	Running int
	// Draining says the node is stopping: it takes no new work.
	Draining bool
}

// PutNode registers a node, or renews its heartbeat and counts.
func (q *Queries) PutNode(ctx context.Context, n Node) error {
	_, err := q.c.exec(ctx, `INSERT INTO vigil_node (id, role, version, hostname, addr, started_at, heartbeat_at, running, draining)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (id) DO UPDATE SET role = excluded.role, version = excluded.version, hostname = excluded.hostname,
			addr = excluded.addr, heartbeat_at = excluded.heartbeat_at, running = excluded.running, draining = excluded.draining`,
		n.ID, n.Role, n.Version, n.Hostname, n.Addr, n.StartedAt, n.HeartbeatAt, n.Running, n.Draining)
	return err
}

// DeleteNode removes a node that stopped.
func (q *Queries) DeleteNode(ctx context.Context, id string) error {
	_, err := q.c.exec(ctx, `DELETE FROM vigil_node WHERE id = $1`, id)
	return err
}

// DeleteStaleNodes removes the nodes whose last heartbeat is before
// before (they died without saying so) and returns how many.
func (q *Queries) DeleteStaleNodes(ctx context.Context, before time.Time) (int64, error) {
	res, err := q.c.exec(ctx, `DELETE FROM vigil_node WHERE heartbeat_at < $1`, before)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Nodes returns every registered node, oldest first.
func (q *Queries) Nodes(ctx context.Context) ([]Node, error) {
	var out []Node
	err := q.c.query(ctx, `SELECT id, role, version, hostname, addr, started_at, heartbeat_at, running, draining
		FROM vigil_node ORDER BY started_at, id`, nil, func(r *sql.Rows) error {
		var n Node
		if err := r.Scan(&n.ID, &n.Role, &n.Version, &n.Hostname, &n.Addr, scanTime(&n.StartedAt), scanTime(&n.HeartbeatAt),
			&n.Running, &n.Draining); err != nil {
			return err
		}
		out = append(out, n)
		return nil
	})
	return out, err
}

// QueueDepth counts the jobs waiting to be worked, cluster-wide: available
// now, scheduled for later or waiting to be retried.
func (q *Queries) QueueDepth(ctx context.Context) (int, error) {
	var n int
	err := q.c.queryRow(ctx, `SELECT COUNT(*) FROM river_job WHERE state IN ('available', 'scheduled', 'retryable')`, nil, &n)
	return n, err
}

// RescueJobsOfDeadNodes hands back to the queue the River jobs a dead
// node was working: jobs still marked running whose last worker is a
// registered node with no heartbeat since staleBefore, or a node whose
// node lock is gone (see NodeLock.OwnJobs). River would rescue
// them itself only after its stuck-job timeout (an hour); a job whose
// worker died is safe to run again at once, since every job kind guards
// its work with a lease or a generation. Jobs out of attempts are left to
// River. It returns how many jobs it handed back. PostgreSQL only (SQLite
// has one node, which hands back every running job at start with
// RescueRunningJobs).
func (q *Queries) RescueJobsOfDeadNodes(ctx context.Context, staleBefore time.Time) (int64, error) {
	if q.d != Postgres {
		return 0, nil
	}
	worker := `river_job.attempted_by[array_length(river_job.attempted_by, 1)]`
	return q.rescueJobs(ctx, `(`+worker+` IN (SELECT id FROM vigil_node WHERE heartbeat_at < $1) OR `+q.ownerGone("node", worker)+`)`, staleBefore)
}

// RescueRunningJobs hands back to the queue every River job marked
// running, for a server that knows it is alone on its database (SQLite's
// data directory lock) and calls it before its workers start: each such
// job's worker died with the previous process. Without it, a job killed
// between River taking it and its worker taking the lease of its delivery
// or execution would stay running until River's stuck-job timeout, and its
// work with it. Jobs out of attempts are left to River, as in
// RescueJobsOfDeadNodes. It returns how many jobs it handed back.
func (q *Queries) RescueRunningJobs(ctx context.Context) (int64, error) {
	return q.rescueJobs(ctx, `1 = 1`)
}

// rescueJobs makes the running jobs that cond selects, and that have
// attempts left, available to run again now. It writes River's river_job
// table through the columns of River's stable schema, as DiscardDeadJob
// does.
func (q *Queries) rescueJobs(ctx context.Context, cond string, args ...any) (int64, error) {
	now := `now()`
	if q.d == SQLite {
		now = `datetime('now', 'subsec')`
	}
	res, err := q.c.exec(ctx, `UPDATE river_job SET state = 'available', scheduled_at = `+now+`
		WHERE state = 'running' AND attempt < max_attempts AND `+cond, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
