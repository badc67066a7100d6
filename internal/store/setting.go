package store

import (
	"context"
	"time"
)

// Setting returns the value stored under key, or ErrNotFound.
func (q *Queries) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := q.c.queryRow(ctx, `SELECT value FROM vigil_setting WHERE key = $1`, []any{key}, &v)
	return v, err
}

// PutSetting stores value under key, replacing what was there.
func (q *Queries) PutSetting(ctx context.Context, key, value string, now time.Time) error {
	_, err := q.c.exec(ctx, `INSERT INTO vigil_setting (key, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, key, value, now)
	return err
}
