package store

import (
	"context"
	"strconv"
	"time"
)

// DeleteFinishedHookDeliveries deletes up to limit deliveries that are
// delivered or dead and whose last change (updated_at) is before t, oldest
// first, together with their attempts, and returns how many deliveries it
// deleted. Pending and held deliveries are never touched.
//
// The state and age are checked again by the DELETE itself, so a delivery
// that a concurrent Resend moves back to pending between the choice and the
// delete is kept. Attempts go with their delivery through the foreign key's
// ON DELETE CASCADE, which both databases enforce (the store turns SQLite's
// foreign keys on); they are never deleted apart from it, so a kept
// delivery never loses its attempt log. The requests the attempts sent are
// deleted with them.
func (q *Queries) DeleteFinishedHookDeliveries(ctx context.Context, t time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	res, err := q.c.exec(ctx, `DELETE FROM vigil_hook_delivery
		WHERE id IN (SELECT id FROM vigil_hook_delivery
			WHERE status IN ('delivered', 'dead') AND updated_at < $1
			ORDER BY updated_at LIMIT `+strconv.Itoa(limit)+`)
		AND status IN ('delivered', 'dead') AND updated_at < $2`, t, t)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return int(n), err
	}
	// The requests attempts sent have no foreign key to cascade through:
	// delete those whose delivery is gone. A request is never newer than
	// its delivery's last change, so only requests before t can be left.
	_, err = q.c.exec(ctx, `DELETE FROM vigil_hook_attempt_request WHERE created_at < $1
		AND NOT EXISTS (SELECT 1 FROM vigil_hook_delivery d WHERE d.id = vigil_hook_attempt_request.delivery_id)`, t)
	return int(n), err
}

// DeleteUnreferencedHookEvents deletes up to limit outbox events created
// before t that no delivery refers to any more (their deliveries were
// pruned, or no integration matched them), oldest first, and returns how
// many it deleted. An event with any delivery left, whatever its state, is
// kept: it may still have to be sent.
func (q *Queries) DeleteUnreferencedHookEvents(ctx context.Context, t time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	res, err := q.c.exec(ctx, `DELETE FROM vigil_hook_event
		WHERE id IN (SELECT e.id FROM vigil_hook_event e
			WHERE e.created_at < $1
			AND NOT EXISTS (SELECT 1 FROM vigil_hook_delivery d WHERE d.event_id = e.id)
			ORDER BY e.created_at LIMIT `+strconv.Itoa(limit)+`)
		AND NOT EXISTS (SELECT 1 FROM vigil_hook_delivery d WHERE d.event_id = vigil_hook_event.id)`, t)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
