package hooks

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-ispm/vigil/internal/pool"
	"github.com/vigil-ispm/vigil/internal/store"
)

// DefaultLocalGrace is Config.LocalGrace's default.
const DefaultLocalGrace = 10 * time.Second

// maxLocalBacklog bounds the deliveries waiting for the local pool; those
// beyond it are left to their jobs.
const maxLocalBacklog = 10_000

// localDelivery is a delivery round handed to the local pool.
type localDelivery struct {
	id         string
	hookID     string
	generation int
}

// localPool sends deliveries on the node that published them as soon as
// their outbox transaction commits, instead of at the job queue's next
// poll (on SQLite a job inserted in a transaction wakes no worker; on
// PostgreSQL the notification still costs a fetch round trip). Every such
// delivery also has its River job, scheduled LocalGrace later: that job is
// the recovery path, for a delivery the pool could not take (full, over
// the integration's limits, stopped) or lost with its node. A job that
// finds its delivery done does nothing, so a delivery is still sent at
// least once and, while a worker holds its lease, by one worker only.
type localPool struct {
	work chan localDelivery
	// Pool runs the senders. Its Stopping closes when the pool stops
	// taking deliveries; its context ends when it stops for good:
	// attempts still in flight are cut short and their jobs carry on.
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
// left to its jobs, and the attempts in flight may finish until ctx ends,
// when they are cut short (recorded as not made) and left to their jobs too.
func (s *Service) StopLocal(ctx context.Context) error {
	if p := s.local.Load(); p != nil {
		p.Stop(ctx)
	}
	return nil
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

// offer hands deliveries to the pool without waiting; those it has no room
// for are left to their jobs.
func (p *localPool) offer(ds []localDelivery) {
	if p.Stopped() {
		return
	}
	for _, d := range ds {
		select {
		case p.work <- d:
		default:
			return
		}
	}
}

// sendLocal makes the first attempt of a delivery from the pool. Whatever
// stops it before the attempt (the integration paused or over its limits,
// the delivery taken by a job) leaves the delivery to its job, untouched.
func (s *Service) sendLocal(ctx context.Context, ld localDelivery) {
	h, err := s.st.Hook(ctx, ld.hookID)
	if err != nil || h.State != StateActive {
		return
	}
	release, _, err := s.limits.acquire(ctx, h.ID, cmpOr(h.MaxInFlight, s.cfg.MaxInFlight), cmpOr(h.RatePerSecond, s.cfg.RatePerSecond))
	if err != nil || release == nil {
		return
	}
	defer release()
	now := s.now()
	d, err := s.st.ClaimHookDelivery(ctx, ld.id, ld.generation, now, now.Add(s.lease()))
	if err != nil {
		return
	}
	if wait := d.NextAttemptAt.Sub(now); wait > time.Second {
		// Queued anew with a later attempt: keep its schedule.
		s.followUp(ctx, d, wait, s.release(ctx, d, d.NextAttemptAt, nil))
		return
	}
	again, err := s.attempt(ctx, h, d)
	s.followUp(ctx, d, again, err)
}

// followUp queues a job for what a local attempt leaves to do: a retry
// after again, or, after an error (the pool stopping mid-attempt, say),
// another try at once, on any node. The delivery's
// first job may have run meanwhile and found it leased, so it cannot be
// counted on; a job left waiting as well finds nothing to do, or the retry
// not due yet.
func (s *Service) followUp(ctx context.Context, d *store.HookDelivery, again time.Duration, err error) {
	if err == nil && again < 0 {
		return
	}
	wait := max(again, 0)
	ctx = context.WithoutCancel(ctx)
	qerr := s.st.InTx(ctx, func(tx *store.Tx) error {
		jobID, err := s.insertJob(ctx, tx, d.ID, d.Generation, priorityNormal, time.Now().Add(wait))
		if err != nil {
			return err
		}
		return tx.SetHookDeliveryJob(ctx, d.ID, d.Generation, jobID)
	})
	if qerr != nil {
		s.cfg.Logger.Error("cannot queue the next attempt of a delivery; maintenance will once it is overdue",
			"delivery", d.ID, "err", fmt.Errorf("%w (after: %w)", qerr, err))
	} else if err != nil {
		s.cfg.Logger.Warn("a delivery attempt failed in this node's pool; its job will try again", "delivery", d.ID, "err", err)
	}
}
