// Package bench measures a Vigil server on this machine, the way a user
// would try it: it starts what it needs on loopback in a temporary
// directory, runs bounded load, and reports every scenario beside a bare
// net/http handler measured with the same load generator in the same run,
// as a ratio to it, so that figures from a loaded or a different machine
// can still be compared.
package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/flows"
	"github.com/vigil-ispm/vigil/internal/flows/invoke"
)

// Scenarios are the names Run knows, in the order it runs them.
var Scenarios = []string{"invoke-sync", "invoke-async", "hop", "chain", "idle", "scan"}

// Config tunes a run. Zero values mean the defaults.
type Config struct {
	// Dir is the temporary directory the server's data goes to. Required.
	Dir string
	// DatabaseURL is the database; default SQLite in Dir.
	DatabaseURL string
	// Scenarios to run; default all (Scenarios).
	Scenarios []string
	// Duration is how long each load runs. Default 10 s.
	Duration time.Duration
	// Requests bounds each load's requests (0: only Duration does), for
	// smoke runs.
	Requests int
	// Connections is the number of concurrent callers. Default 64.
	Connections int
	// Nodes is how many servers share the database, each in this process
	// with its own data directory; the load goes round robin to them.
	// Default 1; more need PostgreSQL.
	Nodes int
	// HopSamples is how many invocations the hop scenario times. Default 500.
	HopSamples int
	// ChainIssues is how many issues the chain scenario's scan opens.
	// Default 2,000.
	ChainIssues int
	// ScanAccounts is about how many accounts the scan scenario's
	// synthetic organization has. Default 100,000.
	ScanAccounts int
	// IdleAfter is how long the idle scenario lets a fresh server settle
	// before measuring, and IdleWindow how long it measures CPU over.
	// Defaults 10 s and 5 s.
	IdleAfter  time.Duration
	IdleWindow time.Duration
	// Serve returns a command running `vigil` with the given arguments,
	// for the idle and scan scenarios, which measure a server process of
	// their own. Without it, they fail.
	Serve func(args ...string) *exec.Cmd
	// ServeCPUProfile, when set, makes each `vigil serve` of a scenario's
	// own (scan, idle) write a CPU profile of its whole run to this path
	// with the scenario's name added: "cpu.prof" gives "cpu.prof.scan".
	ServeCPUProfile string
	// Progress receives progress lines. Default: discarded.
	Progress io.Writer
}

