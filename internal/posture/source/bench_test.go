package source

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/hooks"
	"github.com/vigil-ispm/vigil/internal/posture/issue"
	"github.com/vigil-ispm/vigil/internal/posture/synth"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// BenchmarkScan100k measures a full scan of a synthetic organization of
// 100,000 people (five products, about 400,000 accounts) from a snapshot
// file on SQLite: read and parse the file, build the graph, run every
// detection, and reconcile the issues (all new, each with its event in the
// hooks outbox) in one transaction. It reports the first scan's time per
// op, the time of a second scan that finds everything unchanged, and the
// process's peak RSS during the scans.
func BenchmarkScan100k(b *testing.B) {
	benchScan(b, 100_000)
}

// BenchmarkScan10k is the same at 10,000 people, for quick comparisons.
func BenchmarkScan10k(b *testing.B) {
	benchScan(b, 10_000)
}

func benchScan(b *testing.B, n int) {
	path := filepath.Join(b.TempDir(), "org.json")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if err := synth.WriteSnapshot(w, n, 1, t0); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	_, exp := synth.Generate(n, 1, t0)
	want := len(exp) // exp is dead from here on, so the GC below frees it
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS(b)

	var rescan time.Duration
	var firstTiming, rescanTiming Timing
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		st := storetest.SQLite(b)
		tb := setup(b, st, nil)
		outbox := hooks.New(st, tb.svc.box, hooks.Config{Now: tb.clock.Now})
		svc := New(st, tb.svc.box, issue.New(st, outbox, issue.Config{PublicURL: "https://vigil.example.com", Now: tb.clock.Now}), tb.svc.cfg)
		if _, err := svc.Add(b.Context(), Input{Name: "demo", Kind: KindSnapshot, Settings: Settings{File: path}}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := svc.Scan(b.Context(), ScanOptions{})
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if res.Status != ScanOK || res.Issues.Opened != want {
			b.Fatalf("scan %s opened %d issues, want %d", res.Status, res.Issues.Opened, want)
		}
		firstTiming = addTiming(firstTiming, res.Timing)
		start := time.Now()
		res, err = svc.Scan(b.Context(), ScanOptions{})
		rescan += time.Since(start)
		if err != nil || res.Issues.Unchanged != want {
			b.Fatalf("rescan: %v, %+v", err, res.Issues.TitleCounts)
		}
		rescanTiming = addTiming(rescanTiming, res.Timing)
		b.ReportMetric(float64(res.Accounts), "accounts")
		b.ReportMetric(float64(want), "issues")
	}
	b.ReportMetric(rescan.Seconds()/float64(b.N), "rescan-s")
	// Each scan's phases as it records them, so that a change can be read
	// against the phase it meant to cut.
	for _, ph := range []struct {
		name string
		t    Timing
	}{{"first", firstTiming}, {"rescan", rescanTiming}} {
		n := float64(b.N)
		b.ReportMetric(ph.t.Read.Seconds()/n, ph.name+"-read-s")
		b.ReportMetric((ph.t.Graph+ph.t.Detect).Seconds()/n, ph.name+"-detect-s")
		b.ReportMetric(ph.t.Save.Seconds()/n, ph.name+"-save-s")
	}
	b.ReportMetric(float64(peakRSS(b))/(1<<20), "peak-RSS-MiB")
}

// addTiming sums two scans' phases.
func addTiming(a, b Timing) Timing {
	return Timing{Read: a.Read + b.Read, Graph: a.Graph + b.Graph, Detect: a.Detect + b.Detect, Save: a.Save + b.Save}
}

// resetPeakRSS resets the kernel's high-water mark of the process's
// resident set (Linux), so that peakRSS measures from here on.
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("cannot reset the peak RSS (%v); it includes the organization's generation", err)
	}
}

// peakRSS returns the process's peak resident set in bytes (VmHWM).
func peakRSS(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Logf("cannot read the peak RSS: %v", err)
		return 0
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		if v, ok := strings.CutPrefix(string(line), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
