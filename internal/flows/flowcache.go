package flows

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/vigil-ispm/vigil/internal/store"
)

// flowCacheAge is how long a flow row read for an invocation is used
// again. A flow turned off or saved on this node is read afresh at once
// (flowsChanged); on another node sharing the database, within this time.
const flowCacheAge = 500 * time.Millisecond

// flowCacheSize bounds the rows kept; past it the cache starts over.
const flowCacheSize = 1024

// flowCache keeps the flow rows the invoke path reads twice per call (the
// endpoint's flow, then the flow the execution starts), which were a fifth
// of a synchronous invocation's server time. A read that began before a
// change on this node is not kept: gen moves with every change, and a row
// is kept only when gen did not move while it was read.
//
// A flow that does not exist is kept too (f nil): the invoke endpoint
// looks up a decoy flow for every unknown alias, and that lookup must cost
// what a known flow's costs, so that timing does not tell the two apart.
// Flow ids are never reused and a flow created here forgets the cache, so
// a kept absence can only hide a flow created on another node in the last
// flowCacheAge, for a caller that asked for its id before it existed.
type flowCache struct {
	mu   sync.Mutex
	gen  uint64
	rows map[string]cachedFlow
}

type cachedFlow struct {
	f  *store.Flow // nil: no such flow
	at time.Time
}

// cachedFlow returns the flow's row as read at most flowCacheAge ago, or
// store.ErrNotFound as found then. The row is shared: callers must not
// change it.
func (s *Service) cachedFlow(ctx context.Context, flowID string) (*store.Flow, error) {
	c := &s.flows
	now := time.Now()
	c.mu.Lock()
	if e, ok := c.rows[flowID]; ok && now.Sub(e.at) < flowCacheAge {
		c.mu.Unlock()
		if e.f == nil {
			return nil, store.ErrNotFound
		}
		return e.f, nil
	}
	gen := c.gen
	c.mu.Unlock()
	f, err := s.st.Flow(ctx, flowID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if c.rows == nil || len(c.rows) >= flowCacheSize {
			c.rows = map[string]cachedFlow{}
		}
		c.rows[flowID] = cachedFlow{f: f, at: now}
	}
	c.mu.Unlock()
	return f, err
}

// flowsChanged forgets every cached flow row. Call it after a flow is
// saved, turned on or off, or deleted on this node, once the change is
// committed.
func (s *Service) flowsChanged() {
	c := &s.flows
	c.mu.Lock()
	c.gen++
	clear(c.rows)
	c.mu.Unlock()
}
