package hooks

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestRecoverAtStart checks that a server alone on its database queues
// again, at start, a delivery whose worker died holding a lease that has
// not run out yet, instead of leaving it until the lease ends (25 s on
// SQLite after a crash); a server that may share the database leaves a
// live-looking lease alone, and Maintain takes it once it runs out.
func TestRecoverAtStart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		rc := newReceiver(t, nil)
		b := setup(t, st)
		b.addHook(t, "crashy", rc.URL+"/hook")
		b.publish(t, sampleEvent())
		jobs := b.jobs.take()
		if len(jobs) != 1 {
			t.Fatalf("%d jobs, want 1", len(jobs))
		}
		// The dead worker's claim: leased for the next 30 s.
		now := b.clock.Now()
		if _, err := st.ClaimHookDelivery(ctx, jobs[0].DeliveryID, jobs[0].Generation, now, now.Add(30*time.Second)); err != nil {
			t.Fatal(err)
		}
		if n, err := b.svc.RecoverAtStart(ctx, false); err != nil || n != 0 {
			t.Fatalf("RecoverAtStart(shared) with a live lease: %d, %v; want 0", n, err)
		}
		if n, err := b.svc.RecoverAtStart(ctx, true); err != nil || n != 1 {
			t.Fatalf("RecoverAtStart(exclusive): %d, %v; want the delivery queued again", n, err)
		}
		b.runJobs(t)
		if got := len(rc.requests()); got != 1 {
			t.Errorf("the receiver got %d requests after the restart; want 1", got)
		}
		if d := b.only(t); d.Status != "delivered" {
			t.Errorf("delivery status %q, want delivered", d.Status)
		}
	})
}
