package hooks

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-ispm/vigil/internal/store/storetest"
)

// TestLimitsKeepSlidingWindow has one node's limiter deliver to one
// integration from many workers, each request reaching the receiver after
// a random delay: no second of the receiver's, wherever it starts, sees
// more requests than the rate, and no more are in flight than the limit.
func TestLimitsKeepSlidingWindow(t *testing.T) {
	exerciseLimits(t, []limiter{newLimits()})
}

// TestSharedLimitsHoldAcrossNodes does the same with two nodes' limiters
// on one database: the limits hold for the cluster, not per node.
func TestSharedLimitsHoldAcrossNodes(t *testing.T) {
	st := storetest.Postgres(t)
	exerciseLimits(t, []limiter{newSharedLimits(st, time.Minute), newSharedLimits(st, time.Minute)})
}

// exerciseLimits runs 8 workers per node against nodes for a while. Each
// request arrives at the receiver somewhere between being granted and
// ending (up to 60 ms in, as a loaded network would deliver it) and lasts
// up to 80 ms; it then checks every sliding second of arrivals against the
// rate and the peak in flight against the limit.
func exerciseLimits(t *testing.T, nodes []limiter) {
	const maxInFlight, rps, workers = 6, 20.0, 8
	ctx := context.Background()
	var inFlight, peak atomic.Int64
	var mu sync.Mutex
	var arrivals []time.Time
	stop := time.Now().Add(3 * time.Second)
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
					time.Sleep(rand.N(60 * time.Millisecond))
					mu.Lock()
					arrivals = append(arrivals, time.Now())
					mu.Unlock()
					time.Sleep(rand.N(20 * time.Millisecond))
					inFlight.Add(-1)
					release()
				}
			}()
		}
	}
	wg.Wait()
	if p := peak.Load(); p > maxInFlight {
		t.Errorf("%d requests in flight at once across %d node(s); the limit is %d", p, len(nodes), maxInFlight)
	}
	if len(arrivals) == 0 {
		t.Fatal("no request was granted")
	}
	if n := maxInWindow(arrivals, time.Second); n > int(rps) {
		t.Errorf("the receiver saw %d requests within one second across %d node(s); the rate is %v/s", n, len(nodes), rps)
	}
	t.Logf("%d requests, at most %d in any second, peak %d in flight", len(arrivals), maxInWindow(arrivals, time.Second), peak.Load())
}

// maxInWindow returns the most times that fall within any span of length w.
func maxInWindow(times []time.Time, w time.Duration) int {
	times = slices.Clone(times)
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	most, j := 0, 0
	for i := range times {
		for times[i].Sub(times[j]) >= w {
			j++
		}
		most = max(most, i-j+1)
	}
	return most
}

func TestMaxInWindow(t *testing.T) {
	t0 := time.Unix(0, 0)
	at := func(ms ...int) []time.Time {
		var ts []time.Time
		for _, m := range ms {
			ts = append(ts, t0.Add(time.Duration(m)*time.Millisecond))
		}
		return ts
	}
	tests := []struct {
		times []int
		want  int
	}{
		{nil, 0},
		{[]int{0}, 1},
		{[]int{0, 999}, 2},
		{[]int{0, 1000}, 1},
		{[]int{900, 0, 1100, 1200, 2500}, 3},
	}
	for _, tt := range tests {
		if got := maxInWindow(at(tt.times...), time.Second); got != tt.want {
			t.Errorf("maxInWindow(%v) = %d; want %d", tt.times, got, tt.want)
		}
	}
}
