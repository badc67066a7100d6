package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/store"
)

// lease is how long a worker holds a delivery for one attempt: twice the
// request timeout. A lease that runs out means the worker died (the request
// cannot take longer), and maintenance queues the delivery again; should a
// slow database stretch an attempt past it, the delivery is merely sent
// twice with the same webhook-id.
func (s *Service) lease() time.Duration { return 2 * s.cfg.RequestTimeout }

// deliveryWorker works DeliveryArgs jobs.
type deliveryWorker struct {
	river.WorkerDefaults[DeliveryArgs]
	s *Service
}

// Work makes one attempt. A failed attempt is not an error for River: the
// job snoozes until the delivery's next attempt, so that one counter (the
// delivery's) drives the schedule, Retry-After included. Errors returned
// here are infrastructure failures, retried by River's default policy.
func (w *deliveryWorker) Work(ctx context.Context, job *river.Job[DeliveryArgs]) error {
	again, err := w.s.deliver(ctx, job.Args.DeliveryID, job.Args.Generation)
	if err != nil {
		return err
	}
	if again >= 0 {
		return river.JobSnooze(again)
	}
	return nil
}

// Timeout leaves room for the request and the bookkeeping around it.
func (w *deliveryWorker) Timeout(*river.Job[DeliveryArgs]) time.Duration {
	return w.s.lease() + 15*time.Second
}

// done is deliver's "no further attempt of this job".
const done = time.Duration(-1)

// deliver makes one attempt of a delivery round, if it is still due, and
// returns how long to wait before the job tries again (done for never).
//
// The lease is taken first, in one statement, so that a job that has
// started either holds its delivery or does nothing: a crash leaves either a
// lease that runs out (recovered at once by Maintain) or a job that never
// got as far (recovered after RecoverAfter).
func (s *Service) deliver(ctx context.Context, deliveryID string, generation int) (time.Duration, error) {
	now := s.now()
	d, err := s.st.ClaimHookDelivery(ctx, deliveryID, generation, now, now.Add(s.lease()))
	if errors.Is(err, store.ErrNotFound) {
		// Delivered, dead, held, deleted, queued anew, or held by a live
		// worker: nothing for this job to do.
		return done, nil
	}
	if err != nil {
		return done, fmt.Errorf("claim delivery %s: %w", deliveryID, err)
	}
	if wait := d.NextAttemptAt.Sub(now); wait > time.Second {
		// A job run early (recovered after a crash) keeps the schedule.
		return wait, s.release(ctx, d, d.NextAttemptAt, false, nil)
	}
	h, err := s.st.Hook(ctx, d.HookID)
	if errors.Is(err, store.ErrNotFound) {
		return done, nil
	}
	if err != nil {
		return done, s.release(ctx, d, d.NextAttemptAt, false, fmt.Errorf("load integration %s: %w", d.HookID, err))
	}
	if h.State != StateActive {
		// Held until Resume queues it again.
		return done, s.st.SetHookDeliveryStatus(ctx, d.ID, d.Generation, store.HookDeliveryHeld, now)
	}
	release, wait, err := s.limits.acquire(ctx, h.ID, cmpOr(h.MaxInFlight, s.cfg.MaxInFlight), cmpOr(h.RatePerSecond, s.cfg.RatePerSecond))
	if err != nil {
		return done, s.release(ctx, d, d.NextAttemptAt, false, err)
	}
	if release == nil {
		// Over the integration's limits: try again later, and say so on the
		// delivery, so that it does not look abandoned.
		return wait, s.release(ctx, d, s.now().Add(wait), false, nil)
	}
	defer release()
	return s.attempt(ctx, h, d, nil, false)
}

// attempt sends a leased delivery to h, within its limits, and records the
// outcome; it returns deliver's wait. payload is the event's body, read
// from the database when nil. local says the lease is the local pool's,
// which has no job to run again: what follows is queued with the outcome
// (see release).
func (s *Service) attempt(ctx context.Context, h *store.Hook, d *store.HookDelivery, payload []byte, local bool) (time.Duration, error) {
	now := s.now()
	if payload == nil {
		p, err := s.st.HookEventPayload(ctx, d.EventID)
		if err != nil {
			return done, s.release(ctx, d, d.NextAttemptAt, local, fmt.Errorf("load event %s: %w", d.EventID, err))
		}
		payload = []byte(p)
	}
	keys, err := s.openKeys(h)
	if err != nil {
		return done, s.release(ctx, d, d.NextAttemptAt, local, err)
	}
	secrets, err := s.secrets(h, now)
	if err != nil {
		return done, s.release(ctx, d, d.NextAttemptAt, local, err)
	}
	res := s.send(ctx, target{URL: h.URL, Keys: keys, Secrets: secrets}, d.EventID, payload, false, s.cfg.MaxResponse)
	if ctx.Err() != nil {
		// The worker is stopping: this was no fair attempt. River runs the
		// job again (the pool's is queued due at once).
		return done, s.release(ctx, d, d.NextAttemptAt, local, ctx.Err())
	}
	return s.record(ctx, h, d, res, local)
}

