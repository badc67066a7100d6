package app

import (
	"context"
	"time"

	"github.com/vigil-ispm/vigil/internal/cluster"
)

// recoverEvery is how often every node looks for work a dead node left:
// jobs a node whose heartbeat stopped was working, deliveries and
// executions whose lease ran out, scans whose worker died.
// The periodic jobs do the same, but only on the elected leader, which
// after a crash is elected again only once the dead leader's term runs out
// (25 to 49 s were measured); these queries are cheap and guarded by
// generations, so running them on every node is safe. On PostgreSQL a
// lease whose node no longer holds its node lock counts as run out, so a
// dead node's work moves within one period of its death, not of its
// leases' end.
const recoverEvery = 5 * time.Second

// recoverLoop runs the recoveries every recoverEvery until ctx ends.
func (s *Server) recoverLoop(ctx context.Context) {
	cluster.Every(ctx, recoverEvery, s.recoverOnce)
}

// recoverOnce runs each recovery once, logging what fails.
func (s *Server) recoverOnce(ctx context.Context) {
	log := s.app.Logger
	if n, err := cluster.RescueJobs(ctx, s.app.Store); err != nil && ctx.Err() == nil {
		log.Warn("cannot recover the jobs of dead nodes", "error", err)
	} else if n > 0 {
		log.Info("handed back the jobs of dead nodes", "jobs", n)
	}
	if err := s.nodeLock.Check(ctx); err != nil && ctx.Err() == nil {
		log.Warn("cannot hold the node lock; other nodes may take this node's work", "error", err)
	}
	if n, err := s.app.Store.FreeSlotsOfDeadNodes(ctx); err != nil && ctx.Err() == nil {
		log.Warn("cannot free the limit slots of dead nodes", "error", err)
	} else if n > 0 {
		log.Info("freed the limit slots of dead nodes", "slots", n)
	}
	if _, _, err := s.svc.Hooks.Maintain(ctx); err != nil && ctx.Err() == nil {
		log.Warn("cannot recover interrupted deliveries", "error", err)
	}
	if _, err := s.svc.Flows.Recover(ctx); err != nil && ctx.Err() == nil {
		log.Warn("cannot recover interrupted executions", "error", err)
	}
	if _, err := s.svc.Sources.Recover(ctx, false); err != nil && ctx.Err() == nil {
		log.Warn("cannot recover interrupted scans", "error", err)
	}
	if _, err := s.app.Store.PruneLeaseOwners(ctx); err != nil && ctx.Err() == nil {
		log.Warn("cannot prune the owners of ended leases", "error", err)
	}
}
