package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
	"github.com/vigil-ispm/vigil/internal/logtest"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestServeKilledUnderLoad kills `vigil serve` (kill -9) while callers
// invoke a flow synchronously and asynchronously, starts it again, and
// checks that every execution a caller was told of ends exactly once,
// succeeded, with each of its steps journalled once: none is lost and
// none is left running.
func TestServeKilledUnderLoad(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) { testServeKilled(t, dialect) })
	}
}

func testServeKilled(t *testing.T, dialect string) {
	ctx := context.Background()
	dataDir := t.TempDir()
	dbURL := storetest.DatabaseURL(t, dialect)

	// Each execution calls this receiver twice; it is slow enough that the
	// kill finds executions mid-way.
	var calls atomic.Int64
	effects := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		time.Sleep(5 * time.Millisecond)
		io.WriteString(w, `{"ok":true}`)
	}))
	defer effects.Close()

	// The flow and its token, stored before the server starts.
	a, err := app.Open(ctx, app.Config{DataDir: dataDir, DatabaseURL: dbURL, LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := a.NewServices()
	if err != nil {
		t.Fatal(err)
	}
	folder, err := svc.Flows.CreateFolder(ctx, "Crash", "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.Flows.SaveFlow(ctx, flows.SaveParams{FolderID: folder.ID, Document: []byte(fmt.Sprintf(`document:
  dsl: '1.0.0'
  namespace: crash
  name: invoked
  version: '1.0.0'
  metadata:
    vigil:
      trigger:
        apiEndpoint:
          limits: {ratePerSecond: 0, maxBacklog: 0}
do:
  - first: {call: http, with: {method: get, endpoint: '%[1]s/first'}}
  - second: {call: http, with: {method: get, endpoint: '%[1]s/second'}}
  - done: {set: {ok: true}}
`, effects.URL))})
	if err != nil {
		t.Fatal(err)
	}
	flowID := res.Flow.ID
	if _, err := svc.Flows.SetOn(ctx, flowID, true); err != nil {
		t.Fatal(err)
	}
	ep, err := svc.Endpoints.Ensure(ctx, flowID)
	if err != nil {
		t.Fatal(err)
	}
	token, err := svc.Endpoints.Token(ep)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	url := invoke.InvokeURL("http://"+addr, ep.Alias)
	serve := func() (*exec.Cmd, *logtest.Buffer) {
		t.Helper()
		args := []string{"--data-dir", dataDir, "--allow-outbound", "127.0.0.0/8", "--log-level", "warn"}
		if dbURL != "" {
			args = append(args, "--database", dbURL)
		}
		args = append(args, "serve", "--addr", addr, "--execution-lease", "2s")
		cmd := exec.Command(os.Args[0], args...)
		logs := &logtest.Buffer{}
		cmd.Stderr = logs
		cmd.Env = append(os.Environ(), "VIGIL_TEST_RUN_MAIN=1", "VIGIL_TEST_ARGS=")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the server to be ready", logs, func() bool {
			resp, err := http.Get("http://" + addr + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
		return cmd, logs
	}

	// Sync and async callers until the kill; an execution counts as
	// accepted once its id reached the caller.
	var mu sync.Mutex
	accepted := map[string]string{} // id → how
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 2 * time.Minute}
	for i := range 8 {
		async := i%2 == 1
		wg.Add(1)
		go func() {
			defer wg.Done()
			for loadCtx.Err() == nil {
				req, _ := http.NewRequestWithContext(loadCtx, http.MethodPost, url, strings.NewReader(`{"n":1}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("x-api-client-token", token)
				if async {
					req.Header.Set("Prefer", "respond-async")
				}
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if id := resp.Header.Get(invoke.HeaderExecutionID); id != "" {
					mu.Lock()
					accepted[id] = fmt.Sprintf("async=%v status=%d", async, resp.StatusCode)
					mu.Unlock()
				}
			}
		}()
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(accepted)
	}

	first, logs := serve()
	waitUntil(t, "accepted executions", logs, func() bool { return count() >= 60 })
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.Wait()
	stopLoad()
	wg.Wait()

	st, err := store.Open(ctx, store.Config{URL: storeURL(dataDir, dbURL)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	unfinished, err := st.UnfinishedFlowExecutions(ctx, flowID)
	if err != nil {
		t.Fatal(err)
	}
	if unfinished == 0 {
		t.Fatal("no execution was unfinished at the kill; the test proves nothing")
	}

	second, logs := serve()
	defer func() {
		second.Process.Signal(os.Interrupt)
		second.Wait()
	}()
	waitUntil(t, "every execution to end", logs, func() bool {
		n, err := st.UnfinishedFlowExecutions(ctx, flowID)
		return err == nil && n == 0
	})

	mu.Lock()
	defer mu.Unlock()
	all := checkRanOnce(t, st, flowID, accepted, 3)
	t.Logf("%d executions accepted, %d stored, %d unfinished at the kill, %d receiver calls", len(accepted), len(all), unfinished, calls.Load())
}

// checkRanOnce checks that each execution in accepted (id → how it was
// started) is stored, succeeded and journalled each of its steps steps
// once, and returns every execution of the flow.
func checkRanOnce(t *testing.T, st *store.Store, flowID string, accepted map[string]string, steps int) []*store.FlowExecution {
	t.Helper()
	ctx := context.Background()
	all, err := st.FlowExecutions(ctx, store.FlowExecutionFilter{FlowID: flowID, Limit: 1000000})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*store.FlowExecution{}
	for _, e := range all {
		byID[e.ID] = e
	}
	for id, how := range accepted {
		e, ok := byID[id]
		if !ok {
			t.Errorf("execution %s (%s) was lost", id, how)
			continue
		}
		if e.Status != store.FlowSucceeded {
			t.Errorf("execution %s (%s) ended %s: %s", id, how, e.Status, e.Error)
			continue
		}
		journal, err := st.FlowSteps(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		keys := map[string]int{}
		for _, s := range journal {
			keys[s.Key]++
		}
		if len(journal) != steps || len(keys) != steps {
			t.Errorf("execution %s (%s) journalled %d steps (%v); want each of %d once", id, how, len(journal), keys, steps)
		}
	}
	return all
}

// storeURL is the database the server of dataDir uses.
func storeURL(dataDir, dbURL string) string {
	if dbURL != "" {
		return dbURL
	}
	return "sqlite://" + dataDir + "/vigil.db"
}

// waitUntil waits for cond, failing after a generous safety net with the
// server's log.
func waitUntil(t *testing.T, what string, logs *logtest.Buffer, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s; server log:\n%s", what, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
