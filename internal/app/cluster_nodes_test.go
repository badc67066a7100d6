package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/app/apptest"
	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/cluster"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
	"github.com/vigil-ispm/vigil/internal/secret/secrettest"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// clusterFlow is an API Endpoint flow whose bucket holds 4 invocations and
// refills once in 100 s: within the test, exactly 4 calls get through,
// whichever nodes they reach.
const clusterFlow = `document:
  dsl: '1.0.0'
  namespace: cluster
  name: ping
  version: '1.0.0'
  title: Ping
  metadata:
    vigil:
      trigger:
        apiEndpoint:
          security: clientToken
          response: async
          limits:
            ratePerSecond: 0.01
            burst: 4
do:
  - answer:
      set:
        pong: true
`

// TestClusterNodes runs two nodes on one PostgreSQL database and checks
// what they share: both are registered and alive in the cluster status
// (through the API of either), a flow's invoke limit holds across them,
// and a flow turned off on one node is refused by the other within a second.
func TestClusterNodes(t *testing.T) {
	db := storetest.DatabaseURL(t, "postgres")
	key := secrettest.MasterKey(t)
	var invokeURL, token string
	a := startNode(t, db, key, func(ctx context.Context, srv *app.Server) {
		svc := srv.Services()
		folder, err := svc.Flows.CreateFolder(ctx, "Cluster", "")
		if err != nil {
			t.Fatal(err)
		}
		ef := apptest.SaveEndpointFlow(ctx, t, svc, folder.ID, clusterFlow)
		token, invokeURL = ef.Token, invoke.InvokeURL(srv.PublicURL(), ef.Alias)
	})
	b := startNode(t, db, key, nil)
	ctx := context.Background()

	// The cluster status, read through node B's API by an administrator.
	au := b.srv.Services().Auth
	admin, err := au.UserByName(ctx, auth.BootstrapName)
	if err != nil {
		t.Fatal(err)
	}
	_, adminToken, err := au.CreateToken(ctx, admin.ID, "t", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	status, body := call(t, http.MethodGet, b.url+"/api/v1/cluster", adminToken, "")
	var st cluster.Status
	if status != http.StatusOK || json.Unmarshal([]byte(body), &st) != nil {
		t.Fatalf("GET /api/v1/cluster: %d %s", status, body)
	}
	if st.Database != "postgres" || st.Alive != 2 || len(st.Nodes) != 2 {
		t.Fatalf("cluster status %s; want both nodes alive on postgres", body)
	}
	for _, n := range st.Nodes {
		if n.Role != cluster.RoleAll || n.Version == "" || !n.Alive {
			t.Errorf("node %+v; want role all, a version, alive", n)
		}
	}

	// Calls alternate between the nodes; the flow's bucket is one.
	nodeURL := func(i int) string {
		if i%2 == 0 {
			return invokeURL
		}
		return strings.Replace(invokeURL, a.url, b.url, 1)
	}
	if !strings.HasPrefix(invokeURL, a.url) {
		t.Fatalf("invoke URL %s is not on node A (%s)", invokeURL, a.url)
	}
	call := func(u string) int {
		req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Api-Client-Token", token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	codes := map[int]int{}
	for i := range 10 {
		codes[call(nodeURL(i))]++
	}
	if codes[http.StatusAccepted] != 4 || codes[http.StatusTooManyRequests] != 6 {
		t.Errorf("10 calls across two nodes to a flow with a burst of 4 answered %v; want 4×202 and 6×429", codes)
	}

	// Turned off on A, refused on B: B reads the flow's state from the
	// database at most half a second after its last read; the delay is
	// logged.
	flow, err := a.srv.Services().Flows.FindFlow(ctx, "Ping", "Cluster")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.srv.Services().Flows.SetOn(ctx, flow.ID, false); err != nil {
		t.Fatal(err)
	}
	off := time.Now()
	for {
		if code := call(nodeURL(1)); code == http.StatusConflict {
			break
		}
		if time.Since(off) > time.Minute {
			t.Fatal("node B still accepts the flow turned off on node A after a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("node B refused the flow %s after node A turned it off", time.Since(off))
}

// TestRoles checks what each role serves: a worker node answers its
// health and nothing of the console or API; a web node serves the API;
// SQLite refuses any role but all.
func TestRoles(t *testing.T) {
	db := storetest.DatabaseURL(t, "postgres")
	key := secrettest.MasterKey(t)
	worker := startNode(t, db, key, nil, func(c *app.Config) { c.Role = cluster.RoleWorker })
	web := startNode(t, db, key, nil, func(c *app.Config) { c.Role = cluster.RoleWeb })
	get := func(u string) int {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		url  string
		want int
	}{
		{worker.url + "/healthz", 200},
		{worker.url + "/readyz", 200},
		{worker.url + "/api/v1/me", 404},
		{worker.url + "/login", 404},
		{worker.url + "/api/flo/x/invoke", 404},
		{web.url + "/api/v1/me", 401},
		{web.url + "/login", 200},
	} {
		if got := get(tc.url); got != tc.want {
			t.Errorf("GET %s: %d; want %d", tc.url, got, tc.want)
		}
	}

	ctx := context.Background()
	a, err := app.Open(ctx, app.Config{DataDir: t.TempDir(), Role: cluster.RoleWeb, LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if srv, err := a.NewServer(ctx); err == nil {
		srv.Close()
		t.Error("a web node on SQLite started; want an error saying roles need PostgreSQL")
	} else if !strings.Contains(err.Error(), "PostgreSQL") {
		t.Errorf("error %q does not say roles need PostgreSQL", err)
	}
}

// TestDrainLeavesCluster stops a node as SIGTERM does (its context ends):
// Run returns cleanly and the node is no longer in the cluster, while the
// other node stays.
func TestDrainLeavesCluster(t *testing.T) {
	db := storetest.DatabaseURL(t, "postgres")
	key := secrettest.MasterKey(t)
	stays := startNode(t, db, key, nil)
	ctx := context.Background()
	a, srv := newServer(t, app.Config{DataDir: t.TempDir(), DatabaseURL: db, Addr: "127.0.0.1:0", MasterKey: key, LogOutput: io.Discard})
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(rctx) }()
	alive := func() int {
		st, err := a.ClusterStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st.Alive
	}
	for deadline := time.Now().Add(2 * time.Minute); alive() != 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the second node never joined: %d alive", alive())
		}
	}
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after the stop: %v; want a clean drain", err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the node did not drain within 2 minutes")
	}
	st, err := a.ClusterStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Nodes) != 1 || !strings.HasPrefix(stays.url, "http://"+st.Nodes[0].Addr) {
		t.Errorf("after the drain the cluster is %+v; want only the node at %s", st.Nodes, stays.url)
	}
}

// TestStopDuringStartIsClean stops a server before its start has finished
// (the context is already cancelled): Run must stop cleanly rather than
// report the start's cancelled context as a failure, as a signal during a
// slow start on a busy machine would.
func TestStopDuringStartIsClean(t *testing.T) {
	ctx := context.Background()
	a, srv := newServer(t, app.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", MasterKey: secrettest.MasterKey(t), LogOutput: io.Discard})
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := srv.Run(cctx); err != nil {
		t.Fatalf("Run with a context cancelled during start: %v; want a clean stop", err)
	}
	st, err := a.ClusterStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Nodes) != 0 {
		t.Errorf("after a stop during start the cluster lists %+v; want no node", st.Nodes)
	}
}