func (c Config) withDefaults() Config {
	if len(c.Scenarios) == 0 {
		c.Scenarios = Scenarios
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Connections <= 0 {
		c.Connections = 64
	}
	if c.Nodes <= 0 {
		c.Nodes = 1
	}
	if c.HopSamples <= 0 {
		c.HopSamples = 500
	}
	if c.ChainIssues <= 0 {
		c.ChainIssues = 2000
	}
	if c.ScanAccounts <= 0 {
		c.ScanAccounts = 100_000
	}
	if c.IdleAfter <= 0 {
		c.IdleAfter = 10 * time.Second
	}
	if c.IdleWindow <= 0 {
		c.IdleWindow = 5 * time.Second
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	return c
}

// Report is a run's result; its JSON form is what `vigil bench` writes.
type Report struct {
	StartedAt   time.Time `json:"startedAt"`
	Database    string    `json:"database"`
	GoVersion   string    `json:"goVersion"`
	CPUs        int       `json:"cpus"`
	Connections int       `json:"connections"`
	Nodes       int       `json:"nodes"`
	// Bare is the bare net/http handler every ratio divides by.
	Bare      Result   `json:"bare"`
	Scenarios []Result `json:"scenarios"`
}

// Result is one scenario's measures.
type Result struct {
	Name     string  `json:"name"`
	Requests int     `json:"requests,omitempty"`
	Errors   int     `json:"errors"`
	PerSec   float64 `json:"perSecond,omitempty"`
	P50ms    float64 `json:"p50Ms,omitempty"`
	P99ms    float64 `json:"p99Ms,omitempty"`
	// Ratio is PerSec over the bare handler's.
	Ratio float64 `json:"ratioToBare,omitempty"`
	// Extra holds a scenario's own measures (drained/s, RSS, CPU).
	Extra map[string]float64 `json:"extra,omitempty"`
	Note  string             `json:"note,omitempty"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Run runs the configured scenarios and returns the report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg = cfg.withDefaults()
	for _, s := range cfg.Scenarios {
		if !known(s) {
			return nil, fmt.Errorf("unknown scenario %q: choose from %s", s, strings.Join(Scenarios, ", "))
		}
	}
	rep := &Report{StartedAt: time.Now().UTC(), Database: "sqlite", GoVersion: runtime.Version(), CPUs: runtime.NumCPU(),
		Connections: cfg.Connections, Nodes: cfg.Nodes}
	if strings.HasPrefix(cfg.DatabaseURL, "postgres") {
		rep.Database = "postgres"
	}
	if cfg.Nodes > 1 && rep.Database != "postgres" {
		return nil, fmt.Errorf("--nodes %d needs PostgreSQL (--database postgres://…); SQLite serves one node", cfg.Nodes)
	}
	bare, err := runBare(ctx, cfg)
	if err != nil {
		return nil, err
	}
	rep.Bare = bare

	// The in-process server's scenarios first, then those that measure a
	// server process of their own: idle, then scan, whose organization
	// would otherwise stay in a shared PostgreSQL database under idle.
	var tgt *target
	for _, name := range cfg.Scenarios {
		if ownProcess(name) {
			continue
		}
		if tgt == nil {
			if tgt, err = startTarget(ctx, cfg); err != nil {
				return nil, err
			}
			defer tgt.stop()
		}
		var res Result
		switch name {
		case "invoke-sync":
			res, err = runInvoke(ctx, cfg, tgt, false)
		case "invoke-async":
			res, err = runInvoke(ctx, cfg, tgt, true)
		case "hop":
			res, err = runHop(ctx, cfg, tgt)
		case "chain":
			res, err = runChain(ctx, cfg, tgt)
		}
		if err != nil {
			return nil, fmt.Errorf("scenario %s: %w", name, err)
		}
		if res.PerSec > 0 && bare.PerSec > 0 {
			res.Ratio = res.PerSec / bare.PerSec
		}
		rep.Scenarios = append(rep.Scenarios, res)
	}
	if tgt != nil {
		tgt.stop()
	}
	for _, name := range []string{"idle", "scan"} {
		if !slices.Contains(cfg.Scenarios, name) {
			continue
		}
		var res Result
		if name == "idle" {
			res, err = runIdle(ctx, cfg)
		} else {
			res, err = runScan(ctx, cfg)
		}
		if err != nil {
			return nil, fmt.Errorf("scenario %s: %w", name, err)
		}
		rep.Scenarios = append(rep.Scenarios, res)
	}
	return rep, nil
}

// ownProcess tells the scenarios that start a server process of their own.
func ownProcess(name string) bool { return name == "idle" || name == "scan" }

func known(s string) bool {
	for _, k := range Scenarios {
		if k == s {
			return true
		}
	}
	return false
}

// runBare measures a bare net/http handler that reads the body and
// answers 200, the limit of this machine for the load generator.
func runBare(ctx context.Context, cfg Config) (Result, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Result{}, fmt.Errorf("listen on loopback: %w", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }() // ends with ErrServerClosed; a failure before shows as failed requests
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/"
	c := newClient(cfg.Connections)
	defer c.CloseIdleConnections()
	ticks0, cpuErr := cpuTicks(os.Getpid())
	r := load(ctx, "bare", cfg.Connections, cfg.Duration, cfg.Requests, cfg.Progress, func(ctx context.Context) bool {
		_, ok := post(ctx, c, url, event, nil, http.StatusOK) //nolint:bodyclose // post reads and closes the body
		return ok
	})
	res := Result{Name: "bare", Requests: r.Requests, Errors: r.Errors, PerSec: r.perSecond(), P50ms: ms(r.P50), P99ms: ms(r.P99), Ratio: 1}
	if ticks1, err := cpuTicks(os.Getpid()); err == nil && cpuErr == nil && r.Requests > r.Errors {
		res.Extra = map[string]float64{"cpuUsPerRequest": cpuUs(ticks1-ticks0, r.Requests-r.Errors)}
	}
	return res, nil
}

// cpuUs is CPU time in clock ticks spread over n requests, in
// microseconds each. The load generator and the server share this
// process, so it is the cost of a request to both: unlike a rate, it
// does not move with what else the machine runs.
func cpuUs(ticks int64, n int) float64 { return float64(ticks) / userHZ * 1e6 / float64(n) }

// target is a Vigil server run in this process for the load scenarios,
// with the routing flow behind an API endpoint.
type target struct {
	app    *app.App
	srv    *app.Server
	flowID string
	alias  string
	url    string
	token  string
	cancel context.CancelFunc
	done   chan error
	// others are the other nodes (--nodes); urls the invoke URL on every
	// node, which the load takes in turn.
	others []*target
	urls   []string
	next   atomic.Int64
}

// invokeURL is the invoke URL of the next node, round robin.
func (t *target) invokeURL() string {
	if len(t.urls) == 0 {
		return t.url
	}
	return t.urls[int(t.next.Add(1))%len(t.urls)]
}

func startTarget(ctx context.Context, cfg Config) (*target, error) {
	var key string
	if cfg.Nodes > 1 {
		// Every node opens the secrets the others seal.
		raw := make([]byte, 32)
		if _, err := rand.Read(raw); err != nil {
			return nil, err
		}
		key = base64.StdEncoding.EncodeToString(raw)
	}
	t, err := startNode(ctx, cfg, cfg.Dir, key, true)
	if err != nil {
		return nil, err
	}
	if cfg.Nodes == 1 {
		return t, nil
	}
	t.urls = []string{t.url}
	for i := 1; i < cfg.Nodes; i++ {
		o, err := startNode(ctx, cfg, filepath.Join(cfg.Dir, fmt.Sprintf("node%d", i)), key, false)
		if err != nil {
			t.stop()
			return nil, err
		}
		t.others = append(t.others, o)
		t.urls = append(t.urls, invoke.InvokeURL(o.srv.PublicURL(), t.alias))
	}
	return t, nil
}

// startNode starts one server on dir; the first also sets up the routing
// flow the load invokes.
func startNode(ctx context.Context, cfg Config, dir, key string, first bool) (*target, error) {
	// The chain's integration posts to this server's invoke URL on
	// loopback, and the ISPM template's routing flow sets no invoke limits
	// of its own: the server's defaults (50/s, 1,000 unfinished) would be
	// what the chain measures, so this server has none, as the bench's own
	// routing flow has none.
	a, err := app.Open(ctx, app.Config{DataDir: dir, DatabaseURL: cfg.DatabaseURL, Addr: "127.0.0.1:0",
		LogOutput: io.Discard, LogLevel: "error", MasterKey: key,
		AllowOutbound: "127.0.0.0/8", InvokeRate: -1, InvokeMaxBacklog: -1})
	if err != nil {
		return nil, err
	}
	srv, err := a.NewServer(ctx)
	if err != nil {
		a.Close()
		return nil, err
	}
	t := &target{app: a, srv: srv, done: make(chan error, 1)}
	if !first {
		return t, t.run(ctx)
	}
	svc := srv.Services()
	folder, err := svc.Flows.CreateFolder(ctx, "Bench", "flows of vigil bench")
	if err != nil {
		srv.Close()
		a.Close()
		return nil, err
	}
	res, err := svc.Flows.SaveFlow(ctx, flows.SaveParams{FolderID: folder.ID, Document: []byte(routingFlow), By: "bench"})
	if err == nil {
		_, err = svc.Flows.SetOn(ctx, res.Flow.ID, true)
	}
	if err != nil {
		srv.Close()
		a.Close()
		return nil, fmt.Errorf("set up the routing flow: %w", err)
	}
	t.flowID = res.Flow.ID
	ep, err := svc.Endpoints.Ensure(ctx, t.flowID)
	if err == nil {
		t.token, err = svc.Endpoints.Token(ep)
	}
	if err != nil {
		srv.Close()
		a.Close()
		return nil, err
	}
	t.url, t.alias = invoke.InvokeURL(srv.PublicURL(), ep.Alias), ep.Alias
	return t, t.run(ctx)
}

// run starts serving and waits until the server is ready.
func (t *target) run(ctx context.Context) error {
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	t.cancel = cancel
	go func() { t.done <- t.srv.Run(rctx) }()
	if err := waitReady(ctx, t.srv.PublicURL()); err != nil {
		t.stop()
		return err
	}
	return nil
}

func (t *target) stop() {
	for _, o := range t.others {
		o.stop()
	}
	t.others = nil
	if t.cancel == nil {
		return
	}
	t.cancel()
	t.cancel = nil
	if err := <-t.done; err != nil {
		t.app.Logger.Warn("the benchmarked server ended with an error", "err", err)
	}
	_ = t.app.Close() // the run is over and its figures taken; a failure to close changes none of them
}

// waitReady waits until the server at url answers /readyz.
func waitReady(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/readyz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the server at %s did not become ready: %w", url, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// runInvoke posts the event to the routing flow: synchronously (the
// answer carries the flow's output) or with Prefer: respond-async, then
// waits for every accepted execution to end (drained/s).
func runInvoke(ctx context.Context, cfg Config, t *target, async bool) (Result, error) {
	name, want := "invoke-sync", http.StatusOK
	headers := map[string]string{"x-api-client-token": t.token}
	if async {
		name, want = "invoke-async", http.StatusAccepted
		headers["Prefer"] = "respond-async"
	}
	c := newClient(cfg.Connections)
	defer c.CloseIdleConnections()
	start := time.Now()
	ticks0, cpuErr := cpuTicks(os.Getpid())
	r := load(ctx, name, cfg.Connections, cfg.Duration, cfg.Requests, cfg.Progress, func(ctx context.Context) bool {
		_, ok := post(ctx, c, t.invokeURL(), event, headers, want) //nolint:bodyclose // post reads and closes the body
		return ok
	})
	ticks1, err := cpuTicks(os.Getpid())
	cpuErr = errors.Join(cpuErr, err)
	res := Result{Name: name, Requests: r.Requests, Errors: r.Errors, PerSec: r.perSecond(), P50ms: ms(r.P50), P99ms: ms(r.P99)}
	ok := r.Requests - r.Errors
	res.Extra = map[string]float64{}
	if cpuErr == nil && ok > 0 {
		// During the load: for invoke-async, what accepting costs, with
		// whatever of the executions ran meanwhile.
		res.Extra["cpuUsPerRequest"] = cpuUs(ticks1-ticks0, ok)
	}
	if async {
		if err := drain(ctx, t, cfg.Progress); err != nil {
			return res, err
		}
		res.Extra["drainedPerSecond"] = float64(ok) / time.Since(start).Seconds()
		if ticks2, err := cpuTicks(os.Getpid()); err == nil && cpuErr == nil && ok > 0 {
			// From the load's start to the last execution's end: accepting
			// and running each.
			res.Extra["cpuUsPerExecution"] = cpuUs(ticks2-ticks0, ok)
		}
	}
	return res, nil
}

// drain waits until the routing flow has no unfinished execution.
func drain(ctx context.Context, t *target, progress io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	last := time.Now()
	for {
		n, err := t.app.Store.UnfinishedFlowExecutions(ctx, t.flowID)
		if err != nil {
			return fmt.Errorf("count unfinished executions: %w", err)
		}
		if n == 0 {
			return nil
		}
		if time.Since(last) >= time.Second {
			fmt.Fprintf(progress, "  %-13s %d executions to finish\n", "drain", n)
			last = time.Now()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d executions still unfinished: %w", n, ctx.Err())
		// Each count reads every unfinished execution's index entry: at
		// 5 ms, a backlog of ten thousand cost the drain it measures a
		// fifth of its CPU. 50 ms moves the end by less than that.
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// runHop times, on an otherwise idle server, the hop from an accepted
// invocation to the flow's first step running: one caller, async, then
// each execution's history gives its first step's start.
func runHop(ctx context.Context, cfg Config, t *target) (Result, error) {
	c := newClient(1)
	defer c.CloseIdleConnections()
	headers := map[string]string{"x-api-client-token": t.token, "Prefer": "respond-async"}
	type sent struct {
		id       string
		accepted time.Time
	}
	var ids []sent
	errs := 0
	for range cfg.HopSamples {
		resp, ok := post(ctx, c, t.url, event, headers, http.StatusAccepted) //nolint:bodyclose // post reads and closes the body
		if !ok {
			errs++
			continue
		}
		ids = append(ids, sent{resp.Header.Get(invoke.HeaderExecutionID), time.Now()})
		// One at a time: the hop of an idle server, not of a queue.
		if err := drain(ctx, t, io.Discard); err != nil {
			return Result{}, err
		}
	}
	var hops []time.Duration
	for _, s := range ids {
		h, err := t.srv.Services().Flows.Execution(ctx, s.id)
		if err != nil {
			return Result{}, err
		}
		if len(h.Steps) == 0 {
			errs++
			continue
		}
		hops = append(hops, max(0, h.Steps[0].StartedAt.Sub(h.Execution.CreatedAt)))
	}
	return Result{Name: "hop", Requests: cfg.HopSamples, Errors: errs, P50ms: ms(percentile(hops, 0.5)), P99ms: ms(percentile(hops, 0.99)),
		Note: "execution stored → first step started, one caller"}, nil
}

// Summary writes the report as a table.
func (r *Report) Summary(w io.Writer) {
	fmt.Fprintf(w, "vigil bench — %s, %d node(s), %d CPUs, %s, %d connections\n\n", r.Database, max(r.Nodes, 1), r.CPUs, r.GoVersion, r.Connections)
	fmt.Fprintf(w, "%-13s %10s %8s %10s %10s %10s  %s\n", "scenario", "per s", "errors", "p50 ms", "p99 ms", "× bare", "more")
	row := func(s Result) {
		var more []string
		for _, k := range sortedKeys(s.Extra) {
			more = append(more, fmt.Sprintf("%s=%.1f", k, s.Extra[k]))
		}
		if s.Note != "" {
			more = append(more, s.Note)
		}
		fmt.Fprintf(w, "%-13s %10.0f %8d %10.2f %10.2f %10.4f  %s\n", s.Name, s.PerSec, s.Errors, s.P50ms, s.P99ms, s.Ratio,
			strings.Join(more, "; "))
	}
	row(r.Bare)
	for _, s := range r.Scenarios {
		row(s)
	}
}

// JSON returns the report as indented JSON.
func (r *Report) JSON() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

var errNoServe = errors.New("the idle scenario needs a way to start vigil serve")
