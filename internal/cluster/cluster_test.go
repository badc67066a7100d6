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
