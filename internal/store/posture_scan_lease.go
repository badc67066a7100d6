package store

import (
	"context"
	"database/sql"
	"time"
)

// LeasePostureScan records, or renews, that a live worker runs the scan
// until the given time. On PostgreSQL it names the node lock this store
// holds beside it, so that the scan of a node that dies is recovered at
// once (AbandonedPostureScans) rather than once its lease runs out.
func (q *Queries) LeasePostureScan(ctx context.Context, scanID string, jobID int64, until time.Time) error {
	_, err := q.c.exec(ctx, `INSERT INTO vigil_posture_scan_lease (scan_id, job_id, leased_until) VALUES ($1, $2, $3)
		ON CONFLICT (scan_id) DO UPDATE SET leased_until = excluded.leased_until`, scanID, jobID, until)
	if node := q.owner.get(); err == nil && node != 0 {
		_, err = q.c.exec(ctx, `INSERT INTO vigil_lease_owner (kind, id, node) VALUES ('scan', $1, $2)
			ON CONFLICT (kind, id) DO UPDATE SET node = excluded.node`, scanID, node)
	}
	return err
}

// RenewPostureScan extends the lease of a running scan until the given
// time. It reports false, changing nothing, when the scan holds no lease:
// recovery judged its worker dead (the lease ran out before a renewal) and
// took the lease away, and a late renewal must not put back a lease that
// nothing would then remove.
func (q *Queries) RenewPostureScan(ctx context.Context, scanID string, until time.Time) (bool, error) {
	res, err := q.c.exec(ctx, `UPDATE vigil_posture_scan_lease SET leased_until = $2 WHERE scan_id = $1`, scanID, until)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// ReleasePostureScan drops the lease of a scan that ended.
func (q *Queries) ReleasePostureScan(ctx context.Context, scanID string) error {
	_, err := q.c.exec(ctx, `DELETE FROM vigil_posture_scan_lease WHERE scan_id = $1`, scanID)
	return err
}

// ReleaseEndedPostureScans drops the leases of scans no longer running
// and returns how many: a process that died after its scan ended but
// before it dropped the lease (or an older version, which did that in a
// transaction of its own) left them. Renewals only extend a lease that
// exists, so none comes back.
func (q *Queries) ReleaseEndedPostureScans(ctx context.Context) (int64, error) {
	res, err := q.c.exec(ctx, `DELETE FROM vigil_posture_scan_lease WHERE NOT EXISTS (SELECT 1 FROM vigil_posture_scan s
		WHERE s.id = vigil_posture_scan_lease.scan_id AND s.status = 'running')`)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// AbandonedPostureScan is a scan left running by a worker that died.
type AbandonedPostureScan struct {
	ID            string
	Trigger       string
	RequestedJSON string
	// JobID is the River job that ran the scan; 0 when none did.
	JobID int64
	// StartedAt is when the scan started.
	StartedAt time.Time
}

// AbandonedPostureScans returns the scans still marked running whose lease
// ran out: before now for a scan the command line runs, before jobsNow for
// one a job runs (a server that knows it is alone passes a time far ahead,
// for every job's worker died with the previous process); on PostgreSQL
// also those whose node no longer holds its node lock. Scans that never
// got a lease count when they started before unleasedBefore (the worker
// died between recording the scan and leasing it, or an older version ran
// it).
func (q *Queries) AbandonedPostureScans(ctx context.Context, now, jobsNow, unleasedBefore time.Time) ([]AbandonedPostureScan, error) {
	var out []AbandonedPostureScan
	err := q.c.query(ctx, `SELECT s.id, s.trigger_kind, s.requested, COALESCE(l.job_id, 0), s.started_at
		FROM vigil_posture_scan s LEFT JOIN vigil_posture_scan_lease l ON l.scan_id = s.id
		WHERE s.status = 'running' AND ((l.scan_id IS NOT NULL AND l.job_id = 0 AND l.leased_until < $1)
			OR (l.scan_id IS NOT NULL AND l.job_id <> 0 AND l.leased_until < $2)
			OR (l.scan_id IS NOT NULL AND `+q.ownerGone("scan", "s.id")+`)
			OR (l.scan_id IS NULL AND s.started_at < $3))
		ORDER BY s.started_at`, []any{now, jobsNow, unleasedBefore}, func(r *sql.Rows) error {
		var a AbandonedPostureScan
		if err := r.Scan(&a.ID, &a.Trigger, &a.RequestedJSON, &a.JobID, scanTime(&a.StartedAt)); err != nil {
			return err
		}
		out = append(out, a)
		return nil
	})
	return out, err
}

// DiscardDeadJob moves a River job that is marked running but whose worker
// died to the discarded state, so that it no longer counts as a duplicate
// of a new job with the same arguments. (River itself would only rescue it
// once the worker's timeout had passed.) It reports whether the job was
// still running. It writes River's river_job table through the columns of
// River's stable schema, as River's own cancellation does.
func (q *Queries) DiscardDeadJob(ctx context.Context, jobID int64) (bool, error) {
	now := `now()`
	if q.d == SQLite {
		now = `datetime('now', 'subsec')`
	}
	res, err := q.c.exec(ctx, `UPDATE river_job SET state = 'discarded', finalized_at = `+now+`
		WHERE id = $1 AND state = 'running'`, jobID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// DiscardScanJob discards the River job that ran a scan, started at
// scanStart, whose worker died, as DiscardDeadJob does, and reports
// whether the scan needs a new job. On PostgreSQL the job may have been
// handed back since (RescueJobsOfDeadNodes): waiting to run, or running
// again in an attempt that began after the scan, it runs the scan anew
// itself (or did, when that attempt completed), so it is left alone and
// no new job is needed; discarding it
// would cut a live attempt off from River and run the scan twice. On
// SQLite, whose only server hands back jobs after this recovery, the job
// still running is always the dead attempt.
func (q *Queries) DiscardScanJob(ctx context.Context, jobID int64, scanStart time.Time) (bool, error) {
	if q.d == SQLite {
		if _, err := q.DiscardDeadJob(ctx, jobID); err != nil {
			return false, err
		}
		return true, nil
	}
	res, err := q.c.exec(ctx, `UPDATE river_job SET state = 'discarded', finalized_at = now()
		WHERE id = $1 AND state = 'running' AND attempted_at <= $2`, jobID, scanStart)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return n > 0, err
	}
	var carriesOn bool
	err = q.c.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM river_job WHERE id = $1
		AND (state IN ('available', 'pending', 'scheduled', 'retryable', 'running') OR (state = 'completed' AND attempted_at > $2)))`,
		[]any{jobID, scanStart}, &carriesOn)
	return !carriesOn, err
}

// DeadJob is a River job marked running whose worker is gone.
type DeadJob struct {
	ID int64
	// ArgsJSON is the job's arguments.
	ArgsJSON []byte
}

// OrphanedScanJobs returns the River jobs of kind (the scan job) marked
// running that no running scan belongs to: their worker died before it
// recorded its scan, or after the scan ended but before River recorded the
// job completed. Until River rescues them, after the job's timeout (hours),
// each stands as the duplicate of every later scan of the same sources, so
// that asking for a scan does nothing.
//
// A zero quietSince takes every such job: the caller is the only server and
// no worker of its own runs yet. Otherwise, on PostgreSQL only, it takes
// those first attempted before quietSince, and none while a scan ended
// after quietSince, so that a live job between the end of its scan and
// River's record of its completion is not taken; on SQLite, whose only
// server checks at start, it then returns nothing.
func (q *Queries) OrphanedScanJobs(ctx context.Context, kind string, quietSince time.Time) ([]DeadJob, error) {
	args := []any{kind}
	argsJSON, cond := `j.args::text`, ``
	if q.d == SQLite {
		if !quietSince.IsZero() {
			return nil, nil
		}
		argsJSON = `json(j.args)`
	} else if !quietSince.IsZero() {
		args = append(args, quietSince)
		cond = ` AND j.attempted_at < $2
			AND NOT EXISTS (SELECT 1 FROM vigil_posture_scan s WHERE s.status <> 'running' AND s.finished_at >= $2)`
	}
	var out []DeadJob
	err := q.c.query(ctx, `SELECT j.id, `+argsJSON+` FROM river_job j
		WHERE j.kind = $1 AND j.state = 'running'`+cond+`
			AND NOT EXISTS (SELECT 1 FROM vigil_posture_scan_lease l JOIN vigil_posture_scan s ON s.id = l.scan_id
				WHERE l.job_id = j.id AND s.status = 'running')
		ORDER BY j.id`, args, func(r *sql.Rows) error {
		var d DeadJob
		if err := r.Scan(&d.ID, &d.ArgsJSON); err != nil {
			return err
		}
		out = append(out, d)
		return nil
	})
	return out, err
}
