package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"
)

// routingFlow is the shape of the ISPM template's routing flow: an API
// Endpoint (client token, synchronous, every execution saved, limits
// lifted) that classifies an event and routes it.
const routingFlow = `document:
  dsl: '1.0.0'
  namespace: bench
  name: routing
  version: '1.0.0'
  metadata:
    vigil:
      saveAllData: true
      trigger:
        apiEndpoint:
          response: sync
          limits: {ratePerSecond: 0, burst: 0, maxBacklog: 0}
do:
  - classify:
      set:
        title: '${ .body.data.issue.title }'
        severity: '${ .body.data.issue.severity }'
        user: '${ .body.data.issue.entity.login }'
  - route:
      switch:
        - critical:
            when: '${ .severity == "CRITICAL" or .severity == "HIGH" }'
            then: escalate
        - other:
            then: record
  - escalate:
      set: {route: escalate, title: '${ .title }', user: '${ .user }'}
      then: end
  - record:
      set: {route: record, title: '${ .title }', user: '${ .user }'}
`

// event is an ISPM issue event of about 1.1 KB, as Okta ISPM's event
// hook sends it.
var event = []byte(`{"eventType":"com.okta.ispm.issue.created","eventTypeVersion":"1.0","cloudEventsVersion":"0.1",` +
	`"source":"https://ispm.example.com/api/v1/events","eventId":"5f0e1d2c-3b4a-4958-8776-a5b4c3d2e1f0",` +
	`"eventTime":"2026-11-28T10:00:00.000Z","contentType":"application/json","data":{"issue":{` +
	`"id":"iss_01JD8Z6Q0X9V4N7W2K5M3R8T1Y","title":"Admin account without MFA","severity":"HIGH","status":"OPEN",` +
	`"category":"IDENTITY_HYGIENE","detectedAt":"2026-11-28T09:59:58.000Z","source":"okta",` +
	`"description":"An account with administrator privileges can sign in without a second factor. Enroll a phishing-resistant factor or remove the privilege.",` +
	`"entity":{"type":"ACCOUNT","id":"00u1a2b3c4d5e6f7g8h9","login":"ada.lovelace@example.com","displayName":"Ada Lovelace",` +
	`"department":"Engineering","manager":"charles.babbage@example.com","lastLogin":"2026-11-27T18:22:10.000Z"},` +
	`"privileges":["SUPER_ADMIN","ORG_ADMIN"],"factors":[],"apps":["Okta Admin Console","AWS","Salesforce"],` +
	`"links":{"self":"https://ispm.example.com/issues/iss_01JD8Z6Q0X9V4N7W2K5M3R8T1Y"}},` +
	`"tenant":{"id":"ten_01JD8Z","name":"Example Corp"},"padding":"0123456789abcdef0123456789abcdef0123456789abcdef"}}`)

// runIdle starts `vigil serve` on an empty database, lets it settle for
// IdleAfter, and measures its resident memory and the CPU it uses over
// IdleWindow.
func runIdle(ctx context.Context, cfg Config) (Result, error) {
	dir, err := serveDir(cfg, "idle")
	if err != nil {
		return Result{}, err
	}
	srv, err := startServe(ctx, cfg, dir, "idle")
	if err != nil {
		return Result{}, err
	}
	defer srv.stop()
	fmt.Fprintf(cfg.Progress, "  %-13s settling for %s\n", "idle", cfg.IdleAfter)
	select {
	case <-ctx.Done():
		return Result{}, ctx.Err()
	case <-time.After(cfg.IdleAfter):
	}
	pid := srv.cmd.Process.Pid
	cpu0, err := cpuTicks(pid)
	if err != nil {
		return Result{}, err
	}
	t0 := time.Now()
	select {
	case <-ctx.Done():
		return Result{}, ctx.Err()
	case <-time.After(cfg.IdleWindow):
	}
	cpu1, err := cpuTicks(pid)
	if err != nil {
		return Result{}, err
	}
	rss, err := procStatusMiB(pid, "VmRSS:")
	if err != nil {
		return Result{}, err
	}
	const clockTicks = 100 // USER_HZ on Linux
	busy := float64(cpu1-cpu0) / clockTicks / time.Since(t0).Seconds() * 100
	return Result{Name: "idle", Extra: map[string]float64{"rssMiB": rss, "cpuPercentOfOneCore": busy},
		Note: fmt.Sprintf("vigil serve, empty database, %s after start", cfg.IdleAfter)}, nil
}

// serveDir returns the data directory of a scenario's own server process.
// On SQLite it is a new one, so the server gets an empty database of its
// own. On PostgreSQL the server shares the run's database, and so its data
// directory, which holds the master key; the load scenarios leave it with
// no pending work.
func serveDir(cfg Config, name string) (string, error) {
	if cfg.Serve == nil {
		return "", errNoServe
	}
	if cfg.DatabaseURL != "" {
		return cfg.Dir, nil
	}
	return os.MkdirTemp(cfg.Dir, name)
}

// served is a `vigil serve` process started by a scenario.
type served struct {
	cmd *exec.Cmd
	url string
}

// startServe starts `vigil serve` on a free loopback port with its data in
// dir (and the run's database) and waits until it is ready.
func startServe(ctx context.Context, cfg Config, dir, scenario string) (*served, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := []string{"--data-dir", dir, "serve", "--addr", addr}
	if cfg.ServeCPUProfile != "" {
		args = append(args, "--cpuprofile", cfg.ServeCPUProfile+"."+scenario)
	}
	if cfg.DatabaseURL != "" {
		args = append([]string{"--database", cfg.DatabaseURL}, args...)
	}
	cmd := cfg.Serve(args...)
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start vigil serve: %w", err)
	}
	s := &served{cmd: cmd, url: "http://" + addr}
	if err := waitReady(ctx, s.url); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// stop interrupts the server and waits for it to end, killing it when it
// has not within 30 seconds.
func (s *served) stop() {
	// Signal and Kill fail only for a process that has already ended, which
	// Wait then reports; how it ended does not matter to the benchmark.
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free loopback port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// cpuTicks reads a process's user and system time from /proc.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read the server's CPU time (Linux only): %w", err)
	}
	// Fields after the command name, which is in parentheses.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("read the server's CPU time: unexpected /proc stat line")
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("read the server's CPU time: unexpected /proc stat line")
	}
	return utime + stime, nil
}

// procStatusMiB reads a memory figure of a process (VmRSS: resident now,
// VmHWM: its peak) from /proc.
func procStatusMiB(pid int, key string) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read the server's memory (Linux only): %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				return 0, fmt.Errorf("read the server's memory: %w", err)
			}
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("read the server's memory: no %s in /proc", strings.TrimSuffix(key, ":"))
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
