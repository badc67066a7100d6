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
	"github.com/vigil-ispm/vigil/internal/app/apptest"
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

	effects := newEffects()
	defer effects.Close()

	a, err := app.Open(ctx, app.Config{DataDir: dataDir, DatabaseURL: dbURL, LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := a.NewServices()
	if err != nil {
		t.Fatal(err)
	}
	flow := newInvokedFlow(ctx, t, svc, effects.URL)
	a.Close()

	srv := newChild(t, dataDir, dbURL)
	load := startInvokeLoad(ctx, 8, invoke.InvokeURL(srv.url, flow.alias), flow.token)

	srv.start()
	srv.waitUntil("accepted executions", func() bool { return load.count() >= 60 })
	srv.kill()
	load.stop()

	st, err := store.Open(ctx, store.Config{URL: storeURL(dataDir, dbURL)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	unfinished, err := st.UnfinishedFlowExecutions(ctx, flow.id)
	if err != nil {
		t.Fatal(err)
	}
	if unfinished == 0 {
		t.Fatal("no execution was unfinished at the kill; the test proves nothing")
	}

	srv.start()
	defer srv.stop()
	srv.waitUntil("every execution to end", func() bool {
		n, err := st.UnfinishedFlowExecutions(ctx, flow.id)
		return err == nil && n == 0
	})
	stored := checkExecutions(ctx, t, st, flow.id, load.snapshot())
	t.Logf("%d executions accepted, %d stored, %d unfinished at the kill, %d receiver calls", load.count(), stored, unfinished, effects.calls.Load())
}

// effects is the receiver the invoked flow calls twice per execution; it
// is slow enough that a kill finds executions mid-way.
type effects struct {
	*httptest.Server
	calls atomic.Int64
}

func newEffects() *effects {
	e := &effects{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.calls.Add(1)
		time.Sleep(5 * time.Millisecond)
		io.WriteString(w, `{"ok":true}`)
	}))
	return e
}

// invokedFlow is a flow with an API Endpoint, on, of three steps: two
// calls to the effects receiver and a set.
type invokedFlow struct {
	id, alias, token string
}

// invokedSteps is how many steps each execution of an invokedFlow journals.
const invokedSteps = 3

// newInvokedFlow stores the flow and its endpoint, before the server starts.
func newInvokedFlow(ctx context.Context, t *testing.T, svc *app.Services, effectsURL string) invokedFlow {
	t.Helper()
	folder, err := svc.Flows.CreateFolder(ctx, "Crash", "")
	if err != nil {
		t.Fatal(err)
	}
	return saveEndpointFlow(ctx, t, svc, folder.ID, invokedFlowDoc("crash", effectsURL))
}

// invokedFlowDoc is the document of an invokedFlow in namespace, calling
// the effects receiver at effectsURL.
func invokedFlowDoc(namespace, effectsURL string) string {
	return fmt.Sprintf(`document:
  dsl: '1.0.0'
  namespace: %[1]s
  name: invoked
  version: '1.0.0'
  metadata:
    vigil:
      trigger:
        apiEndpoint:
          limits: {ratePerSecond: 0, maxBacklog: 0}
do:
  - first: {call: http, with: {method: get, endpoint: '%[2]s/first'}}
  - second: {call: http, with: {method: get, endpoint: '%[2]s/second'}}
  - done: {set: {ok: true}}
`, namespace, effectsURL)
}

// saveEndpointFlow saves doc in the folder, turns it on and returns it with
// its endpoint's alias and client token.
func saveEndpointFlow(ctx context.Context, t *testing.T, svc *app.Services, folderID, doc string) invokedFlow {
	t.Helper()
	f := apptest.SaveEndpointFlow(ctx, t, svc, folderID, doc)
	return invokedFlow{id: f.ID, alias: f.Alias, token: f.Token}
}

// child runs `vigil serve` as a child process on one data directory and
// database, on the same address each time it is started.
type child struct {
	t                    *testing.T
	dataDir, dbURL, addr string
	url                  string
	cmd                  *exec.Cmd
	logs                 *logtest.Buffer
}

func newChild(t *testing.T, dataDir, dbURL string) *child {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return &child{t: t, dataDir: dataDir, dbURL: dbURL, addr: addr, url: "http://" + addr, logs: &logtest.Buffer{}}
}

// start starts the server and waits until it is ready.
func (c *child) start() {
	c.t.Helper()
	args := []string{"--data-dir", c.dataDir, "--allow-outbound", "127.0.0.0/8", "--log-level", "warn"}
	if c.dbURL != "" {
		args = append(args, "--database", c.dbURL)
	}
	args = append(args, "serve", "--addr", c.addr, "--execution-lease", "2s")
	cmd := exec.Command(os.Args[0], args...)
	c.logs = &logtest.Buffer{}
	cmd.Stderr = c.logs
	cmd.Env = append(os.Environ(), "VIGIL_TEST_RUN_MAIN=1", "VIGIL_TEST_ARGS=")
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.cmd = cmd
	c.waitUntil("the server to be ready", func() bool {
		resp, err := http.Get(c.url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// kill kills the server with SIGKILL: no shutdown code runs.
func (c *child) kill() {
	c.t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		c.t.Fatal(err)
	}
	c.cmd.Wait()
}

// stop stops the server as an operator would.
func (c *child) stop() {
	c.cmd.Process.Signal(os.Interrupt)
	c.cmd.Wait()
}

// waitUntil waits for cond, failing with the server's log.
func (c *child) waitUntil(what string, cond func() bool) {
	c.t.Helper()
	waitUntil(c.t, what, c.logs, cond)
}

// invokeLoad is callers invoking a flow's endpoint, half synchronously
// and half asynchronously, until stopped. An execution
// counts as accepted once its id reached the caller. The callers go on
// while the server is down, so that they are calling when it comes back.
type invokeLoad struct {
	mu       sync.Mutex
	accepted map[string]string // id → how
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

func startInvokeLoad(ctx context.Context, callers int, url, token string) *invokeLoad {
	l := &invokeLoad{accepted: map[string]string{}}
	ctx, l.cancel = context.WithCancel(ctx)
	client := &http.Client{Timeout: 2 * time.Minute}
	for i := range callers {
		async := i%2 == 1
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(`{"n":1}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("x-api-client-token", token)
				if async {
					req.Header.Set("Prefer", "respond-async")
				}
				resp, err := client.Do(req)
				if err != nil {
					// The server is down: try again shortly.
					select {
					case <-ctx.Done():
					case <-time.After(10 * time.Millisecond):
					}
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if id := resp.Header.Get(invoke.HeaderExecutionID); id != "" {
					l.mu.Lock()
					l.accepted[id] = fmt.Sprintf("async=%v status=%d", async, resp.StatusCode)
					l.mu.Unlock()
				}
			}
		}()
	}
	return l
}

// stop stops the callers and waits for them.
func (l *invokeLoad) stop() {
	l.cancel()
	l.wg.Wait()
}

func (l *invokeLoad) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.accepted)
}

// snapshot returns a copy of the accepted executions.
func (l *invokeLoad) snapshot() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]string, len(l.accepted))
	for id, how := range l.accepted {
		out[id] = how
	}
	return out
}

// checkExecutions checks that every accepted execution of the flow ended
// once, succeeded, with each of its steps journalled once, and returns
// how many executions of the flow are stored.
func checkExecutions(ctx context.Context, t *testing.T, st *store.Store, flowID string, accepted map[string]string) int {
	t.Helper()
	all, err := st.FlowExecutions(ctx, store.FlowExecutionFilter{FlowID: flowID, Limit: 10_000_000})
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
		if len(journal) != invokedSteps || len(keys) != invokedSteps {
			t.Errorf("execution %s (%s) journalled %d steps (%v); want each of %d once", id, how, len(journal), keys, invokedSteps)
		}
	}
	return len(all)
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
