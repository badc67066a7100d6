package app

import (
	"context"
	"time"

	"github.com/vigil-ispm/vigil/internal/cluster"
)

// ClusterStatus returns the nodes registered on this database and the
// queue depth ('vigil cluster status', GET /api/v1/cluster, the console).
// Node heartbeats run on the wall clock, so it does too.
func (a *App) ClusterStatus(ctx context.Context) (cluster.Status, error) {
	return cluster.Read(ctx, a.Store, time.Now())
}
