package hooks

import (
	"context"
	"errors"
	"fmt"

	"github.com/vigil-ispm/vigil/internal/pool"
	"github.com/vigil-ispm/vigil/internal/store"
)

// maxLocalBacklog bounds the deliveries waiting for the local pool; those
// beyond it are handed to the job queue.
const maxLocalBacklog = 10_000

// localDelivery is a delivery handed to the local pool, as published: the
// row created leased by this node, and the event's body, so that the pool
// reads neither back.
type localDelivery struct {
	d       *store.HookDelivery
	payload []byte
}

// localPool sends deliveries on the node that published them as soon as
// their outbox transaction commits, instead of at the job queue's next
// poll (on SQLite a job inserted in a transaction wakes no worker; on
// PostgreSQL the notification still costs a fetch round trip).
//
// Such a delivery is created already leased by this node, and without a
// job, as the flows' local executions are: the pool neither claims it nor
// has a job to delete once it is sent, which saves River's insert and two
// writes per delivery. If the node dies, the lease is the recovery path:
// it runs out (on PostgreSQL, the node's lock goes first) and maintenance
// queues the delivery again on whichever node runs it; a server alone on
// its database does so at start. What the pool does not send itself (its
// line is full or it stops, the integration is paused or over its limits,
// an attempt fails) goes to the job queue at once. So a delivery is still
// sent at least once and, while its lease holds, by one worker only. A
// delivery that waited in the line for a third of its lease has the lease
// renewed before its attempt, so that the attempt ends within it.
type localPool struct {
	work chan localDelivery
	// Pool runs the senders. Its Stopping closes when the pool stops
	// taking deliveries; its context ends when it stops for good:
	// attempts still in flight are cut short and queued again.
	*pool.Pool
}

// RunLocally makes the deliveries this node publishes start at once,
// in-process, at most n at a time (and within each integration's limits),
// as soon as their transaction commits. It is meant to be called once,
// before serving; StopLocal ends it. Without it, deliveries wait for the
// job queue's workers.
func (s *Service) RunLocally(n int) {
	if n <= 0 {
		return
	}
	p := &localPool{work: make(chan localDelivery, maxLocalBacklog), Pool: pool.New()}
	ctx, stop := p.Context(), p.Stopping()
	for range n {
		p.Go(func() {
			for {
				select {
				case <-stop:
					return
				case ld := <-p.work:
					select {
					case <-stop:
						// handBack logs what it could not queue;
						// maintenance queues it later.
						_ = s.handBack(ctx, []localDelivery{ld})
						return
					default:
					}
					s.sendLocal(ctx, ld)
				}
			}
		})
	}
	s.local.Store(p)
}

// StopLocal stops sending deliveries in-process: what waits in the pool is
// handed to the job queue, and the attempts in flight may finish until ctx
// ends, when they are cut short (recorded as not made) and queued again.
// An error means some deliveries were not handed over; maintenance queues
// them once their lease runs out.
func (s *Service) StopLocal(ctx context.Context) error {
	p := s.local.Load()
	if p == nil {
		return nil
	}
	p.Stop(ctx)
	var left []localDelivery
	for {
		select {
		case ld := <-p.work:
			left = append(left, ld)
			continue
		default:
		}
		return s.handBack(ctx, left)
	}
}

// pool returns the local pool when it takes deliveries.
func (s *Service) pool() *localPool {
	p := s.local.Load()
	if p == nil {
		return nil
	}
	if p.Stopped() {
		return nil
	}
	return p
}

// offer hands deliveries whose transaction has committed to the pool
// without waiting; those it has no room for go to the job queue. It runs
// on the committing goroutine, so it must not block.
func (s *Service) offer(p *localPool, ds []localDelivery) {
	for i, ld := range ds {
		if !p.Stopped() {
			select {
			case p.work <- ld:
				continue
			default:
			}
		}
		rest := ds[i:]
		if !p.Go(func() { _ = s.handBack(p.Context(), rest) }) { // it logs its own failure
			s.cfg.Logger.Warn("the local pool stopped before it took some deliveries; maintenance queues them again once their lease runs out",
				"deliveries", len(rest))
		}
		return
	}
}

