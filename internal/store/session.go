package store

import (
	"context"
	"time"
)

// DeleteExpiredSessions removes sessions that ended before now and reports how many.
func (q *Queries) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := q.c.exec(ctx, `DELETE FROM vigil_session WHERE expires_at < $1`, now)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
