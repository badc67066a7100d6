package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// TakeRateToken takes one token from the cluster-wide bucket under key,
// which refills every interval and holds up to burst tokens (the generic
// cell rate algorithm: one row per key holds the theoretical arrival time,
// advanced in one atomic statement by whichever node takes a token). The
// database's clock decides, so the nodes' clocks need not agree. It
// reports whether a token was taken and, when not, how long until one is
// there. PostgreSQL only: SQLite runs one node, whose limits stay in
// memory.
func (q *Queries) TakeRateToken(ctx context.Context, key string, interval time.Duration, burst int) (bool, time.Duration, error) {
	if q.d != Postgres {
		return false, 0, errors.New("store: cluster-wide rate limits need PostgreSQL")
	}
	burst = max(burst, 1)
	t := interval.Seconds()
	// A token is there when the new arrival time would lie at most burst
	// intervals ahead of now.
	var ok bool
	var waitSec float64
	err := q.c.queryRow(ctx, `WITH now AS (SELECT clock_timestamp() AS t),
		cur AS (SELECT GREATEST(COALESCE((SELECT tat FROM vigil_rate_limit WHERE key = $1), (SELECT t FROM now)), (SELECT t FROM now)) AS tat),
		took AS (
			INSERT INTO vigil_rate_limit AS r (key, tat)
			SELECT $1, (SELECT t FROM now) + make_interval(secs => $2::double precision)
			WHERE (SELECT tat FROM cur) + make_interval(secs => $2::double precision) - (SELECT t FROM now) <= make_interval(secs => $2::double precision * $3::integer)
			ON CONFLICT (key) DO UPDATE SET tat = GREATEST(r.tat, clock_timestamp()) + make_interval(secs => $2::double precision)
				WHERE GREATEST(r.tat, clock_timestamp()) + make_interval(secs => $2::double precision) - clock_timestamp() <= make_interval(secs => $2::double precision * $3::integer)
			RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM took),
			GREATEST(0, EXTRACT(EPOCH FROM ((SELECT tat FROM cur) + make_interval(secs => $2::double precision) - make_interval(secs => $2::double precision * $3::integer) - (SELECT t FROM now))))::double precision`,
		[]any{key, t, burst}, &ok, &waitSec)
	if err != nil {
		return false, 0, err
	}
	if ok {
		return true, 0, nil
	}
	return false, max(time.Duration(waitSec*float64(time.Second)), time.Millisecond), nil
}

// TakeSlot takes a free slot of the cluster-wide concurrency limit under
// key (slots of them), held by holder until it calls ReleaseSlot or
// ReleaseSlotAfter, or until hold has passed, whichever is first; so that
// a node that died frees its slots on its own. It returns the slot taken,
// or -1 when all are held together with how long until the first of them
// is due to be free (on the database's clock; a slot held for a running
// request is due only when its hold runs out). The slot names this
// store's node lock, so that FreeSlotsOfDeadNodes frees it when the node
// dies. PostgreSQL only.
func (q *Queries) TakeSlot(ctx context.Context, key, holder string, slots int, hold time.Duration) (int, time.Duration, error) {
	if q.d != Postgres {
		return -1, 0, errors.New("store: cluster-wide concurrency limits need PostgreSQL")
	}
	// Two nodes may pick the same free slot; the conflict clause lets only
	// one have it, and the other tries the next free one. The search
	// starts at a random slot and stops at the first free one, so that a
	// window of a thousand slots (a rate of 1,000/s) costs a few lookups,
	// not a thousand, and nodes seldom pick the same one.
	for try := 0; try < 3; try++ {
		slot := -1
		err := q.c.queryRow(ctx, `INSERT INTO vigil_limit_slot AS l (key, slot, holder, held_until, node)
			SELECT $1, s, $2, clock_timestamp() + make_interval(secs => $4::double precision), $6
			FROM (SELECT (g + $5::integer) % $3::integer AS s FROM generate_series(0, $3::integer - 1) AS g) AS c
			WHERE NOT EXISTS (SELECT 1 FROM vigil_limit_slot h WHERE h.key = $1 AND h.slot = c.s AND h.held_until > clock_timestamp())
			LIMIT 1
			ON CONFLICT (key, slot) DO UPDATE SET holder = excluded.holder, held_until = excluded.held_until, node = excluded.node
				WHERE l.held_until <= clock_timestamp()
			RETURNING slot`, []any{key, holder, slots, hold.Seconds(), rand.IntN(max(slots, 1)), q.owner.get()}, &slot) //nolint:gosec // G404: where the search for a free slot starts, no secret
		if errors.Is(err, ErrNotFound) {
			// None free, or another node took the one picked: look again
			// only in the second case, which the count tells.
			var held int
			var waitSec float64
			if err := q.c.queryRow(ctx, `SELECT count(*),
				COALESCE(EXTRACT(EPOCH FROM min(held_until) - clock_timestamp()), 0)::double precision
				FROM vigil_limit_slot WHERE key = $1 AND slot < $2 AND held_until > clock_timestamp()`,
				[]any{key, slots}, &held, &waitSec); err != nil {
				return -1, 0, err
			}
			if held < slots {
				continue
			}
			return -1, max(time.Duration(waitSec*float64(time.Second)), time.Millisecond), nil
		}
		if err != nil {
			return -1, 0, err
		}
		return slot, 0, nil
	}
	return -1, time.Millisecond, nil
}

