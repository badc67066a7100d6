package synth

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/posture/detect"
	"github.com/vigil-ispm/vigil/internal/posture/graph"
)

var now = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

// compare checks that the findings are exactly the expected set: every
// expected finding found (recall) and nothing else (precision), once.
func compare(t *testing.T, fs []detect.Finding, exp Expected) {
	t.Helper()
	found := map[detect.Key]int{}
	for i := range fs {
		found[fs[i].Key()]++
	}
	var missing, extra, dup int
	for _, k := range exp.Keys() {
		if found[k] == 0 {
			missing++
			if missing <= 10 {
				t.Errorf("missed %q on %s", k.Title, k.Entity)
			}
		}
	}
	for k, n := range found {
		if _, ok := exp[k]; !ok {
			extra++
			if extra <= 10 {
				t.Errorf("unexpected %q on %s", k.Title, k.Entity)
			}
		}
		if n > 1 {
			dup++
			t.Errorf("%q on %s reported %d times", k.Title, k.Entity, n)
		}
	}
	if missing+extra+dup > 0 {
		t.Fatalf("recall %d/%d, %d unexpected findings", len(exp)-missing, len(exp), extra)
	}
}

func TestPrecisionAndRecall(t *testing.T) {
	for _, seed := range []int64{1, 2, 3} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			org, exp := Generate(1000, seed, now)
			g, err := org.Graph()
			if err != nil {
				t.Fatal(err)
			}
			if got := len(g.People); got < 1000 {
				t.Errorf("%d people, want at least 1000", got)
			}
			for _, tn := range g.Tenants {
				if tn.Counts.Active == 0 {
					t.Errorf("tenant %s has no active accounts", tn.Source)
				}
			}
			titles := exp.Titles()
			for _, d := range detect.Catalog() {
				if titles[d.Title] == 0 {
					t.Errorf("no %q planted", d.Title)
				}
			}
			fs := detect.Run(g, detect.Config{}, now)
			compare(t, fs, exp)
			fps := map[string]bool{}
			for _, f := range fs {
				if fps[f.Fingerprint] {
					t.Fatalf("fingerprint of %s on %s repeated", f.Title, f.Entity.Key)
				}
				fps[f.Fingerprint] = true
			}
		})
	}
}

// TestSmallOrg checks that even a tiny org has every title.
func TestSmallOrg(t *testing.T) {
	org, exp := Generate(5, 7, now)
	g, err := org.Graph()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(exp.Titles()), len(detect.Catalog()); got != want {
		t.Errorf("%d titles planted, want %d", got, want)
	}
	compare(t, detect.Run(g, detect.Config{}, now), exp)
}

func TestSnapshotRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteSnapshot(&buf, 300, 42, now); err != nil {
		t.Fatal(err)
	}
	first := buf.String()
	snap, err := graph.ReadSnapshot(&buf)
	if err != nil {
		t.Fatal(err)
	}
	g, err := snap.Graph(graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, exp := Generate(300, 42, now)
	compare(t, detect.Run(g, detect.Config{}, now), exp)

	var again bytes.Buffer
	if err := WriteSnapshot(&again, 300, 42, now); err != nil {
		t.Fatal(err)
	}
	if again.String() != first {
		t.Error("the same seed gave a different snapshot")
	}
	var other bytes.Buffer
	if err := WriteSnapshot(&other, 300, 43, now); err != nil {
		t.Fatal(err)
	}
	if other.String() == first {
		t.Error("another seed gave the same snapshot")
	}
}

// TestLaterScan checks that the planted issues are stable: a scan a day
// later finds the same findings (no clean value sits near a threshold).
func TestLaterScan(t *testing.T) {
	org, exp := Generate(1000, 5, now)
	g, err := org.Graph()
	if err != nil {
		t.Fatal(err)
	}
	compare(t, detect.Run(g, detect.Config{}, now.Add(23*time.Hour)), exp)
}

func BenchmarkScan100k(b *testing.B) {
	org, exp := Generate(100_000, 1, now)
	b.ReportAllocs()
	var fs []detect.Finding
	for b.Loop() {
		g, err := org.Graph()
		if err != nil {
			b.Fatal(err)
		}
		fs = detect.Run(g, detect.Config{}, now)
	}
	if len(fs) != len(exp) {
		b.Fatalf("%d findings, want %d", len(fs), len(exp))
	}
	b.ReportMetric(float64(len(org.Sources[0].Accounts)), "okta-accounts")
	b.ReportMetric(float64(len(fs)), "findings")
}

func BenchmarkReadSnapshot100k(b *testing.B) {
	var buf bytes.Buffer
	if err := WriteSnapshot(&buf, 100_000, 1, now); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := graph.ReadSnapshot(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
