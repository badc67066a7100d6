package console_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/cluster"
	"github.com/vigil-ispm/vigil/internal/console"
	"github.com/vigil-ispm/vigil/internal/console/consoletest"
)

// TestClusterPanel shows the nodes on Admin → Settings: each node's
// state, role and running work, and the queue depth; a failed read is a
// notice in the panel, and the settings form still shows.
func TestClusterPanel(t *testing.T) {
	now := time.Now()
	status := cluster.Status{Database: "postgres", Alive: 1, QueueDepth: 17, Nodes: []cluster.Node{
		{ID: "node_web1", Role: cluster.RoleWeb, Version: "v9.9.9", Alive: true, Running: 5, StartedAt: now, HeartbeatAt: now},
		{ID: "node_gone", Role: cluster.RoleWorker, Version: "v9.9.8", Alive: false, StartedAt: now, HeartbeatAt: now.Add(-time.Minute)},
	}}
	var readErr error
	w := consoletest.New(t, consoletest.Options{Services: func(s *console.Services) {
		s.Cluster = func(context.Context) (cluster.Status, error) { return status, readErr }
	}})
	admin := w.Client(t, auth.RoleSuperAdmin)
	pg := get(t, admin, w.URL+"/admin/settings")
	for _, want := range []string{"1 node alive on postgres", "17 jobs waiting", "node_web1", "v9.9.9", "<td>web</td>", "<td>5</td>",
		"node_gone", "stale"} {
		if !strings.Contains(pg.Body, want) {
			t.Errorf("the cluster panel lacks %q", want)
		}
	}
	readErr = errors.New("database down")
	pg = get(t, admin, w.URL+"/admin/settings")
	if pg.Status != 200 || !strings.Contains(pg.Body, "The cluster status could not be read") || !strings.Contains(pg.Body, `name="public_url"`) {
		t.Errorf("with the status unreadable: %d; want the settings form and a notice", pg.Status)
	}
}
