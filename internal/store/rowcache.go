package store

import (
	"context"
	"errors"
	"sync"
	"time"
)

// RowCache keeps rows a hot path reads by key for a short time (Age), found
// and not found alike, so that a lookup repeated many times a second costs
// a map read instead of a query. The invoke path uses it for endpoints by
// alias and flows by id; both must answer an unknown key at the cost of a
// known one, so that timing does not tell whether it exists.
//
// Not-found answers are kept apart from rows, each up to Size keys (past
// it that kind starts over), so that a caller trying many unknown keys
// cannot push the known ones out. A change made on this node calls Forget
// once committed; a read that began before it is not kept (gen moves with
// every Forget, and a row is kept only when gen did not move while it was
// read). Another node sharing the database sees a change within Age.
type RowCache[T any] struct {
	// Age is how long a read is used again; Size bounds each kind.
	Age  time.Duration
	Size int

	mu      sync.Mutex
	gen     uint64
	found   map[string]keptRow[T]
	missing map[string]time.Time
}

type keptRow[T any] struct {
	row *T
	at  time.Time
}

// Get returns the row of key as read at most Age ago, or ErrNotFound as
// found then; otherwise it reads it with read. Errors other than
// ErrNotFound are returned and not kept. The row is shared: callers must
// not change it.
func (c *RowCache[T]) Get(ctx context.Context, key string, read func(context.Context, string) (*T, error)) (*T, error) {
	now := time.Now()
	c.mu.Lock()
	if r, ok := c.found[key]; ok && now.Sub(r.at) < c.Age {
		c.mu.Unlock()
		return r.row, nil
	}
	if at, ok := c.missing[key]; ok && now.Sub(at) < c.Age {
		c.mu.Unlock()
		return nil, ErrNotFound
	}
	gen := c.gen
	c.mu.Unlock()
	row, err := read(ctx, key)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return row, err
	}
	if err != nil {
		if c.missing == nil || len(c.missing) >= c.Size {
			c.missing = map[string]time.Time{}
		}
		c.missing[key] = now
		return nil, err
	}
	if c.found == nil || len(c.found) >= c.Size {
		c.found = map[string]keptRow[T]{}
	}
	c.found[key] = keptRow[T]{row: row, at: now}
	return row, nil
}

// Kept reports what Get would answer for key without reading: found or
// missing, or neither when it would read.
func (c *RowCache[T]) Kept(key string) (found, missing bool) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.found[key]; ok && now.Sub(r.at) < c.Age {
		return true, false
	}
	at, ok := c.missing[key]
	return false, ok && now.Sub(at) < c.Age
}

// Forget drops every kept answer. Call it after a change to the rows is
// committed.
func (c *RowCache[T]) Forget() {
	c.mu.Lock()
	c.gen++
	clear(c.found)
	clear(c.missing)
	c.mu.Unlock()
}
