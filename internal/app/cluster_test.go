package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/secret/secrettest"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestTwoNodes runs two servers on one PostgreSQL database, as a deployment
// that has outgrown one box does, and runs the demo's work through them:
// a scan, an event per issue delivered to the routing flow's invoke URL,
// and the flows it starts. Both nodes must do work, and every issue must
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

	// An execution started through b's services runs in b's own pool (it
	// has room): the demo's events all reach a's invoke URL, which runs
	// the flows they start in a's.
	routing, err := svc.Flows.FindFlow(ctx, "1.0 ISPM Event Routing Flow", "")
	if err != nil {
		t.Fatal(err)
	}
	extra, err := svc.Flows.Start(ctx, routing.ID, map[string]any{}, flows.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for begin := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		h, err := svc.Flows.Execution(ctx, extra)
		if err != nil {
			t.Fatal(err)
		}
		if h.Execution.Status != flows.StatusRunning && h.Execution.Status != flows.StatusPending {
			break
		}
		if time.Since(begin) > 2*time.Minute {
			t.Fatalf("execution %s started on b is still %s after 2 minutes", extra, h.Execution.Status)
		}
	}

	// Both nodes must have worked: the jobs River records each node's
	// client as having worked, and the executions each ran in-process,
	// which have no job. Which node's client takes a job is a race, so
	// the jobs alone need not name both.
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
	for _, n := range []*running{a, b} {
		id, ran := n.srv.NodeID(), n.srv.Services().Flows.LocalRuns()
		t.Logf("node %s (%s): %d jobs, %d executions in-process", id, n.url, jobs[id], ran)
		if jobs[id] == 0 && ran == 0 {
			t.Errorf("node %s at %s did no work: no job and no execution", id, n.url)
		}
	}
}
