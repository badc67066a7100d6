package source

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-ispm/vigil/internal/posture/issue"
	"github.com/vigil-ispm/vigil/internal/queue"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestJobs runs the posture jobs on a real queue: the schedule job scans
// every due source, a ScanArgs job scans on demand, the wake job ends
// snoozes. (The periodic jobs
// themselves are River's; waiting for its leader election would only slow
// the test.)
func TestJobs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		b := setup(t, st, nil)
		ctx := t.Context()
		splitOrg(t, b, 10)
		q := newQueue(t, b)
		startQueue(t, q)
		scans := func(trigger string) int {
			list, err := st.PostureScans(ctx, 100)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, s := range list {
				if s.Trigger == trigger && s.Status == ScanOK {
					n++
				}
			}
			return n
		}
		if _, err := q.Insert(ctx, ScheduleArgs{}, nil); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the scheduled scan", func() bool { return scans(TriggerSchedule) == 1 })
		if _, err := q.Insert(ctx, ScanArgs{Sources: []string{"okta"}}, nil); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the scan job", func() bool { return scans(TriggerAPI) == 1 })
		for _, src := range mustList(t, b) {
			if !src.LastScanOK {
				t.Errorf("source %s was not scanned: %+v", src.Name, src)
			}
		}

		page, err := b.issues.List(ctx, issue.Filter{Limit: 1})
		if err != nil || len(page.Issues) != 1 {
			t.Fatalf("issues %+v, %v", page, err)
		}
		id := page.Issues[0].ID
		if err := b.issues.Snooze(ctx, id, b.clock.Now().Add(time.Hour), issue.Note{By: "alice"}); err != nil {
			t.Fatal(err)
		}
		b.clock.Add(2 * time.Hour)
		if _, err := q.Insert(ctx, issue.WakeArgs{}, nil); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the end of the snooze", func() bool {
			is, err := b.issues.Get(ctx, id)
			return err == nil && is.Status == issue.StatusOpen
		})
	})
}

// newQueue returns a queue that works the posture jobs of b, not yet
// started, and gives it to b's service.
func newQueue(t *testing.T, b *testBundle) *queue.Queue {
	t.Helper()
	workers := river.NewWorkers()
	Register(workers, b.svc)
	issue.Register(workers, b.issues)
	q, err := queue.New(b.st, queue.Config{Workers: workers, FetchPollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	b.svc.SetQueue(q)
	return q
}

// startQueue starts q's workers until the test ends.
func startQueue(t *testing.T, q *queue.Queue) {
	t.Helper()
	if err := q.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		q.Stop(sctx)
	})
}

func mustList(t *testing.T, b *testBundle) []*Source {
	t.Helper()
	list, err := b.svc.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// waitFor polls cond until it holds; a job queue gives no other signal.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute) // a safety net, not a timing assertion
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
