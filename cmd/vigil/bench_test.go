package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-ispm/vigil/internal/bench"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// runBench runs vigil with args, which end with the bench command and its
// flags, adding a report file; it returns the report and what was printed.
func runBench(t *testing.T, args ...string) (bench.Report, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bench.json")
	var stdout, stderr bytes.Buffer
	root := newRootCmd(&stdout, &stderr)
	root.SetArgs(append(args, "--json", out))
	if err := root.Execute(); err != nil {
		t.Fatalf("bench: %v\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep bench.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	return rep, stdout.String()
}

// TestBenchSmoke runs every scenario of vigil bench at a tiny size on both
// databases: it checks that the run ends by itself, answers every request
// as expected and writes its report, not how fast it is.
func TestBenchSmoke(t *testing.T) {
	// The idle scenario starts this test binary as `vigil serve`.
	t.Setenv("VIGIL_TEST_RUN_MAIN", "1")
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			// --duration only as a safety: the request bounds end each load,
			// so that the counts checked below do not depend on the machine.
			args := []string{"bench", "--requests", "30", "--duration", "10m", "--connections", "4", "--hop-samples", "5",
				"--idle-after", "100ms", "--idle-window", "200ms", "--chain-issues", "12", "--scan-accounts", "600"}
			if url := storetest.DatabaseURL(t, dialect); url != "" {
				args = append([]string{"--database", url, "--data-dir", t.TempDir()}, args...)
			}
			// The profiles: the bench's own, and each vigil serve's.
			prof := filepath.Join(t.TempDir(), "cpu.prof")
			if dialect == "sqlite" {
				args = append(args, "--cpuprofile", prof)
			}
			rep, stdout := runBench(t, args...)
			for _, p := range []string{prof, prof + ".scan", prof + ".idle"} {
				if dialect != "sqlite" {
					break
				}
				// A profile is gzipped protocol buffers.
				if b, err := os.ReadFile(p); err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
					t.Errorf("CPU profile %s: %d bytes, %v", filepath.Base(p), len(b), err)
				}
			}
			if rep.Database != dialect || rep.Bare.Requests != 30 || rep.Bare.Errors != 0 {
				t.Errorf("report: database %s, bare %+v", rep.Database, rep.Bare)
			}
			seen := map[string]bench.Result{}
			for _, s := range rep.Scenarios {
				seen[s.Name] = s
			}
			for _, name := range bench.Scenarios {
				s, ok := seen[name]
				if !ok {
					t.Errorf("scenario %s missing from the report", name)
					continue
				}
				if s.Errors != 0 {
					t.Errorf("scenario %s: %d errors", name, s.Errors)
				}
				if !strings.Contains(stdout, name) {
					t.Errorf("scenario %s missing from the table:\n%s", name, stdout)
				}
			}
			if s := seen["invoke-sync"]; s.Requests != 30 || s.Ratio <= 0 {
				t.Errorf("invoke-sync = %+v", s)
			}
			if s := seen["invoke-async"]; s.Requests != 30 || s.Extra["drainedPerSecond"] <= 0 {
				t.Errorf("invoke-async = %+v", s)
			}
			if s := seen["hop"]; s.Requests != 5 || s.P99ms <= 0 {
				t.Errorf("hop = %+v", s)
			}
			if s := seen["chain"]; s.Requests != 12 || s.PerSec <= 0 || s.P99ms < s.P50ms {
				t.Errorf("chain = %+v", s)
			}
			if s := seen["scan"]; s.Extra["accounts"] < 500 || s.Extra["issues"] <= 0 || s.Extra["peakRSSMiB"] <= 0 || s.Requests != int(s.Extra["accounts"]) {
				t.Errorf("scan = %+v", s)
			}
			if s := seen["idle"]; s.Extra["rssMiB"] <= 0 {
				t.Errorf("idle = %+v", s)
			}
		})
	}
}

// TestBenchNodes runs the invoke scenarios against three nodes on one
// PostgreSQL database, and refuses several nodes on SQLite.
func TestBenchNodes(t *testing.T) {
	rep, stdout := runBench(t, "--database", storetest.DatabaseURL(t, "postgres"), "--data-dir", t.TempDir(), "bench", "--nodes", "3",
		"--scenarios", "invoke-sync,invoke-async", "--requests", "30", "--connections", "6")
	if rep.Nodes != 3 || len(rep.Scenarios) != 2 || !strings.Contains(stdout, "3 node(s)") {
		t.Fatalf("report: %d nodes, %d scenarios\n%s", rep.Nodes, len(rep.Scenarios), stdout)
	}
	for _, s := range rep.Scenarios {
		if s.Requests != 30 || s.Errors != 0 {
			t.Errorf("scenario %s: %d requests, %d errors; want 30 without error", s.Name, s.Requests, s.Errors)
		}
	}

	root := newRootCmd(io.Discard, io.Discard)
	root.SetArgs([]string{"--data-dir", t.TempDir(), "bench", "--nodes", "2", "--json", filepath.Join(t.TempDir(), "x.json")})
	if err := root.Execute(); err == nil || !strings.Contains(err.Error(), "needs PostgreSQL") {
		t.Errorf("two nodes on SQLite: %v; want an error saying it needs PostgreSQL", err)
	}
}
