package bench

import (
	"context"
	"fmt"
	"net"
	"os"
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
	if cfg.Serve == nil {
		return Result{}, errNoServe
	}
	// On SQLite the idle server gets an empty database of its own. On
	// PostgreSQL it shares the run's database (and so its data directory,
	// which holds the master key), which the load scenarios left with no
	// pending work.
	dir := cfg.Dir
	if cfg.DatabaseURL == "" {
		var err error
		if dir, err = os.MkdirTemp(cfg.Dir, "idle"); err != nil {
			return Result{}, err
		}
	}
	addr, err := freeAddr()
	if err != nil {
		return Result{}, err
	}
	args := []string{"--data-dir", dir, "serve", "--addr", addr}
	if cfg.DatabaseURL != "" {
		args = append([]string{"--database", cfg.DatabaseURL}, args...)
	}
	cmd := cfg.Serve(args...)
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		return Result{}, fmt.Errorf("start vigil serve: %w", err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	if err := waitReady(ctx, "http://"+addr); err != nil {
		return Result{}, err
	}
	fmt.Fprintf(cfg.Progress, "  %-13s settling for %s\n", "idle", cfg.IdleAfter)
	select {
	case <-ctx.Done():
		return Result{}, ctx.Err()
	case <-time.After(cfg.IdleAfter):
	}
	pid := cmd.Process.Pid
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
	rss, err := rssMiB(pid)
	if err != nil {
		return Result{}, err
	}
	const clockTicks = 100 // USER_HZ on Linux
	busy := float64(cpu1-cpu0) / clockTicks / time.Since(t0).Seconds() * 100
	return Result{Name: "idle", Extra: map[string]float64{"rssMiB": rss, "cpuPercentOfOneCore": busy},
		Note: fmt.Sprintf("vigil serve, empty database, %s after start", cfg.IdleAfter)}, nil
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

// rssMiB reads a process's resident memory from /proc.
func rssMiB(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read the server's memory (Linux only): %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				return 0, fmt.Errorf("read the server's memory: %w", err)
			}
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("read the server's memory: no VmRSS in /proc")
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
