package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
	"github.com/vigil-ispm/vigil/internal/hooks"
	"github.com/vigil-ispm/vigil/internal/posture/source"
	"github.com/vigil-ispm/vigil/internal/posture/synth"
	"github.com/vigil-ispm/vigil/internal/secret/secrettest"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// envSize reads a test size from the environment, else def.
func envSize(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q is not a positive whole number", name, v)
	}
	return n
}

// TestClusterKill runs three 'vigil serve' processes on one PostgreSQL
// database, spreads invocations and a scan's deliveries across them,
// kills one (kill -9) mid-run and checks what the cluster promises: every
// execution a caller was told of completes once (each step journalled
// once), every issue's event reaches the receiver, the scheduled scan ran
// once, the receiver limited to 20 deliveries a second never saw more in
// any second (calendar or sliding), and a flow turned off through one node is refused by the
// others. Sizes: VIGIL_CLUSTER_INVOKES (default 500) invocations and
// VIGIL_CLUSTER_PEOPLE (default 2600, about 160 issues) people in the
// scanned organization.
func TestClusterKill(t *testing.T) {
	invokes := envSize(t, "VIGIL_CLUSTER_INVOKES", 500)
	people := envSize(t, "VIGIL_CLUSTER_PEOPLE", 2600)
	const receiverRate = 20
	ctx := context.Background()
	dbURL := storetest.DatabaseURL(t, "postgres")
	key := secrettest.MasterKey(t)
	snapshots := t.TempDir()
	// The nodes read both from the environment.
	t.Setenv("VIGIL_MASTER_KEY", key)
	t.Setenv("VIGIL_SNAPSHOT_DIR", snapshots)

	// Each execution calls this twice; it is slow enough that the kill
	// finds executions mid-way.
	var effects atomic.Int64
	effect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		effects.Add(1)
		time.Sleep(50 * time.Millisecond)
		io.WriteString(w, `{"ok":true}`)
	}))
	defer effect.Close()
	// The integration's receiver records each event id and arrival.
	var recvMu sync.Mutex
	seen := map[string]int{}
	var arrivals []time.Time
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		recvMu.Lock()
		seen[r.Header.Get("webhook-id")]++
		arrivals = append(arrivals, time.Now())
		recvMu.Unlock()
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()

	// Everything is stored before the nodes start.
	a, err := app.Open(ctx, app.Config{DataDir: t.TempDir(), DatabaseURL: dbURL, MasterKey: key, LogOutput: io.Discard,
		AllowOutbound: "127.0.0.0/8", SnapshotDir: snapshots})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := a.NewServices()
	if err != nil {
		t.Fatal(err)
	}
	folder, err := svc.Flows.CreateFolder(ctx, "Cluster", "")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := func(doc string) (string, string, string) {
		t.Helper()
		f := saveEndpointFlow(ctx, t, svc, folder.ID, doc)
		return f.id, f.alias, f.token
	}
	flowID, alias, token := endpoint(invokedFlowDoc("cluster", effect.URL))
	pingID, pingAlias, pingToken := endpoint(`document:
  dsl: '1.0.0'
  namespace: cluster
  name: ping
  version: '1.0.0'
  metadata:
    vigil:
      trigger:
        apiEndpoint:
          response: async
          limits: {ratePerSecond: 0, maxBacklog: 0}
do:
  - done: {set: {ok: true}}
`)
	file := filepath.Join(snapshots, "org.json")
	out, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.WriteSnapshot(out, people, 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	out.Close()
	// The source is due at once: the leader's first schedule check scans it.
	if _, err := svc.Sources.Add(ctx, source.Input{Name: "org", Kind: source.KindSnapshot, Settings: source.Settings{File: file}}); err != nil {
		t.Fatal(err)
	}
	hook, _, err := svc.Hooks.Create(ctx, hooks.Input{Name: "receiver", URL: receiver.URL, RatePerSecond: receiverRate, MaxInFlight: 4})
	if err != nil {
		t.Fatal(err)
	}
	on := true
	if _, err := svc.Hooks.SetAutomation(ctx, hook.ID, hooks.AutomationInput{AutoSend: &on, AllTitles: true}); err != nil {
		t.Fatal(err)
	}
	ops, err := svc.Auth.CreateUser(ctx, "ops", auth.RoleSuperAdmin, "a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	_, opsToken, err := svc.Auth.CreateToken(ctx, ops.ID, "test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()

	// Three nodes.
	type node struct {
		*child
		dead atomic.Bool
	}
	nodes := make([]*node, 3)
	for i := range nodes {
		nodes[i] = &node{child: newChild(t, t.TempDir(), dbURL)}
	}
	defer func() {
		for _, n := range nodes {
			if n.cmd != nil && !n.dead.Load() {
				n.stop()
			}
		}
		if t.Failed() {
			for i, n := range nodes {
				t.Logf("node %d log:\n%s", i, n.logs.String())
			}
		}
	}()
	for _, n := range nodes {
		n.start()
	}
	st, err := store.Open(ctx, store.Config{URL: dbURL})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	post := func(n *node, alias, token string) (int, string, error) {
		req, _ := http.NewRequest(http.MethodPost, invoke.InvokeURL("http://"+n.addr, alias), strings.NewReader(`{"n":1}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("x-api-client-token", token)
		req.Header.Set("Prefer", "respond-async")
		resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
		if err != nil {
			return 0, "", err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get(invoke.HeaderExecutionID), nil
	}

	// A flow turned off through node 0's API is refused by nodes 1 and 2.
	for _, n := range nodes {
		if code, _, err := post(n, pingAlias, pingToken); err != nil || code != http.StatusAccepted {
			t.Fatalf("ping through %s: %d %v; want 202", n.addr, code, err)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+nodes[0].addr+"/api/v1/flows/"+pingID+"/off", nil)
	req.Header.Set("Authorization", "Bearer "+opsToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("turning the flow off through node 0: %d", resp.StatusCode)
	}
	off := time.Now()
	for _, n := range nodes[1:] {
		for {
			code, _, err := post(n, pingAlias, pingToken)
			if err == nil && code == http.StatusConflict {
				t.Logf("node %s refused the flow %s after node 0 turned it off", n.addr, time.Since(off))
				break
			}
			if time.Since(off) > time.Minute {
				t.Fatalf("node %s still accepts the flow a minute after node 0 turned it off (%d)", n.addr, code)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	received := func() int {
		recvMu.Lock()
		defer recvMu.Unlock()
		return len(seen)
	}
	// The scheduled scan's deliveries flow first, so that the load and
	// the kill find them under way.
	waitUntil(t, "the scan's deliveries", nodes[0].logs, func() bool { return received() >= 10 })

	// The load: invocations round robin across the nodes alive, until
	// enough were accepted.
	var mu sync.Mutex
	accepted := map[string]string{} // id → the node that accepted it
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				done := len(accepted) >= invokes
				mu.Unlock()
				if done {
					return
				}
				n := nodes[int(next.Add(1))%len(nodes)]
				if n.dead.Load() {
					continue
				}
				code, id, err := post(n, alias, token)
				if err != nil || id == "" {
					continue
				}
				if code != http.StatusAccepted {
					t.Errorf("invoke through %s: %d", n.addr, code)
					return
				}
				mu.Lock()
				accepted[id] = "through " + n.addr
				mu.Unlock()
			}
		}()
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(accepted)
	}
	// Kill node 0 mid-run: a third of the invocations accepted,
	// deliveries flowing.
	waitUntil(t, "invocations under way", nodes[0].logs, func() bool { return count() >= invokes/3 })
	unfinishedAtKill, err := st.UnfinishedFlowExecutions(ctx, flowID)
	if err != nil {
		t.Fatal(err)
	}
	if unfinishedAtKill == 0 {
		t.Fatal("no execution was unfinished at the kill; the test proves nothing")
	}
	nodes[0].dead.Store(true)
	nodes[0].kill()
	killedAt := time.Now()
	wg.Wait()

	// The scan ran once, on schedule.
	var scans []*store.PostureScan
	waitUntil(t, "the scheduled scan to end", nodes[1].logs, func() bool {
		scans, err = st.PostureScans(ctx, 100)
		return err == nil && len(scans) > 0 && scans[0].Status != "running"
	})
	scheduled := 0
	for _, s := range scans {
		if s.Trigger == source.TriggerSchedule {
			scheduled++
		}
	}
	if scheduled != 1 {
		t.Errorf("%d scheduled scans ran; want exactly one", scheduled)
	}

	// Every execution ends; every delivery is delivered.
	waitUntil(t, "every execution to end", nodes[1].logs, func() bool {
		n, err := st.UnfinishedFlowExecutions(ctx, flowID)
		return err == nil && n == 0
	})
	var dels []*store.HookDelivery
	var undelivered []*store.HookDelivery
	defer func() {
		// What a delivery left behind says where it stopped.
		if t.Failed() {
			for _, d := range undelivered {
				t.Logf("undelivered %s: status %s, generation %d, attempts %d (%d this round), next %s, leased until %s, job %d, last %d %q",
					d.ID, d.Status, d.Generation, d.Attempts, d.RoundAttempts, d.NextAttemptAt.Format(time.RFC3339Nano),
					d.LeasedUntil.Format(time.RFC3339Nano), d.JobID, d.LastStatus, d.LastError)
			}
		}
	}()
	waitUntil(t, "every delivery to be delivered", nodes[1].logs, func() bool {
		dels, err = st.HookDeliveries(ctx, store.HookDeliveryFilter{HookID: hook.ID, Limit: 1000000})
		if err != nil || len(dels) == 0 {
			return false
		}
		undelivered = undelivered[:0]
		for _, d := range dels {
			if d.Status != store.HookDeliveryDelivered {
				undelivered = append(undelivered, d)
			}
		}
		return len(undelivered) == 0
	})
	recoveredIn := time.Since(killedAt)

	mu.Lock()
	checkExecutions(context.Background(), t, st, flowID, accepted)
	mu.Unlock()

	recvMu.Lock()
	defer recvMu.Unlock()
	issues := map[string]bool{}
	dup := 0
	for _, d := range dels {
		issues[d.IssueID] = true
		if seen[d.EventID] == 0 {
			t.Errorf("the event %s of delivery %s never reached the receiver", d.EventID, d.ID)
		}
		if seen[d.EventID] > 1 {
			dup++
		}
	}
	if len(issues) != len(dels) {
		t.Errorf("%d deliveries for %d issues; want one each", len(dels), len(issues))
	}
	perSecond := map[int64]int{}
	worst, slide := 0, 0
	for i, at := range arrivals {
		s := at.Unix()
		perSecond[s]++
		worst = max(worst, perSecond[s])
		j := i
		for j < len(arrivals) && arrivals[j].Sub(at) < time.Second {
			j++
		}
		slide = max(slide, j-i)
	}
	if worst > receiverRate {
		t.Errorf("the receiver saw %d deliveries within one calendar second; its limit is %d", worst, receiverRate)
	}
	if slide > receiverRate {
		t.Errorf("the receiver saw %d deliveries within one sliding second; its limit is %d", slide, receiverRate)
	}
	t.Logf("%d executions accepted across 3 nodes (%d unfinished at the kill), %d effects; %d deliveries for %d issues "+
		"(%d events received twice, at least once is the promise); receiver peak %d in a calendar second, %d in any sliding second; "+
		"everything done %s after the kill",
		len(accepted), unfinishedAtKill, effects.Load(), len(dels), len(issues), dup, worst, slide, recoveredIn.Round(time.Second))
}
