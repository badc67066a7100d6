package app_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/secret/secrettest"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestTwoNodes runs two servers on one PostgreSQL database, as a deployment
// that has outgrown one box does, and runs the demo's work through them:
// a scan, an event per issue delivered to the routing flow's invoke URL,
// and the flows it starts. Both nodes must work jobs, and every issue must
// still be delivered once and routed once, every execution ending well.
func TestTwoNodes(t *testing.T) {
	db := storetest.DatabaseURL(t, "postgres")
	key := secrettest.MasterKey(t)

	// The second node is up first, so that it is waiting for work when the
	// first queues the demo's scan.
	// Both nodes read the demo's snapshot from one shared directory.
	shared := t.TempDir()
	snapshots := func(c *app.Config) { c.SnapshotDir = shared }
	b := startNode(t, db, key, nil, snapshots)
	a := startNode(t, db, key, func(ctx context.Context, srv *app.Server) {
		if _, err := srv.SetUpDemo(ctx); err != nil {
			t.Fatal(err)
		}
	}, snapshots)
	ctx := context.Background()
	svc := b.srv.Services() // what one node wrote, the other reads

	awaitDemo(t, svc)
	// Approved on one node, the waiting remediations go on on either.
	if n := approvePending(t, svc); n == 0 {
		t.Error("no remediation asked for approval")
	}
	_, dels, execs := awaitDemo(t, svc)
	routed := 0
	for _, x := range execs {
		if x.Status != "succeeded" {
			t.Errorf("execution %s of %s ended %s: %v", x.ID, x.FlowTitle, x.Status, x.Error)
		}
		if x.FlowTitle == "1.0 ISPM Event Routing Flow" {
			routed++
		}
	}
	if routed != len(dels) {
		t.Errorf("%d routing flow executions for %d deliveries; want one each", routed, len(dels))
	}
	issues := map[string]bool{}
	for _, d := range dels {
		if issues[d.IssueID] {
			t.Errorf("issue %s was delivered twice", d.IssueID)
		}
		issues[d.IssueID] = true
	}

	// River records which client worked each job: both nodes' must be there.
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT w, COUNT(*) FROM river_job, unnest(attempted_by) AS w
		WHERE state = 'completed' GROUP BY w ORDER BY w`)
	if err != nil {
		t.Fatal(err)
	}
	jobs := map[string]int{}
	for rows.Next() {
		var w string
		var n int
		if err := rows.Scan(&w, &n); err != nil {
			t.Fatal(err)
		}
		jobs[w] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("completed jobs per node: %v (%s and %s)", jobs, a.url, b.url)
	if len(jobs) != 2 {
		t.Errorf("jobs were worked by %d clients (%v); want both nodes", len(jobs), jobs)
	}
}
