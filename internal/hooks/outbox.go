package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/vigil-ispm/vigil/internal/event"
	"github.com/vigil-ispm/vigil/internal/id"
	"github.com/vigil-ispm/vigil/internal/queue"
	"github.com/vigil-ispm/vigil/internal/store"
)

var _ event.Outbox = (*Service)(nil)

// DeliveryArgs is the River job that attempts one delivery. Generation ties
// the job to one round of the delivery: a job of an older round (before a
// resend, a resume or a lease recovery) finds nothing to do.
type DeliveryArgs struct {
	DeliveryID string `json:"delivery_id"`
	Generation int    `json:"generation"`
}

// Kind names the job kind in River.
func (DeliveryArgs) Kind() string { return "hook_delivery" }

// jobMaxAttempts bounds River's own retries, which only happen when a
// delivery job fails for a reason other than the receiver (the database is
// unreachable, say): failed HTTP attempts are rescheduled by snoozing, on
// the delivery's own schedule.
const jobMaxAttempts = 25

// Job priorities (River works 1 before 2): a recovered delivery's job goes
// ahead of the queue, so that a backlog longer than RecoverAfter cannot keep
// pushing it back.
const (
	priorityNormal    = 2
	priorityRecovered = 1
)

// insertJob queues the job of a delivery round in tx, to run at at (at
// once when zero), and returns its id (0 when the queue does not say).
func (s *Service) insertJob(ctx context.Context, tx *store.Tx, deliveryID string, generation, priority int, at time.Time) (int64, error) {
	if s.queue == nil {
		return 0, ErrNoQueue
	}
	res, err := s.queue.InsertTx(ctx, tx, DeliveryArgs{DeliveryID: deliveryID, Generation: generation}, s.jobOpts(priority, at))
	if err != nil {
		return 0, err
	}
	return jobID(res), nil
}

// jobOpts are the options of a delivery job of priority, to run at at (at
// once when zero).
func (s *Service) jobOpts(priority int, at time.Time) *river.InsertOpts {
	return &river.InsertOpts{Queue: s.cfg.QueueName, MaxAttempts: jobMaxAttempts, Priority: priority, ScheduledAt: at}
}

// jobID is the id of the job res inserted, 0 when the queue does not say.
func jobID(res *rivertype.JobInsertResult) int64 {
	if res == nil || res.Job == nil {
		return 0
	}
	return res.Job.ID
}

// requeue queues a job for each delivery round in refs, due at its At,
// in one statement, and records it.
func (s *Service) requeue(ctx context.Context, tx *store.Tx, refs []store.HookJobRef, priority int) error {
	if s.queue == nil {
		return ErrNoQueue
	}
	params := make([]river.InsertManyParams, len(refs))
	for i, ref := range refs {
		params[i] = river.InsertManyParams{Args: DeliveryArgs{DeliveryID: ref.DeliveryID, Generation: ref.Generation},
			InsertOpts: s.jobOpts(priority, ref.At)}
	}
	res, err := queue.InsertAll(ctx, s.queue, tx, params)
	if err != nil {
		return err
	}
	for i, ref := range refs {
		if err := tx.SetHookDeliveryJob(ctx, ref.DeliveryID, ref.Generation, jobID(res[i])); err != nil {
			return err
		}
	}
	return nil
}

// Publish implements event.Outbox: it stores ev in tx and, for each
// integration whose automation matches ev now, a delivery and its job. All
// of it commits with the caller's change or not at all. An event without an
// id gets a random UUID, without a timestamp the current time.
func (s *Service) Publish(ctx context.Context, tx *store.Tx, ev event.Event) error {
	return s.publish(ctx, tx, ev, "")
}

// publish is Publish, to the integration only when only is set.
func (s *Service) publish(ctx context.Context, tx *store.Tx, ev event.Event, only string) error {
	now := s.now()
	if ev.ID == "" {
		ev.ID = uuid.NewString()
	}
	if ev.Timestamp.IsZero() {
		ev.Timestamp = now
	}
	if ev.Source == "" {
		ev.Source = event.Source
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event %s: %w", ev.ID, err)
	}
	err = tx.CreateHookEvent(ctx, &store.HookEvent{ID: ev.ID, Type: ev.Type, IssueID: ev.EventData.ID,
		Title: ev.EventData.Title, Payload: string(body), CreatedAt: now})
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("event %s was already published: %w", ev.ID, err)
	}
	if err != nil {
		return fmt.Errorf("store event %s: %w", ev.ID, err)
	}
	routes, err := tx.HookRoutes(ctx)
	if err != nil {
		return fmt.Errorf("load automations: %w", err)
	}
	// With a local pool, a delivery is created leased by this node and
	// without a job: the pool makes its first attempt once tx commits (see
	// localPool). Otherwise its job is queued with it.
	pool := s.pool()
	var local []localDelivery
	for _, rt := range routes {
		if (only != "" && rt.Automation.HookID != only) || !automationFromStore(&rt.Automation).Matches(&ev) {
			continue
		}
		d := &store.HookDelivery{ID: id.NewAt("hkd", now), EventID: ev.ID, HookID: rt.Automation.HookID,
			IssueID: ev.EventData.ID, EventType: ev.Type, Title: ev.EventData.Title, Status: store.HookDeliveryPending,
			Generation: 1, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
		switch {
		case rt.HookState != StateActive:
			d.Status = store.HookDeliveryHeld
		case pool != nil:
			d.LeasedUntil = now.Add(s.lease())
			local = append(local, localDelivery{d: d, payload: body})
		default:
			if d.JobID, err = s.insertJob(ctx, tx, d.ID, d.Generation, priorityNormal, time.Time{}); err != nil {
				return err
			}
		}
		if err := tx.CreateHookDelivery(ctx, d); err != nil {
			return fmt.Errorf("store delivery of event %s: %w", ev.ID, err)
		}
	}
	if len(local) > 0 {
		tx.AfterCommit(func() { s.offer(pool, local) })
	}
	return nil
}
