package hooks

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestSharedLimitsHoldAcrossNodes has two nodes' limiters (one database)
// deliver to one integration from many workers each for a while: at no
// moment are more requests in flight than the limit, and the requests
// granted over the run are no more than the rate allows for its length
// (plus the one token the bucket holds).
func TestSharedLimitsHoldAcrossNodes(t *testing.T) {
	st := storetest.Postgres(t)
	nodes := []*sharedLimits{newSharedLimits(st, time.Minute), newSharedLimits(st, time.Minute)}
	const maxInFlight, rps, workers = 3, 20.0, 8
	ctx := context.Background()
	var inFlight, peak, granted atomic.Int64
	start := time.Now()
	stop := start.Add(1500 * time.Millisecond)
	var wg sync.WaitGroup
	for _, node := range nodes {
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(stop) {
					release, _, err := node.acquire(ctx, "hook_1", maxInFlight, rps)
					if err != nil {
						t.Error(err)
						return
					}
					if release == nil {
						continue
					}
					n := inFlight.Add(1)
					for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
					}
					granted.Add(1)
					time.Sleep(250 * time.Millisecond) // the request, longer than the rate spaces them
					inFlight.Add(-1)
					release()
				}
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	if p := peak.Load(); p > maxInFlight {
		t.Errorf("%d requests in flight at once across two nodes; the limit is %d", p, maxInFlight)
	}
	allowed := int64(rps*elapsed.Seconds()) + 1
	if g := granted.Load(); g > allowed || g == 0 {
		t.Errorf("%d requests granted in %s across two nodes; the rate %v/s allows at most %d", g, elapsed, rps, allowed)
	}
	t.Logf("%d requests granted in %s, peak %d in flight", granted.Load(), elapsed, peak.Load())
}
