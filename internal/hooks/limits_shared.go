package hooks

import (
	"context"
	"time"

	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/store"
	"github.com/vigil-ispm/vigil/internal/vendorhttp"
)

// sharedLimits bounds an integration's requests across every node on one
// PostgreSQL database, so that N nodes send a receiver no more than one
// node would. Both limits are slot rows (vigil_limit_slot), taken in one
// atomic statement on the database's clock, so the nodes' clocks need not
// agree:
//
//   - in flight: a slot per request being sent, freed when the request
//     ends.
//   - rate: a sliding window (see limiter): a slot per request, held from
//     before it is sent until a second after it ended.
//
// A node that dies holding slots has them freed by a live node's recovery
// pass once its node lock is gone (store.FreeSlotsOfDeadNodes), else when
// their hold (the request timeout plus a margin) runs out.
type sharedLimits struct {
	st *store.Store
	// holder names this node's slots.
	holder string
	// hold is how long a slot is held at most.
	hold time.Duration
}

func newSharedLimits(st *store.Store, requestTimeout time.Duration) *sharedLimits {
	return &sharedLimits{st: st, holder: id.Token(12), hold: requestTimeout + 30*time.Second}
}

func (l *sharedLimits) forget(string) {}

func (l *sharedLimits) acquire(ctx context.Context, hookID string, maxInFlight int, rps float64) (func(), time.Duration, error) {
	deadline := time.Now().Add(maxLimitWait)
	inFlightKey, windowKey := "hook-inflight:"+hookID, "hook-window:"+hookID
	slot, retry, err := l.take(ctx, deadline, inFlightKey, maxInFlight, func(time.Duration) time.Duration { return pollLimit })
	if slot < 0 || err != nil {
		return nil, retry, err
	}
	release := func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		// A slot not freed here is freed when its hold runs out.
		_ = l.st.ReleaseSlot(ctx, inFlightKey, slot, l.holder)
	}
	n, span := windowOf(rps)
	// A window slot comes free when the database says, unless its request
	// is still running; then look again after a while.
	win, retry, err := l.take(ctx, deadline, windowKey, n, func(wait time.Duration) time.Duration { return min(wait, maxLimitWait/4) })
	if win < 0 || err != nil {
		release()
		return nil, retry, err
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		// The in-flight slot is freed now and the window slot a span after
		// this moment, which is after the request ended, in one statement;
		// a release that fails leaves both held for their whole hold, which
		// is only slower.
		_ = l.st.ReleaseSlots(ctx, inFlightKey, slot, windowKey, win, l.holder, span)
	}, 0, nil
}

// take takes one of n slots under key, sleeping between tries as pause
// says given the database's estimate of when one frees, until deadline.
// It returns -1 and how long to wait before trying again when none came
// free in time.
func (l *sharedLimits) take(ctx context.Context, deadline time.Time, key string, n int, pause func(time.Duration) time.Duration) (int, time.Duration, error) {
	for {
		slot, wait, err := l.st.TakeSlot(ctx, key, l.holder, n, l.hold)
		if err != nil || slot >= 0 {
			return slot, 0, err
		}
		d := pause(wait)
		if time.Now().Add(d).After(deadline) {
			return -1, maxLimitWait, nil
		}
		if err := vendorhttp.Sleep(ctx, d); err != nil {
			return -1, 0, err
		}
	}
}
