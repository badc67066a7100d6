package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/cluster"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

func TestParseRole(t *testing.T) {
	for _, tc := range []struct {
		in          string
		want        cluster.Role
		serve, work bool
		bad         bool
	}{
		{in: "", want: cluster.RoleAll, serve: true, work: true},
		{in: "all", want: cluster.RoleAll, serve: true, work: true},
		{in: " Web ", want: cluster.RoleWeb, serve: true},
		{in: "worker", want: cluster.RoleWorker, work: true},
		{in: "both", bad: true},
	} {
		got, err := cluster.ParseRole(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("ParseRole(%q) = %q; want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want || got.Serves() != tc.serve || got.Works() != tc.work {
			t.Errorf("ParseRole(%q) = %q (serves %v, works %v), %v; want %q (%v, %v)", tc.in, got, got.Serves(), got.Works(), err,
				tc.want, tc.serve, tc.work)
		}
	}
}

// TestRegistryLifecycle joins a node, marks it draining and has it leave,
// reading the cluster as an operator does at each step; a node that died
// long ago is forgotten when another joins, one that died lately shows as
// stale.
// TestEvery calls back until the context ends, then returns.
func TestEvery(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		cluster.Every(ctx, time.Millisecond, func() {
			if calls++; calls == 3 {
				cancel()
			}
		})
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("Every did not return within a minute of its context ending")
	}
	// A tick due when the context ended may still be taken.
	if calls < 3 {
		t.Errorf("%d calls; want at least 3", calls)
	}
}

func TestRegistryLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		for _, n := range []store.Node{
			{ID: "node_long_dead", Role: "all", Version: "v0", StartedAt: now.Add(-3 * time.Hour), HeartbeatAt: now.Add(-2 * time.Hour)},
			{ID: "node_just_dead", Role: "worker", Version: "v0", StartedAt: now.Add(-time.Hour), HeartbeatAt: now.Add(-time.Minute)},
		} {
			if err := st.PutNode(ctx, n); err != nil {
				t.Fatal(err)
			}
		}
		r := cluster.NewRegistry(st, cluster.Config{Role: cluster.RoleWeb, Addr: "127.0.0.1:9", Running: func() int { return 7 }})
		if err := r.Join(ctx); err != nil {
			t.Fatal(err)
		}
		s, err := cluster.Read(ctx, st, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Nodes) != 2 || s.Alive != 1 || s.Database != st.Dialect().String() {
			t.Fatalf("status = %+v; want the stale node and this one, one alive", s)
		}
		stale, me := s.Nodes[0], s.Nodes[1]
		if stale.ID != "node_just_dead" || stale.Alive {
			t.Errorf("first node = %+v; want node_just_dead, not alive", stale)
		}
		if me.ID != r.ID() || !me.Alive || me.Role != cluster.RoleWeb || me.Running != 7 || me.Draining || me.Addr != "127.0.0.1:9" || me.Version == "" {
			t.Errorf("this node = %+v; want alive, web, running 7, not draining", me)
		}
		if err := r.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		if s, _ = cluster.Read(ctx, st, time.Now()); !s.Nodes[1].Draining {
			t.Errorf("after Drain: %+v; want draining", s.Nodes[1])
		}
		if err := r.Leave(ctx); err != nil {
			t.Fatal(err)
		}
		if s, _ = cluster.Read(ctx, st, time.Now()); len(s.Nodes) != 1 || s.Alive != 0 {
			t.Errorf("after Leave: %+v; want only the stale node", s)
		}
	})
}

// TestRescueJobs hands back the running jobs of a node whose heartbeat
// stopped, and only those: a live node's jobs and a dead node's job out of
// attempts stay as they are.
func TestRescueJobs(t *testing.T) {
	st := storetest.Postgres(t)
	ctx := context.Background()
	now := time.Now().UTC()
	for _, n := range []store.Node{
		{ID: "node_dead", Role: "all", Version: "v", StartedAt: now.Add(-time.Hour), HeartbeatAt: now.Add(-time.Minute)},
		{ID: "node_live", Role: "all", Version: "v", StartedAt: now.Add(-time.Hour), HeartbeatAt: now},
	} {
		if err := st.PutNode(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	insert := func(worker string, attempt int) int64 {
		var id int64
		err := st.DB().QueryRowContext(ctx, `INSERT INTO river_job (args, attempt, attempted_at, attempted_by, kind, max_attempts, priority, queue, state, scheduled_at)
			VALUES ('{}', $1, now(), ARRAY['node_earlier', $2], 'test', 3, 1, 'default', 'running', now()) RETURNING id`, attempt, worker).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	dead, live, spent := insert("node_dead", 1), insert("node_live", 1), insert("node_dead", 3)
	n, err := cluster.RescueJobs(ctx, st)
	if err != nil || n != 1 {
		t.Fatalf("RescueJobs = %d, %v; want the dead node's one job", n, err)
	}
	for id, want := range map[int64]string{dead: "available", live: "running", spent: "running"} {
		var state string
		if err := st.DB().QueryRowContext(ctx, `SELECT state FROM river_job WHERE id = $1`, id).Scan(&state); err != nil {
			t.Fatal(err)
		}
		if state != want {
			t.Errorf("job %d is %s; want %s", id, state, want)
		}
	}
}

// TestRescueJobsLockGone checks that the running jobs of a node whose node
// lock is gone are handed back at once, while its heartbeat still looks
// fresh (a node killed a moment ago), and not while it holds its lock; and
// that the record of its jobs is pruned once none of them runs.
func TestRescueJobsLockGone(t *testing.T) {
	st := storetest.Postgres(t)
	ctx := context.Background()
	now := time.Now().UTC()
	if err := st.PutNode(ctx, store.Node{ID: "node_killed", Role: "all", Version: "v", StartedAt: now, HeartbeatAt: now}); err != nil {
		t.Fatal(err)
	}
	lock, err := st.HoldNodeLock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := lock.OwnJobs(ctx, "node_killed"); err != nil {
		t.Fatal(err)
	}
	var job int64
	if err := st.DB().QueryRowContext(ctx, `INSERT INTO river_job (args, attempt, attempted_at, attempted_by, kind, max_attempts, priority, queue, state, scheduled_at)
		VALUES ('{}', 1, now(), ARRAY['node_killed'], 'test', 3, 1, 'default', 'running', now()) RETURNING id`).Scan(&job); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if n, err := cluster.RescueJobs(ctx, st); err != nil || n != 0 {
			t.Fatalf("RescueJobs with the node's lock held = %d, %v; want 0", n, err)
		}
		if n, err := st.PruneLeaseOwners(ctx); err != nil || n != 0 {
			t.Fatalf("PruneLeaseOwners with the node's lock held = %d, %v; want 0", n, err)
		}
	}
	lock.Release(ctx) // the node dies: its connection, and so its lock, goes
	rescued := int64(0)
	for deadline := time.Now().Add(time.Minute); rescued == 0; time.Sleep(50 * time.Millisecond) {
		n, err := cluster.RescueJobs(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		rescued += n
		if rescued == 0 && time.Now().After(deadline) {
			t.Fatal("a minute after its node's lock went, the job was not handed back")
		}
	}
	var state string
	if err := st.DB().QueryRowContext(ctx, `SELECT state FROM river_job WHERE id = $1`, job).Scan(&state); err != nil || state != "available" {
		t.Fatalf("job is %q (%v) after the rescue; want available", state, err)
	}
	if n, err := st.PruneLeaseOwners(ctx); err != nil || n != 1 {
		t.Errorf("PruneLeaseOwners once no job of the dead node runs = %d, %v; want its record removed", n, err)
	}
}
