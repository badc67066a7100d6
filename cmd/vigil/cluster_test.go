package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/cluster"
	"github.com/vigil-ispm/vigil/internal/store"
)

// TestClusterStatusCommand lists the nodes registered on a database as
// text and as JSON, with no server running: an empty cluster says so, a
// node that stopped its heartbeat shows as stale.
func TestClusterStatusCommand(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("VIGIL_MASTER_KEY", "")
	out, _, err := runCLI(t, dir, "", "cluster", "status")
	if err != nil || !strings.Contains(out, "0 node(s) alive on sqlite") || !strings.Contains(out, "No node is registered") {
		t.Fatalf("empty cluster: %v\n%s", err, out)
	}
	ctx := context.Background()
	a, err := app.Open(ctx, app.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	err = a.Store.PutNode(ctx, store.Node{ID: "node_gone", Role: "all", Version: "v1.2.3", Hostname: "h1", Addr: "127.0.0.1:8080",
		StartedAt: now.Add(-time.Hour), HeartbeatAt: now.Add(-time.Minute), Running: 2})
	a.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, _, err = runCLI(t, dir, "", "cluster", "status")
	if err != nil || !strings.Contains(out, "node_gone") || !strings.Contains(out, "stale") || !strings.Contains(out, "v1.2.3") {
		t.Errorf("a dead node: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, dir, "", "cluster", "status", "--json")
	var st cluster.Status
	if err != nil || json.Unmarshal([]byte(out), &st) != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if st.Database != "sqlite" || st.Alive != 0 || len(st.Nodes) != 1 || st.Nodes[0].Alive || st.Nodes[0].Running != 2 {
		t.Errorf("--json: %+v; want the one stale node", st)
	}
}
