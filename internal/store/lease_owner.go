package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
)

// nodeLockSpace is the first key of the advisory locks that tell which
// nodes are alive; the second key is the node's own. (The migration lock
// uses the one-key form, a space of its own.)
const nodeLockSpace = 7126354

// liveNodes lists the nodes of this database that hold their lock now.
const liveNodes = `SELECT l.objid::bigint FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted
	AND l.classid = 7126354 AND l.objsubid = 2
	AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`

// leaseOwner is the node key this process writes beside the leases it
// takes; 0 (SQLite, a management command) writes none.
type leaseOwner struct{ node atomic.Int64 }

func (o *leaseOwner) get() int64 {
	if o == nil {
		return 0
	}
	return o.node.Load()
}

// NodeLock is a PostgreSQL session advisory lock a server holds on a
// connection of its own for as long as it lives, so that other nodes can
// tell its leases from those of a node that died: PostgreSQL drops the
// lock the moment the process's connection closes, which a crash or kill
// does at once. While it is held, every lease this store takes names it.
type NodeLock struct {
	st   *Store
	mu   sync.Mutex
	conn *pgx.Conn
	key  int64
}

// HoldNodeLock takes a node lock under a random key not held by another
// node. On SQLite it returns nil: the data directory lock already makes a
// server alone, and every lease it finds at start is a dead process's.
func (s *Store) HoldNodeLock(ctx context.Context) (*NodeLock, error) {
	if s.dialect != Postgres {
		return nil, nil
	}
	for range 20 {
		key := rand.Int64N(1<<31-2) + 1 //nolint:gosec // G404: only needs to differ between nodes; a taken key is tried again
		conn, err := s.lockConn(ctx, key)
		if err != nil {
			return nil, err
		}
		if conn != nil {
			s.owner.node.Store(key)
			return &NodeLock{st: s, conn: conn, key: key}, nil
		}
	}
	return nil, errors.New("cannot take a node lock: every key tried is held")
}

// lockConn opens a connection outside the pool and takes the node lock of
// key on it; it returns nil when another node holds that key.
func (s *Store) lockConn(ctx context.Context, key int64) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("cannot open the node lock connection: %w", err)
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2)`, nodeLockSpace, key).Scan(&ok); err != nil {
		conn.Close(ctx)
		return nil, fmt.Errorf("cannot take the node lock: %w", err)
	}
	if !ok {
		conn.Close(ctx)
		return nil, nil
	}
	return conn, nil
}

// Check takes the lock again, under the same key, when its connection was
// lost (a restarted database, a network cut). Meanwhile other nodes may
// have taken this node's leases; the generations of deliveries and
// executions make the work this node then finishes a no-op.
func (l *NodeLock) Check(ctx context.Context) error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil && l.conn.Ping(ctx) == nil {
		return nil
	}
	if l.conn != nil {
		l.conn.Close(ctx)
		l.conn = nil
	}
	conn, err := l.st.lockConn(ctx, l.key)
	if err != nil {
		return err
	}
	if conn == nil {
		return errors.New("the node lock is held by another process")
	}
	l.conn = conn
	return nil
}

// OwnJobs records that the River jobs worked by the client named clientID
// (River writes it in each job's attempted_by) are this node's, in
// vigil_lease_owner under the kind 'node', so that the jobs it is running
// when it dies are handed back as soon as its lock goes
// (RescueJobsOfDeadNodes) instead of once its heartbeat is stale. A nil
// lock (SQLite) records nothing.
func (l *NodeLock) OwnJobs(ctx context.Context, clientID string) error {
	if l == nil {
		return nil
	}
	_, err := l.st.c.exec(ctx, `INSERT INTO vigil_lease_owner (kind, id, node) VALUES ('node', $1, $2)
		ON CONFLICT (kind, id) DO UPDATE SET node = excluded.node`, clientID, l.key)
	if err != nil {
		return fmt.Errorf("cannot record this node's jobs as its own: %w", err)
	}
	return nil
}

// Release gives the lock up; leases this node still holds then count as
// left by a dead node.
func (l *NodeLock) Release(ctx context.Context) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.st.owner.node.CompareAndSwap(l.key, 0)
	if l.conn != nil {
		l.conn.Close(ctx)
		l.conn = nil
	}
}

// ownerGone is an SQL condition, true on PostgreSQL for a lease of kind
// ('delivery', 'execution', 'scan') whose id is idExpr when the node that
// took it no longer holds its lock.
func (q *Queries) ownerGone(kind, idExpr string) string {
	if q.d != Postgres {
		return "1 = 0"
	}
	return `EXISTS (SELECT 1 FROM vigil_lease_owner o WHERE o.kind = '` + kind + `' AND o.id = ` + idExpr +
		` AND o.node NOT IN (` + liveNodes + `))`
}

// PruneLeaseOwners deletes the owner rows of leases that ended, a dead
// node's included once recovery has taken them back, and those of dead
// nodes' jobs once none of their jobs runs. A row removed while its lease is being taken again only makes that lease
// wait for its end, never lets it be taken early.
func (q *Queries) PruneLeaseOwners(ctx context.Context) (int64, error) {
	if q.d != Postgres {
		return 0, nil
	}
	res, err := q.c.exec(ctx, `DELETE FROM vigil_lease_owner o WHERE (o.kind = 'delivery' AND NOT EXISTS (SELECT 1 FROM vigil_hook_delivery d WHERE d.id = o.id AND d.leased_until IS NOT NULL))
		OR (o.kind = 'execution' AND NOT EXISTS (SELECT 1 FROM vigil_flow_execution e WHERE e.id = o.id AND e.status = 'running'))
		OR (o.kind = 'scan' AND NOT EXISTS (SELECT 1 FROM vigil_posture_scan_lease l WHERE l.scan_id = o.id))
		OR (o.kind = 'node' AND o.node NOT IN (`+liveNodes+`) AND NOT EXISTS (SELECT 1 FROM river_job j
			WHERE j.state = 'running' AND j.attempted_by[array_length(j.attempted_by, 1)] = o.id))`)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
