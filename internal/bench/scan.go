package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ispm/vigil/internal/app"
	"github.com/vigil-ispm/vigil/internal/auth"
	"github.com/vigil-ispm/vigil/internal/posture/source"
	"github.com/vigil-ispm/vigil/internal/posture/synth"
)

// accountsPerPerson is about how many accounts a synthetic person has
// across the five products (synth: Okta always, then Entra 80 %, Google
// 70 %, Salesforce 25 %, AWS 10 %, plus service accounts and leftovers).
const accountsPerPerson = 2.86

// userHZ is how many cpuTicks make a second on Linux.
const userHZ = 100

// runScan measures snapshot scans in a `vigil serve` process of its own,
// as a user's scheduled or API-started scan runs: a synthetic organization
// of about ScanAccounts accounts (every issue title planted), scanned once
// (every issue new) and again (nothing changed). It reports each scan's
// duration as the scan records it and the server's peak resident memory
// (VmHWM), which includes its start-up, and the server's CPU time over
// each scan.
func runScan(ctx context.Context, cfg Config) (Result, error) {
	dir, err := serveDir(cfg, "scan")
	if err != nil {
		return Result{}, err
	}
	people := max(1, int(float64(cfg.ScanAccounts)/accountsPerPerson))
	fmt.Fprintf(cfg.Progress, "  %-13s writing a snapshot of %d people (about %d accounts)\n", "scan", people, cfg.ScanAccounts)
	name, token, err := setUpScan(ctx, cfg, dir, people)
	if err != nil {
		return Result{}, fmt.Errorf("set up the scan: %w", err)
	}
	srv, err := startServe(ctx, cfg, dir, "scan")
	if err != nil {
		return Result{}, err
	}
	defer srv.stop()
	c := &apiClient{base: srv.url, token: token, c: newClient(1)}
	defer c.c.CloseIdleConnections()

	pid := srv.cmd.Process.Pid
	cpu0, err := cpuTicks(pid)
	if err != nil {
		return Result{}, err
	}
	queued0 := runQueued(pid)
	first, firstPoll, err := c.scan(ctx, name, "first scan", cfg.Progress)
	if err != nil {
		return Result{}, err
	}
	cpu1, err := cpuTicks(pid)
	if err != nil {
		return Result{}, err
	}
	queued1 := runQueued(pid)
	if first.Status != source.ScanOK || first.Issues.Opened == 0 {
		return Result{}, fmt.Errorf("the first scan ended %s (%s) with %d issues opened", first.Status, first.Error, first.Issues.Opened)
	}
	again, againPoll, err := c.scan(ctx, name, "rescan", cfg.Progress)
	if err != nil {
		return Result{}, err
	}
	cpu2, err := cpuTicks(pid)
	if err != nil {
		return Result{}, err
	}
	queued2 := runQueued(pid)
	if again.Status != source.ScanOK || again.Issues.Unchanged != first.Issues.Opened {
		return Result{}, fmt.Errorf("the rescan ended %s (%s) with %d issues unchanged, want %d", again.Status, again.Error,
			again.Issues.Unchanged, first.Issues.Opened)
	}
	peak, err := procStatusMiB(pid, "VmHWM:")
	if err != nil {
		return Result{}, err
	}
	return Result{Name: "scan", Requests: first.Accounts, Extra: map[string]float64{
		"accounts":      float64(first.Accounts),
		"issues":        float64(first.Issues.Opened),
		"firstSeconds":  first.FinishedAt.Sub(first.StartedAt).Seconds(),
		"rescanSeconds": again.FinishedAt.Sub(again.StartedAt).Seconds(),
		// The server's CPU time over each scan and the time each spent
		// writing in its transaction: on a shared machine these move less
		// with the load than the seconds do.
		"firstCPUSeconds":  float64(cpu1-cpu0) / userHZ,
		"rescanCPUSeconds": float64(cpu2-cpu1) / userHZ,
		// How long the server's threads were ready to run but waited for
		// a processor over each scan (summed over its threads): on a
		// shared machine, the part of the seconds above that the
		// neighbours took.
		"firstRunQueueSeconds":  (queued1 - queued0).Seconds(),
		"rescanRunQueueSeconds": (queued2 - queued1).Seconds(),
		"firstSaveSeconds":      first.Timing.Save.Seconds(),
		"rescanSaveSeconds":     again.Timing.Save.Seconds(),
		// What a rescan must do again however little changed: read the
		// source, build the graph and run every detection.
		"rescanReadSeconds":   again.Timing.Read.Seconds(),
		"rescanDetectSeconds": (again.Timing.Graph + again.Timing.Detect).Seconds(),
		// The slowest answer to GET /api/v1/scans while each scan ran:
		// how long the scan kept a reader waiting.
		"firstPollMaxMs":  firstPoll.Seconds() * 1000,
		"rescanPollMaxMs": againPoll.Seconds() * 1000,
		"peakRSSMiB":      peak,
	}, Note: "vigil serve, snapshot source, scans started by the API"}, nil
}

