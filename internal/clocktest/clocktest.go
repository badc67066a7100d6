// Package clocktest gives tests one fake clock for the code that takes a
// Now and a Sleep (vendor clients' retries, rate-limit resets, token
// expiry, schedules): time stands still until the test or a sleep moves
// it, and every wait is recorded, so retries run instantly and the test
// can check how long the code chose to wait.
package clocktest

import (
	"context"
	"sync"
	"time"
)

// Start is the instant a Clock from New shows when given the zero time.
var Start = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

// Clock is a fake clock. It is safe for concurrent use.
type Clock struct {
	mu    sync.Mutex
	now   time.Time
	still bool
	waits []time.Duration
}

// New returns a clock showing t, or Start when t is zero.
func New(t time.Time) *Clock {
	if t.IsZero() {
		t = Start
	}
	return &Clock{now: t}
}

// Still returns a clock showing t (or Start) whose Sleep records the wait
// but does not move the time, for tests that compare against fixed
// instants.
func Still(t time.Time) *Clock {
	c := New(t)
	c.still = true
	return c
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Add moves the clock forward by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Sleep records d, moves the clock forward by d (unless the clock is
// still) and returns at once: nil, or, if ctx has ended, its cause
// (context.Cause), as a real sleep cut short by a cancelled run would.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	if !c.still {
		c.now = c.now.Add(d)
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

// Waits returns the waits asked of Sleep so far, in order.
func (c *Clock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}
