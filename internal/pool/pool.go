// Package pool holds the life of an in-process pool of work, which the
// flows and hooks services share: work is admitted until the pool stops,
// and stopping waits for the admitted work to finish, then cuts short
// what is still running. What the work is, and where it goes when the
// pool cannot take it, stays with each service.
package pool

import (
	"context"
	"sync"
)

// Pool counts the work admitted to an in-process pool and stops it.
// Admitted work ends with Done; its context (Context) ends when the pool
// stops for good. The zero Pool is not usable: call New.
type Pool struct {
	ctx    context.Context
	cancel context.CancelFunc
	// stopping is closed when Stop begins.
	stopping chan struct{}

	mu      sync.Mutex
	stopped bool
	// admitted counts the work admitted and not yet done.
	admitted int
	wg       sync.WaitGroup
}

// New returns a running pool.
func New() *Pool {
	ctx, cancel := context.WithCancel(context.Background())
	return &Pool{ctx: ctx, cancel: cancel, stopping: make(chan struct{})}
}

// Context ends when the pool stops for good, after Stop's wait: work
// still running then is cut short.
func (p *Pool) Context() context.Context { return p.ctx }

// Stopping is closed when Stop begins, so that work not started yet can
// be left to whatever takes it after the pool.
func (p *Pool) Stopping() <-chan struct{} { return p.stopping }

// Stopped reports whether Stop has begun.
func (p *Pool) Stopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopped
}

// Admit admits one piece of work, which must end with Done, unless the
// pool stopped or limit pieces are admitted already.
func (p *Pool) Admit(limit int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped || p.admitted >= limit {
		return false
	}
	p.admitted++
	p.wg.Add(1)
	return true
}

// Done ends a piece of work that Admit admitted.
func (p *Pool) Done() {
	p.mu.Lock()
	p.admitted--
	p.mu.Unlock()
	p.wg.Done()
}

// Go runs f in a goroutine as admitted work, without a limit, unless the
// pool stopped; it reports whether f runs.
func (p *Pool) Go(f func()) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return false
	}
	p.admitted++
	p.wg.Add(1)
	go func() {
		defer p.Done()
		f()
	}()
	return true
}

// Stop stops admitting work, closes Stopping and waits until the admitted
// work is done or ctx ends; then it ends the pool's context and waits for
// the work still running, which the context cuts short. Stopping a
// stopped pool waits again.
func (p *Pool) Stop(ctx context.Context) {
	p.mu.Lock()
	if !p.stopped {
		p.stopped = true
		close(p.stopping)
	}
	p.mu.Unlock()
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	p.cancel()
	<-done
}