// runQueued returns how long the threads of process pid have waited on a
// run queue, from /proc/PID/task/TID/schedstat (Linux with scheduler
// statistics; 0 elsewhere, or for threads that have ended).
func runQueued(pid int) time.Duration {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(t) //nolint:gosec // G304: a /proc path built from the server's pid
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) < 2 {
			continue
		}
		ns, err := strconv.ParseInt(f[1], 10, 64)
		if err == nil {
			sum += time.Duration(ns)
		}
	}
	return sum
}

// setUpScan writes the organization to the snapshot directory, adds it as
// a source and creates a super admin's API token to start scans with.
func setUpScan(ctx context.Context, cfg Config, dir string, people int) (name, token string, err error) {
	a, err := app.Open(ctx, app.Config{DataDir: dir, DatabaseURL: cfg.DatabaseURL, LogOutput: io.Discard, LogLevel: "error"})
	if err != nil {
		return "", "", err
	}
	defer a.Close()
	svc, err := a.NewServices()
	if err != nil {
		return "", "", err
	}
	// Names of their own, so that a database used before still takes them.
	name = "bench-scan-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if err := os.MkdirAll(a.Config.SnapshotDir, 0o700); err != nil {
		return "", "", err
	}
	file := filepath.Join(a.Config.SnapshotDir, name+".json")
	f, err := os.Create(file) //nolint:gosec // G304: a name the bench chose, in the configured snapshot directory
	if err != nil {
		return "", "", err
	}
	w := bufio.NewWriter(f)
	err = synth.WriteSnapshot(w, people, 1, time.Now())
	if err == nil {
		err = w.Flush()
	}
	if err := errors.Join(err, f.Close()); err != nil {
		return "", "", fmt.Errorf("write the organization: %w", err)
	}
	// On demand only: a scheduled scan would race the measured one.
	if _, err := svc.Sources.Add(ctx, source.Input{Name: name, Kind: source.KindSnapshot, Settings: source.Settings{File: file},
		Schedule: -1}); err != nil {
		return "", "", err
	}
	u, err := svc.Auth.CreateUser(ctx, name, auth.RoleSuperAdmin, auth.GeneratePassword())
	if err != nil {
		return "", "", err
	}
	_, token, err = svc.Auth.CreateToken(ctx, u.ID, "bench", time.Hour)
	return name, token, err
}

// apiClient calls a server's JSON API with an API token.
type apiClient struct {
	base, token string
	c           *http.Client
}

func (c *apiClient) do(ctx context.Context, method, path string, body, out any) error {
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytesReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("%s %s answered %s: %s", method, path, resp.Status, strings.TrimSpace(string(msg)))
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// latestScan returns the server's newest scan, nil when there is none.
func (c *apiClient) latestScan(ctx context.Context) (*source.ScanResult, error) {
	var list struct {
		Scans []*source.ScanResult `json:"scans"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/scans?limit=1", nil, &list); err != nil {
		return nil, err
	}
	if len(list.Scans) == 0 {
		return nil, nil
	}
	return list.Scans[0], nil
}

// scan starts a scan of the source name and waits for it to end. It
// returns the scan and the longest its list took to answer meanwhile.
func (c *apiClient) scan(ctx context.Context, name, what string, progress io.Writer) (*source.ScanResult, time.Duration, error) {
	prev, err := c.latestScan(ctx)
	if err != nil {
		return nil, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	// The job of a scan that has just recorded its end may not be marked
	// completed yet; a scan asked for meanwhile is taken for a duplicate
	// of it and not queued, so ask again until one is.
	for {
		var queued struct {
			Duplicate bool `json:"duplicate"`
		}
		if err := c.do(ctx, http.MethodPost, "/api/v1/scans", map[string]any{"sources": []string{name}}, &queued); err != nil {
			return nil, 0, err
		}
		if !queued.Duplicate {
			break
		}
		select {
		case <-ctx.Done():
			return nil, 0, fmt.Errorf("the %s was not queued: %w", what, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	start, last := time.Now(), time.Now()
	var slowest time.Duration
	for {
		asked := time.Now()
		s, err := c.latestScan(ctx)
		if err != nil {
			return nil, 0, err
		}
		slowest = max(slowest, time.Since(asked))
		if s != nil && (prev == nil || s.ID != prev.ID) && s.Status != source.ScanRunning {
			fmt.Fprintf(progress, "  %-13s %s: %d accounts in %.1fs\n", "scan", what, s.Accounts, s.FinishedAt.Sub(s.StartedAt).Seconds())
			return s, slowest, nil
		}
		if time.Since(last) >= time.Second {
			fmt.Fprintf(progress, "  %-13s %s running, %.0fs\n", "scan", what, time.Since(start).Seconds())
			last = time.Now()
		}
		select {
		case <-ctx.Done():
			return nil, 0, fmt.Errorf("the %s did not end: %w", what, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
