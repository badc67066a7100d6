package source

import (
	"sync"
	"testing"

	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestProgressWhileScanning checks that the service keeps the progress of
// a scan it runs, so that a page can show how far a scan queued as a job
// has got, that it still passes each report on to the caller's
// ProgressFunc, and that it forgets the scan once its result is stored.
func TestProgressWhileScanning(t *testing.T) {
	b := setup(t, storetest.SQLite(t), nil)
	ctx := t.Context()
	splitOrg(t, b, 5)
	var (
		mu      sync.Mutex
		passed  int
		seen    []Progress
		scanIDs []string
	)
	res, err := b.svc.Scan(ctx, ScanOptions{Progress: func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		passed++
		if !p.Done || len(seen) > 0 {
			return
		}
		// The first source done: the running scan shows its report.
		scans, err := b.svc.Scans(ctx, 1)
		if err != nil || len(scans) != 1 {
			t.Errorf("scans while scanning: %v, %v", scans, err)
			return
		}
		scanIDs = append(scanIDs, scans[0].ID)
		seen = b.svc.Progress(scans[0].ID)
	}})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if passed == 0 {
		t.Fatal("the caller's ProgressFunc received no report")
	}
	if len(scanIDs) != 1 || scanIDs[0] != res.ID {
		t.Fatalf("the running scan was %v, want %s", scanIDs, res.ID)
	}
	var done bool
	for _, p := range seen {
		done = done || p.Done
	}
	if !done {
		t.Errorf("while scanning, Progress = %+v; want the report of the source just read", seen)
	}
	if left := b.svc.Progress(res.ID); len(left) != 0 {
		t.Errorf("after the scan, Progress = %+v; want none", left)
	}
}