// FreeSlotsOfDeadNodes frees the slots held by nodes that no longer hold
// their node lock, and returns how many: such a node died, and its slots
// would otherwise stay taken until their hold ran out. PostgreSQL only; 0
// elsewhere.
func (q *Queries) FreeSlotsOfDeadNodes(ctx context.Context) (int64, error) {
	if q.d != Postgres {
		return 0, nil
	}
	res, err := q.c.exec(ctx, `UPDATE vigil_limit_slot SET held_until = clock_timestamp()
		WHERE node <> 0 AND held_until > clock_timestamp() AND node NOT IN (`+liveNodes+`)`)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// ReleaseSlot frees a slot TakeSlot gave holder.
func (q *Queries) ReleaseSlot(ctx context.Context, key string, slot int, holder string) error {
	_, err := q.c.exec(ctx, `DELETE FROM vigil_limit_slot WHERE key = $1 AND slot = $2 AND holder = $3`, key, slot, holder)
	return err
}

// ReleaseSlotAfter frees a slot TakeSlot gave holder once after has passed
// from now, on the database's clock. A sliding-window rate limit holds
// each of its slots for the request and one window after it ends.
func (q *Queries) ReleaseSlotAfter(ctx context.Context, key string, slot int, holder string, after time.Duration) error {
	_, err := q.c.exec(ctx, `UPDATE vigil_limit_slot SET held_until = clock_timestamp() + make_interval(secs => $4::double precision)
		WHERE key = $1 AND slot = $2 AND holder = $3`, key, slot, holder, after.Seconds())
	return err
}

// ReleaseSlots frees, in one statement, the slot of key TakeSlot gave
// holder, and the slot of afterKey once after has passed from now (on the
// database's clock): a request's concurrency slot at its end and its
// sliding-window slot a window later, which ReleaseSlot and
// ReleaseSlotAfter would do in two round trips.
func (q *Queries) ReleaseSlots(ctx context.Context, key string, slot int, afterKey string, afterSlot int, holder string, after time.Duration) error {
	_, err := q.c.exec(ctx, `WITH freed AS (DELETE FROM vigil_limit_slot WHERE key = $1 AND slot = $2 AND holder = $5)
		UPDATE vigil_limit_slot SET held_until = clock_timestamp() + make_interval(secs => $6::double precision)
		WHERE key = $3 AND slot = $4 AND holder = $5`, key, slot, afterKey, afterSlot, holder, after.Seconds())
	return err
}