// handBack gives the deliveries the pool will not send to the job queue:
// each one's lease is released and a job queued, due at its next attempt
// (at once for one not yet tried), all in one transaction, so that a
// crash cannot leave one with neither a lease nor a job.
func (s *Service) handBack(ctx context.Context, lds []localDelivery) error {
	if len(lds) == 0 {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	now := s.now()
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		refs := make([]store.HookJobRef, 0, len(lds))
		for _, ld := range lds {
			d := ld.d
			if err := tx.ReleaseHookDelivery(ctx, d.ID, d.Generation, d.NextAttemptAt, now); err != nil {
				return err
			}
			refs = append(refs, store.HookJobRef{DeliveryID: d.ID, HookID: d.HookID, Generation: d.Generation, At: d.NextAttemptAt})
		}
		return s.requeue(ctx, tx, refs, priorityNormal)
	})
	if err != nil {
		err = fmt.Errorf("queue %d deliveries the local pool did not send: %w", len(lds), err)
		s.cfg.Logger.Error("cannot queue deliveries the local pool did not send; maintenance will once their lease runs out",
			"deliveries", len(lds), "err", err)
	}
	return err
}

// sendLocal makes the first attempt of a delivery from the pool. What
// stops it before the attempt (the integration paused or over its limits,
// the pool stopping) leaves the delivery held or to a job.
func (s *Service) sendLocal(ctx context.Context, ld localDelivery) {
	d := ld.d
	h, err := s.cachedHook(ctx, d.HookID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return // deleted, and its deliveries with it
	case err != nil:
		s.logLocal(d, s.release(ctx, d, d.NextAttemptAt, true, fmt.Errorf("load integration %s: %w", d.HookID, err)))
		return
	case h.State != StateActive:
		// Paused since: held until Resume queues it again.
		if err := s.st.SetHookDeliveryStatus(context.WithoutCancel(ctx), d.ID, d.Generation, store.HookDeliveryHeld, s.now()); err != nil {
			s.cfg.Logger.Error("cannot hold a delivery of a paused integration; maintenance queues it once its lease runs out",
				"delivery", d.ID, "err", err)
		}
		return
	}
	release, wait, err := s.limits.acquire(ctx, h.ID, cmpOr(h.MaxInFlight, s.cfg.MaxInFlight), cmpOr(h.RatePerSecond, s.cfg.RatePerSecond))
	if err != nil {
		// The pool is stopping: another try at once, from the queue.
		s.logLocal(d, s.release(ctx, d, d.NextAttemptAt, true, nil))
		return
	}
	if release == nil {
		// Over the integration's limits: its job tries again after wait.
		s.logLocal(d, s.release(ctx, d, s.now().Add(wait), true, nil))
		return
	}
	defer release()
	if !s.renewLocal(ctx, d) {
		return
	}
	_, err = s.attempt(ctx, h, d, ld.payload, true)
	s.logLocal(d, err)
}

// renewLocal renews the lease of a delivery that waited in the pool's line
// for a third of it, so that its attempt ends within the lease. It reports
// false when the delivery is no longer the pool's to send: maintenance
// queued it again (its lease ran out), or it was held or deleted; after an
// error too, and then its lease runs out and maintenance queues it.
func (s *Service) renewLocal(ctx context.Context, d *store.HookDelivery) bool {
	now := s.now()
	if d.LeasedUntil.Sub(now) > s.lease()*2/3 {
		return true
	}
	until := now.Add(s.lease())
	ok, err := s.st.RenewHookDeliveryLease(ctx, d.ID, d.Generation, d.LeasedUntil, until)
	if err != nil {
		s.cfg.Logger.Error("cannot renew the lease of a delivery waiting in this node's pool; maintenance queues it once the lease runs out",
			"delivery", d.ID, "err", err)
		return false
	}
	if ok {
		d.LeasedUntil = until
	}
	return ok
}

// logLocal logs what went wrong with a delivery in this node's pool. The
// delivery itself is not lost: its next attempt was queued with the
// failure, or, if that could not be, its lease stays until maintenance
// queues it.
func (s *Service) logLocal(d *store.HookDelivery, err error) {
	if err != nil {
		s.cfg.Logger.Warn("a delivery failed in this node's pool; a job tries again, or maintenance once its lease runs out", "delivery", d.ID, "err", err)
	}
}