// release gives up a lease without an attempt, the next one due at next,
// and returns cause. A job's worker only releases the lease: River runs
// its job again. The local pool (local) has no job, so it hands the
// delivery back (handBack): were the release and the job's insert two
// transactions, a crash between them would leave the delivery pending with
// neither a lease nor a job, which maintenance finds only after
// RecoverAfter. If the hand-back fails, it is logged and the lease stays,
// and maintenance queues the delivery once it runs out.
func (s *Service) release(ctx context.Context, d *store.HookDelivery, next time.Time, local bool, cause error) error {
	if !local {
		return errors.Join(cause, s.st.ReleaseHookDelivery(context.WithoutCancel(ctx), d.ID, d.Generation, next, s.now()))
	}
	left := *d
	left.NextAttemptAt = next
	_ = s.handBack(ctx, []localDelivery{{d: &left}}) // it logs its own failure
	return cause
}

func cmpOr[T int | float64](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// record stores an attempt and decides what follows: delivered, retried
// after a wait, dead-lettered, or held because the integration was paused
// (410 Gone, or failing for longer than AutoPauseAfter). The local pool's
// retry (local) is queued in the same transaction, as handBack queues.
func (s *Service) record(ctx context.Context, h *store.Hook, d *store.HookDelivery, res *result, local bool) (time.Duration, error) {
	ctx = context.WithoutCancel(ctx) // an attempt made is an attempt recorded
	now := s.now()
	again := done
	attempt := &store.HookAttempt{ID: id.NewAt("hka", now), DeliveryID: d.ID, Generation: d.Generation,
		StartedAt: res.Start, LatencyMS: res.Latency.Milliseconds(), StatusCode: res.StatusCode, Response: res.Body,
		ResponseTruncated: res.Truncated, ErrorKind: res.ErrKind, Error: res.Err}
	if res.Request.Method != "" {
		if b, err := json.Marshal(res.Request); err == nil {
			attempt.Request = string(b)
		}
	}
	out := &store.HookDeliveryResult{ID: d.ID, Generation: d.Generation, AttemptAt: res.Start,
		StatusCode: res.StatusCode, Error: res.Err, Now: now}
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		again = done
		if err := tx.CreateHookAttempt(ctx, attempt); err != nil {
			return err
		}
		var pause string
		switch {
		case res.OK():
			out.Status = store.HookDeliveryDelivered
			if err := tx.RecordHookSuccess(ctx, h.ID, now); err != nil {
				return err
			}
		case res.StatusCode == 410:
			out.Status = store.HookDeliveryHeld
			pause = "The receiver answered 410 Gone, so Vigil stopped sending to it; check the webhook address, then resume the integration."
			if _, err := tx.RecordHookFailure(ctx, h.ID, now); err != nil {
				return err
			}
		default:
			since, err := tx.RecordHookFailure(ctx, h.ID, now)
			if err != nil {
				return err
			}
			switch {
			case now.Sub(since) >= s.cfg.AutoPauseAfter:
				out.Status = store.HookDeliveryHeld
				pause = autoPauseReason(since, s.cfg.AutoPauseAfter)
			case d.RoundAttempts+1 >= len(s.cfg.Schedule)+1:
				out.Status = store.HookDeliveryDead
			default:
				wait := res.RetryAfter
				if wait <= 0 {
					wait = max(s.cfg.Jitter(s.cfg.Schedule[d.RoundAttempts]), 0)
				}
				out.Status, out.NextAttemptAt, again = store.HookDeliveryPending, now.Add(wait), wait
			}
		}
		ok, err := tx.FinishHookDelivery(ctx, out)
		if err != nil {
			return err
		}
		switch {
		case !ok:
			again = done // queued anew meanwhile: the new round's job carries on
		case local && again >= 0:
			again = done
			next := store.HookJobRef{DeliveryID: d.ID, HookID: d.HookID, Generation: d.Generation, At: out.NextAttemptAt}
			if err := s.requeue(ctx, tx, []store.HookJobRef{next}, priorityNormal); err != nil {
				return err
			}
		}
		if pause != "" {
			return s.pauseTx(ctx, tx, h.ID, pause, now)
		}
		return nil
	})
	if err != nil {
		return done, fmt.Errorf("record attempt of delivery %s: %w", d.ID, err)
	}
	s.cfg.Logger.LogAttrs(ctx, slog.LevelDebug, "hook attempt", slog.String("integration", h.Name),
		slog.String("delivery", d.ID), slog.String("event", d.EventID), slog.Int("status", res.StatusCode),
		slog.String("error_kind", res.ErrKind), slog.String("outcome", out.Status))
	if out.Status == store.HookDeliveryDead {
		s.cfg.Logger.Warn("hook delivery dead-lettered after its last attempt", "integration", h.Name, "delivery", d.ID, "event", d.EventID)
	}
	return again, nil
}

func autoPauseReason(since time.Time, after time.Duration) string {
	return fmt.Sprintf("Every delivery has failed since %s (more than %s), so Vigil paused the integration; fix the receiver, then resume it to send what is pending.",
		since.Format(time.RFC3339), humanDuration(after))
}

// pauseTx pauses an integration and holds its pending deliveries; the
// local pool reads the integration afresh once tx commits.
func (s *Service) pauseTx(ctx context.Context, tx *store.Tx, hookID, reason string, now time.Time) error {
	changed, err := tx.PauseHook(ctx, hookID, reason, now)
	if err != nil || !changed {
		return err
	}
	tx.AfterCommit(s.hooksChanged)
	_, err = tx.HoldHookDeliveries(ctx, hookID, now)
	return err
}

// humanDuration writes d in days or hours, for messages.
func humanDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	case d >= 2*time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return d.String()
}
