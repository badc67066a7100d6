package invoke

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/vigil-ispm/vigil/internal/store"
)

// AliasCacheAge is how long an endpoint row read for an invocation is used
// again, and so how long another node sharing the database may still
// accept a client token rotated or revoked elsewhere. A change made
// through this node's Endpoints is seen at once: it forgets every row.
const AliasCacheAge = 500 * time.Millisecond

// aliasCacheSize bounds the rows kept of each kind; past it that kind
// starts over.
const aliasCacheSize = 1024

// aliasCache keeps the endpoint rows invocations look up by alias, which
// were a quarter of the invoke handler's time. Unknown aliases are kept
// too, apart from the known ones, for two reasons: a refusal of an unknown
// alias then costs what a refusal of a known one costs (a map lookup, not
// a query), so timing does not tell whether an alias exists; and a caller
// trying many aliases cannot push the known ones out. What timing can
// still tell is whether an alias was looked up in the last AliasCacheAge
// by anyone, which holds as much for an unknown alias someone tried as
// for a known one.
//
// A read that began before a change on this node is not kept: gen moves
// with every change, and a row is kept only when gen did not move while it
// was read.
type aliasCache struct {
	// age is AliasCacheAge, and read store.EndpointByAlias, unless a test
	// sets them.
	age  time.Duration
	read func(ctx context.Context, alias string) (*store.Endpoint, error)

	mu      sync.Mutex
	gen     uint64
	known   map[string]cachedEndpoint
	unknown map[string]time.Time
}

type cachedEndpoint struct {
	ep *store.Endpoint
	at time.Time
}

// byAlias returns the endpoint of alias as read at most AliasCacheAge ago,
// or store.ErrNotFound. The row is shared: callers must not change it.
func (e *Endpoints) byAlias(ctx context.Context, alias string) (*store.Endpoint, error) {
	c := &e.aliases
	age := c.age
	if age == 0 {
		age = AliasCacheAge
	}
	now := time.Now()
	c.mu.Lock()
	if r, ok := c.known[alias]; ok && now.Sub(r.at) < age {
		c.mu.Unlock()
		return r.ep, nil
	}
	if at, ok := c.unknown[alias]; ok && now.Sub(at) < age {
		c.mu.Unlock()
		return nil, store.ErrNotFound
	}
	gen := c.gen
	c.mu.Unlock()
	var ep *store.Endpoint
	var err error
	if c.read != nil {
		ep, err = c.read(ctx, alias)
	} else {
		ep, err = e.store.EndpointByAlias(ctx, alias)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if ep != nil {
			if c.known == nil || len(c.known) >= aliasCacheSize {
				c.known = map[string]cachedEndpoint{}
			}
			c.known[alias] = cachedEndpoint{ep: ep, at: now}
		} else {
			if c.unknown == nil || len(c.unknown) >= aliasCacheSize {
				c.unknown = map[string]time.Time{}
			}
			c.unknown[alias] = now
		}
	}
	c.mu.Unlock()
	return ep, err
}

// changed forgets every cached row. Endpoints calls it after each write to
// an endpoint, once the write is committed.
func (e *Endpoints) changed() {
	c := &e.aliases
	c.mu.Lock()
	c.gen++
	clear(c.known)
	clear(c.unknown)
	c.mu.Unlock()
}
