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
// node would:
//
//   - in flight: a slot row per request being sent (vigil_limit_slot),
//     taken atomically and freed when the request ends; a node that dies
//     holding slots frees them when their hold (the request timeout plus
//     a margin) runs out.
//   - rate: a token bucket of one token, refilled every paceMargin/rate
//     seconds, kept as one row advanced atomically on the database's
//     clock (vigil_rate_limit). Requests leave evenly spaced, 5% under
//     the rate, so rate+1 of them span 1.05 s: a receiver sees more than
//     rate in one second only if the network delays one request by over
//     1/rate s more than a later one (50 ms at 20/s).
//
// Each check is one statement; a delivery that waits polls the database
// every pollLimit at most.
type sharedLimits struct {
	st *store.Store
	// holder names this node's slots.
	holder string
	// hold is how long a slot is held at most.
	hold time.Duration
}

// paceMargin stretches the interval between two requests of a shared
// rate limit, so that the jitter between taking a token and the request
// arriving does not push a receiver over its rate.
const paceMargin = 1.05

// pollLimit is how often a delivery waiting for a free slot looks again.
const pollLimit = 25 * time.Millisecond

func newSharedLimits(st *store.Store, requestTimeout time.Duration) *sharedLimits {
	return &sharedLimits{st: st, holder: id.Token(12), hold: requestTimeout + 30*time.Second}
}

func (l *sharedLimits) forget(string) {}

func (l *sharedLimits) acquire(ctx context.Context, hookID string, maxInFlight int, rps float64) (func(), time.Duration, error) {
	deadline := time.Now().Add(maxLimitWait)
	slotKey := "hook-inflight:" + hookID
	slot := -1
	for {
		var err error
		if slot, err = l.st.TakeSlot(ctx, slotKey, l.holder, maxInFlight, l.hold); err != nil {
			return nil, 0, err
		}
		if slot >= 0 {
			break
		}
		if time.Now().Add(pollLimit).After(deadline) {
			return nil, maxLimitWait, nil
		}
		if err := vendorhttp.Sleep(ctx, pollLimit); err != nil {
			return nil, 0, err
		}
	}
	release := func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		// A slot not freed here is freed when its hold runs out.
		_ = l.st.ReleaseSlot(ctx, slotKey, slot, l.holder)
	}
	interval := time.Duration(paceMargin * float64(time.Second) / rps)
	for {
		ok, wait, err := l.st.TakeRateToken(ctx, "hook-rate:"+hookID, interval, 1)
		if err != nil {
			release()
			return nil, 0, err
		}
		if ok {
			return release, 0, nil
		}
		if time.Now().Add(wait).After(deadline) {
			release()
			return nil, max(wait, maxLimitWait), nil
		}
		if err := vendorhttp.Sleep(ctx, wait); err != nil {
			release()
			return nil, 0, err
		}
	}
}
