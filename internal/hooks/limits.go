package hooks

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxLimitWait is how long a delivery job waits for its integration's
// concurrency slot or rate budget before giving its worker back and
// snoozing: a slow receiver must not hold every worker of the node.
const maxLimitWait = time.Second

// limiter bounds an integration's requests: acquire takes a concurrency
// slot and a rate token, waiting up to maxLimitWait, and returns a release
// function, or, when the budget is not there in time, how long to wait
// before trying again; forget drops what it holds for an integration whose
// limits changed.
type limiter interface {
	acquire(ctx context.Context, hookID string, maxInFlight int, rps float64) (func(), time.Duration, error)
	forget(hookID string)
}

// limits holds, per integration, a semaphore (concurrent requests) and a
// token bucket (requests per second) in this node's memory: the limiter
// of a single node (SQLite). Both run on the wall clock, since they pace
// real requests.
type limits struct {
	mu sync.Mutex
	m  map[string]*hookLimit
}

type hookLimit struct {
	sem  chan struct{}
	lim  *rate.Limiter
	rate float64
}

func newLimits() *limits { return &limits{m: map[string]*hookLimit{}} }

func (l *limits) get(hookID string, maxInFlight int, rps float64) *hookLimit {
	l.mu.Lock()
	defer l.mu.Unlock()
	hl := l.m[hookID]
	if hl == nil || cap(hl.sem) != maxInFlight {
		// A changed concurrency limit gets a new semaphore; holders of the
		// old one release into it, which is harmless.
		hl = &hookLimit{sem: make(chan struct{}, maxInFlight), lim: rate.NewLimiter(rate.Limit(rps), burst(rps)), rate: rps}
		l.m[hookID] = hl
	} else if hl.rate != rps {
		hl.lim.SetLimit(rate.Limit(rps))
		hl.lim.SetBurst(burst(rps))
		hl.rate = rps
	}
	return hl
}

func burst(rps float64) int { return max(1, int(math.Ceil(rps))) }

func (l *limits) forget(hookID string) {
	l.mu.Lock()
	delete(l.m, hookID)
	l.mu.Unlock()
}

// acquire takes a concurrency slot and a rate token for an integration,
// waiting up to maxLimitWait. It returns a release function, or, when the
// budget is not there in time, how long to wait before trying again.
func (l *limits) acquire(ctx context.Context, hookID string, maxInFlight int, rps float64) (func(), time.Duration, error) {
	hl := l.get(hookID, maxInFlight, rps)
	timer := time.NewTimer(maxLimitWait)
	defer timer.Stop()
	select {
	case hl.sem <- struct{}{}:
	case <-timer.C:
		return nil, maxLimitWait, nil
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}
	release := func() { <-hl.sem }
	r := hl.lim.Reserve()
	if !r.OK() {
		release()
		return nil, maxLimitWait, nil
	}
	d := r.Delay()
	if d == 0 {
		return release, 0, nil
	}
	if d > maxLimitWait {
		r.Cancel()
		release()
		return nil, max(d, maxLimitWait), nil
	}
	wait := time.NewTimer(d)
	defer wait.Stop()
	select {
	case <-wait.C:
		return release, 0, nil
	case <-ctx.Done():
		r.Cancel()
		release()
		return nil, 0, ctx.Err()
	}
}
