package hooks

import (
	"context"
	"fmt"

	"github.com/vigil-ispm/vigil/internal/store"
)

// retentionArgs is the periodic job that deletes finished deliveries older
// than Config.Retention.
type retentionArgs struct{}

// Kind names the job in River's job table.
func (retentionArgs) Kind() string { return "hook_retention" }

// Prune deletes the deliveries that are delivered or dead and have not
// changed for longer than Config.Retention, with their attempts, and then
// the events older than that which no delivery refers to any more. It
// works in transactions of Config.PruneBatch rows, so a large backlog never
// holds a lock for long, and returns how many deliveries it deleted.
//
// Pending and held deliveries, and the events they belong to, are never
// deleted, however old: they are still to be sent. With Retention zero
// Prune deletes nothing. It is safe to run on several nodes at once.
func (s *Service) Prune(ctx context.Context) (int, error) {
	if s.cfg.Retention <= 0 {
		return 0, nil
	}
	keep := s.cfg.Retention
	if s.cfg.RetentionSetting != nil {
		if d := s.cfg.RetentionSetting(ctx); d > 0 {
			keep = d
		}
	}
	before := s.now().Add(-keep)
	deliveries, err := s.pruneBatches(ctx, func(tx *store.Tx) (int, error) {
		return tx.DeleteFinishedHookDeliveries(ctx, before, s.cfg.PruneBatch)
	})
	if err != nil {
		return deliveries, fmt.Errorf("delete old deliveries: %w", err)
	}
	events, err := s.pruneBatches(ctx, func(tx *store.Tx) (int, error) {
		return tx.DeleteUnreferencedHookEvents(ctx, before, s.cfg.PruneBatch)
	})
	if err != nil {
		return deliveries, fmt.Errorf("delete old events: %w", err)
	}
	if deliveries > 0 || events > 0 {
		s.cfg.Logger.Info("deleted old deliveries and events", "deliveries", deliveries, "events", events,
			"older_than", before)
	}
	return deliveries, nil
}

// pruneBatches runs del in one transaction after another until a batch
// deletes fewer than PruneBatch rows or ctx ends, and returns the total.
func (s *Service) pruneBatches(ctx context.Context, del func(tx *store.Tx) (int, error)) (int, error) {
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var n int
		err := s.st.InTx(ctx, func(tx *store.Tx) error {
			var err error
			n, err = del(tx)
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < s.cfg.PruneBatch {
			return total, nil
		}
	}
}
