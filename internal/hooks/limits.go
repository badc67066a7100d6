package hooks

import (
	"context"
	"math"
	"sync"
	"time"
)

// maxLimitWait is how long a delivery job waits for its integration's
// concurrency slot or rate budget before giving its worker back and
// snoozing: a slow receiver must not hold every worker of the node.
const maxLimitWait = time.Second

// pollLimit is how often a delivery waiting for a free slot looks again
// when nothing tells it when one frees.
const pollLimit = 25 * time.Millisecond

// limiter bounds an integration's requests: acquire takes a concurrency
// slot and a rate slot, waiting up to maxLimitWait, and returns a release
// function, to be called once the request has ended, or, when the budget
// is not there in time, how long to wait before trying again; forget drops
// what it holds for an integration whose limits changed.
//
// The rate is a sliding window, not a token bucket: a bucket lets a burst
// and the steady rate after it meet in one second, so a receiver that
// counts over any second saw more than the rate. Instead a rate of n per
// second is n window slots; a request holds one from before it is sent
// until one second after it ended. A receiver sees a request between those
// two moments, so any n+1 requests that reach it within one second held
// n+1 window slots at once at the end of that second, which cannot be.
type limiter interface {
	acquire(ctx context.Context, hookID string, maxInFlight int, rps float64) (func(), time.Duration, error)
	forget(hookID string)
}

// windowOf turns a rate into the number of window slots and how long each
// stays held after its request ended: n per second for a rate of n or more
// (its whole part, so no second ever sees more than the rate), one per
// 1/rate seconds below one.
func windowOf(rps float64) (int, time.Duration) {
	if rps >= 1 {
		return int(math.Floor(rps)), time.Second
	}
	return 1, time.Duration(float64(time.Second) / rps)
}

// limits holds, per integration, a semaphore (concurrent requests) and a
// sliding window (requests per second) in this node's memory: the limiter
// of a single node (SQLite). Both run on the wall clock, since they pace
// real requests.
type limits struct {
	mu sync.Mutex
	m  map[string]*hookLimit
}

type hookLimit struct {
	sem  chan struct{}
	win  *window
	rate float64
}

// window is a sliding-window rate limit in memory: each slot is held while
// its request runs and for span after it ended.
type window struct {
	mu     sync.Mutex
	span   time.Duration
	held   []bool
	freeAt []time.Time
}

func newWindow(rps float64) *window {
	n, span := windowOf(rps)
	return &window{span: span, held: make([]bool, n), freeAt: make([]time.Time, n)}
}

// take takes a free slot, or returns -1 and how long until the first one
// is due to be free (pollLimit when every slot is in a running request).
func (w *window) take(now time.Time) (int, time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	wait := time.Duration(-1)
	for i := range w.held {
		if w.held[i] {
			continue
		}
		d := w.freeAt[i].Sub(now)
		if d <= 0 {
			w.held[i] = true
			return i, 0
		}
		if wait < 0 || d < wait {
			wait = d
		}
	}
	if wait < 0 {
		wait = pollLimit
	}
	return -1, wait
}

// release lets slot i go span after now, the end of its request.
func (w *window) release(i int, now time.Time) {
	w.mu.Lock()
	w.held[i], w.freeAt[i] = false, now.Add(w.span)
	w.mu.Unlock()
}

func newLimits() *limits { return &limits{m: map[string]*hookLimit{}} }

func (l *limits) get(hookID string, maxInFlight int, rps float64) *hookLimit {
	l.mu.Lock()
	defer l.mu.Unlock()
	hl := l.m[hookID]
	if hl == nil || cap(hl.sem) != maxInFlight || hl.rate != rps {
		// Changed limits get a new semaphore and window; holders of the
		// old ones release into them, which is harmless.
		hl = &hookLimit{sem: make(chan struct{}, maxInFlight), win: newWindow(rps), rate: rps}
		l.m[hookID] = hl
	}
	return hl
}

func (l *limits) forget(hookID string) {
	l.mu.Lock()
	delete(l.m, hookID)
	l.mu.Unlock()
}

// acquire takes a concurrency slot and a window slot for an integration,
// waiting up to maxLimitWait. It returns a release function, or, when the
// budget is not there in time, how long to wait before trying again.
func (l *limits) acquire(ctx context.Context, hookID string, maxInFlight int, rps float64) (func(), time.Duration, error) {
	hl := l.get(hookID, maxInFlight, rps)
	deadline := time.NewTimer(maxLimitWait)
	defer deadline.Stop()
	select {
	case hl.sem <- struct{}{}:
	case <-deadline.C:
		return nil, maxLimitWait, nil
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}
	for {
		i, wait := hl.win.take(time.Now())
		if i >= 0 {
			return func() {
				hl.win.release(i, time.Now())
				<-hl.sem
			}, 0, nil
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
			continue
		case <-deadline.C:
			t.Stop()
			<-hl.sem
			return nil, maxLimitWait, nil
		case <-ctx.Done():
			t.Stop()
			<-hl.sem
			return nil, 0, ctx.Err()
		}
	}
}
