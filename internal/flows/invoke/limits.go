package invoke

import (
	"context"
	"errors"
	"math"
	"strconv"
	"time"

	"golang.org/x/time/rate"

	"github.com/vigil-ispm/vigil/internal/flows/dsl"
	"github.com/vigil-ispm/vigil/internal/store"
)

// limits are the bounds an endpoint's invocations get: the flow
// document's own (metadata.vigil.trigger.apiEndpoint.limits), field by
// field, else the handler's defaults.
type limits struct {
	rate       rate.Limit // rate.Inf: no limit
	burst      int
	maxBacklog int // 0: no limit
}

// limitsOf returns the limits of an endpoint.
func (h *Handler) limitsOf(ep *dsl.APIEndpoint) limits {
	l := limits{rate: h.cfg.Rate, burst: h.cfg.Burst, maxBacklog: h.cfg.MaxBacklog}
	if l.rate < 0 {
		l.rate = rate.Inf
	}
	l.maxBacklog = max(0, l.maxBacklog)
	if own := ep.Limits; own != nil {
		if own.RatePerSecond != nil {
			l.rate = rate.Limit(*own.RatePerSecond)
			if l.rate == 0 {
				l.rate = rate.Inf
			}
		}
		if own.Burst != nil {
			l.burst = *own.Burst
		}
		if own.MaxBacklog != nil {
			l.maxBacklog = *own.MaxBacklog
		}
	}
	if l.burst <= 0 {
		// One second's worth of the rate.
		l.burst = max(1, int(math.Ceil(float64(min(l.rate, 1e6)))))
	}
	return l
}

// allow takes a token from the flow's bucket, which follows the limits
// given (they change when the flow is saved). On PostgreSQL, where
// several nodes serve the invoke URLs, the bucket is a row every node
// takes its tokens from (store.TakeRateToken), so the rate and burst hold
// cluster-wide, exactly as on one node; on SQLite it is in memory.
func (h *Handler) allow(ctx context.Context, flowID string, l limits) (bool, error) {
	if l.rate == rate.Inf {
		return true, nil
	}
	if h.store.Dialect() == store.Postgres {
		ok, _, err := h.store.TakeRateToken(ctx, "invoke:"+flowID, time.Duration(float64(time.Second)/float64(l.rate)), l.burst)
		return ok, err
	}
	h.mu.Lock()
	lim, ok := h.limiters[flowID]
	if !ok {
		lim = rate.NewLimiter(l.rate, l.burst)
		h.limiters[flowID] = lim
	} else if lim.Limit() != l.rate || lim.Burst() != l.burst {
		lim.SetLimit(l.rate)
		lim.SetBurst(l.burst)
	}
	h.mu.Unlock()
	return lim.Allow(), nil
}

// retryAfter is the Retry-After of a rate-limited answer, in whole seconds.
func (l limits) retryAfter() string {
	return strconv.Itoa(max(1, int(math.Ceil(1/float64(l.rate)))))
}

var errBacklogFull = errors.New("the flow's backlog is full")

// checkBacklog returns errBacklogFull when the flow has max or more
// unfinished executions; a max of 0 is no limit and reads nothing.
func (h *Handler) checkBacklog(ctx context.Context, flowID string, max int) error {
	if max == 0 {
		return nil
	}
	n, err := h.flows.Backlog(ctx, flowID)
	if err != nil {
		return err
	}
	if n >= max {
		return errBacklogFull
	}
	return nil
}
