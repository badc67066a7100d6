package store

import (
	"context"
	"database/sql"
	"time"
)

// Hook is an outbound integration row. Sealed fields hold secret.Box output;
// this package never sees the plaintext.
type Hook struct {
	ID   string
	Name string
	URL  string
	// KeysJSON is a JSON array of the API key entries, values sealed.
	KeysJSON            string
	SecretSealed        string
	PrevSecretSealed    string
	PrevSecretExpiresAt time.Time
	MaxInFlight         int
	RatePerSecond       float64
	State               string
	PauseReason         string
	PausedAt            time.Time
	FailingSince        time.Time
	LastSuccessAt       time.Time
	LastFailureAt       time.Time
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

const hookCols = `id, name, url, keys_json, secret_sealed, prev_secret_sealed, prev_secret_expires_at,
	max_in_flight, rate_per_second, state, pause_reason, paused_at, failing_since, last_success_at,
	last_failure_at, created_at, updated_at`

func scanHook(scan func(...any) error) (*Hook, error) {
	var h Hook
	err := scan(&h.ID, &h.Name, &h.URL, &h.KeysJSON, &h.SecretSealed, &h.PrevSecretSealed, scanTime(&h.PrevSecretExpiresAt),
		&h.MaxInFlight, &h.RatePerSecond, &h.State, &h.PauseReason, scanTime(&h.PausedAt), scanTime(&h.FailingSince),
		scanTime(&h.LastSuccessAt), scanTime(&h.LastFailureAt), scanTime(&h.CreatedAt), scanTime(&h.UpdatedAt))
	if err != nil {
		return nil, err
	}
	return &h, nil
}

func (q *Queries) oneHook(ctx context.Context, where string, arg any) (*Hook, error) {
	var h *Hook
	err := q.c.query(ctx, `SELECT `+hookCols+` FROM vigil_hook WHERE `+where, []any{arg}, func(r *sql.Rows) error {
		var err error
		h, err = scanHook(r.Scan)
		return err
	})
	if err == nil && h == nil {
		err = ErrNotFound
	}
	return h, err
}

// Hook returns the integration with the given id, or ErrNotFound.
func (q *Queries) Hook(ctx context.Context, id string) (*Hook, error) {
	return q.oneHook(ctx, `id = $1`, id)
}

// HookByName returns the integration with the given name, or ErrNotFound.
func (q *Queries) HookByName(ctx context.Context, name string) (*Hook, error) {
	return q.oneHook(ctx, `name = $1`, name)
}

// Hooks lists every integration by name.
func (q *Queries) Hooks(ctx context.Context) ([]*Hook, error) {
	var out []*Hook
	err := q.c.query(ctx, `SELECT `+hookCols+` FROM vigil_hook ORDER BY name`, nil, func(r *sql.Rows) error {
		h, err := scanHook(r.Scan)
		if err == nil {
			out = append(out, h)
		}
		return err
	})
	return out, err
}

// HooksFailingSince lists the active integrations that have failed without
// a success since before t: candidates for automatic pausing.
func (q *Queries) HooksFailingSince(ctx context.Context, t time.Time) ([]*Hook, error) {
	var out []*Hook
	err := q.c.query(ctx, `SELECT `+hookCols+` FROM vigil_hook WHERE state = 'active' AND failing_since IS NOT NULL AND failing_since < $1`,
		[]any{t}, func(r *sql.Rows) error {
			h, err := scanHook(r.Scan)
			if err == nil {
				out = append(out, h)
			}
			return err
		})
	return out, err
}

// CreateHook inserts h; ErrConflict if the name is taken.
func (q *Queries) CreateHook(ctx context.Context, h *Hook) error {
	_, err := q.c.exec(ctx, `INSERT INTO vigil_hook (`+hookCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		h.ID, h.Name, h.URL, h.KeysJSON, h.SecretSealed, h.PrevSecretSealed, h.PrevSecretExpiresAt,
		h.MaxInFlight, h.RatePerSecond, h.State, h.PauseReason, h.PausedAt, h.FailingSince, h.LastSuccessAt,
		h.LastFailureAt, h.CreatedAt, h.UpdatedAt)
	return err
}

// UpdateHookConfig replaces what a user edits: name, URL, keys and limits.
// ErrConflict if the new name is taken, ErrNotFound if h.ID does not exist.
func (q *Queries) UpdateHookConfig(ctx context.Context, h *Hook) error {
	res, err := q.c.exec(ctx, `UPDATE vigil_hook SET name = $2, url = $3, keys_json = $4, max_in_flight = $5,
		rate_per_second = $6, updated_at = $7 WHERE id = $1`,
		h.ID, h.Name, h.URL, h.KeysJSON, h.MaxInFlight, h.RatePerSecond, h.UpdatedAt)
	return hookAffected(res, err)
}

// UpdateHookSecrets replaces the signing secrets of an integration.
func (q *Queries) UpdateHookSecrets(ctx context.Context, h *Hook) error {
	res, err := q.c.exec(ctx, `UPDATE vigil_hook SET secret_sealed = $2, prev_secret_sealed = $3,
		prev_secret_expires_at = $4, updated_at = $5 WHERE id = $1`,
		h.ID, h.SecretSealed, h.PrevSecretSealed, h.PrevSecretExpiresAt, h.UpdatedAt)
	return hookAffected(res, err)
}

// PauseHook marks an active integration paused with reason. It reports
// whether the state changed (false when already paused).
func (q *Queries) PauseHook(ctx context.Context, id, reason string, now time.Time) (bool, error) {
	res, err := q.c.exec(ctx, `UPDATE vigil_hook SET state = 'paused', pause_reason = $2, paused_at = $3, updated_at = $3
		WHERE id = $1 AND state = 'active'`, id, reason, now)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// ActivateHook marks an integration active and forgets its failure run.
func (q *Queries) ActivateHook(ctx context.Context, id string, now time.Time) error {
	res, err := q.c.exec(ctx, `UPDATE vigil_hook SET state = 'active', pause_reason = '', paused_at = NULL,
		failing_since = NULL, updated_at = $2 WHERE id = $1`, id, now)
	return hookAffected(res, err)
}

// RecordHookSuccess notes a successful delivery: the failure run ends. To
// spare the integration's row a write per delivery, last_success_at is only
// moved when the integration was failing or its value is older than a
// minute.
func (q *Queries) RecordHookSuccess(ctx context.Context, id string, now time.Time) error {
	_, err := q.c.exec(ctx, `UPDATE vigil_hook SET failing_since = NULL, last_success_at = $2 WHERE id = $1
		AND (failing_since IS NOT NULL OR last_success_at IS NULL OR last_success_at < $3)`, id, now, now.Add(-time.Minute))
	return err
}

// RecordHookFailure notes a failed attempt and returns since when the
// integration has been failing without a success.
func (q *Queries) RecordHookFailure(ctx context.Context, id string, now time.Time) (time.Time, error) {
	var since time.Time
	err := q.c.queryRow(ctx, `UPDATE vigil_hook SET failing_since = COALESCE(failing_since, $2), last_failure_at = $3
		WHERE id = $1 RETURNING failing_since`, []any{id, now, now}, scanTime(&since))
	return since, err
}

// DeleteHook removes an integration with its automation, deliveries and attempts.
func (q *Queries) DeleteHook(ctx context.Context, id string) error {
	res, err := q.c.exec(ctx, `DELETE FROM vigil_hook WHERE id = $1`, id)
	return hookAffected(res, err)
}

// hookAffected maps "no row changed" to ErrNotFound.
func hookAffected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// HookAutomation is what an integration is sent. List fields hold JSON
// arrays of strings.
type HookAutomation struct {
	HookID     string
	AutoSend   bool
	AllTitles  bool
	Titles     string
	Severities string
	Categories string
	Products   string
	EventTypes string
	UpdatedAt  time.Time
}

const hookAutomationCols = `hook_id, auto_send, all_titles, titles, severities, categories, products, event_types, updated_at`

func scanHookAutomation(scan func(...any) error) (*HookAutomation, error) {
	var a HookAutomation
	if err := scan(&a.HookID, &a.AutoSend, &a.AllTitles, &a.Titles, &a.Severities, &a.Categories, &a.Products,
		&a.EventTypes, scanTime(&a.UpdatedAt)); err != nil {
		return nil, err
	}
	return &a, nil
}

// PutHookAutomation stores a, replacing the integration's previous automation.
func (q *Queries) PutHookAutomation(ctx context.Context, a *HookAutomation) error {
	_, err := q.c.exec(ctx, `INSERT INTO vigil_hook_automation (`+hookAutomationCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (hook_id) DO UPDATE SET auto_send = excluded.auto_send, all_titles = excluded.all_titles,
		titles = excluded.titles, severities = excluded.severities, categories = excluded.categories,
		products = excluded.products, event_types = excluded.event_types, updated_at = excluded.updated_at`,
		a.HookID, a.AutoSend, a.AllTitles, a.Titles, a.Severities, a.Categories, a.Products, a.EventTypes, a.UpdatedAt)
	return err
}

// HookAutomation returns an integration's automation, or ErrNotFound.
func (q *Queries) HookAutomation(ctx context.Context, hookID string) (*HookAutomation, error) {
	var a *HookAutomation
	err := q.c.query(ctx, `SELECT `+hookAutomationCols+` FROM vigil_hook_automation WHERE hook_id = $1`, []any{hookID},
		func(r *sql.Rows) error {
			var err error
			a, err = scanHookAutomation(r.Scan)
			return err
		})
	if err == nil && a == nil {
		err = ErrNotFound
	}
	return a, err
}

// HookAutomations lists every automation.
func (q *Queries) HookAutomations(ctx context.Context) ([]*HookAutomation, error) {
	var out []*HookAutomation
	err := q.c.query(ctx, `SELECT `+hookAutomationCols+` FROM vigil_hook_automation ORDER BY hook_id`, nil, func(r *sql.Rows) error {
		a, err := scanHookAutomation(r.Scan)
		if err == nil {
			out = append(out, a)
		}
		return err
	})
	return out, err
}

// HookRoute is an automation with the state of its integration: what the
// outbox matches each event against.
type HookRoute struct {
	Automation HookAutomation
	HookState  string
}

// HookRoutes lists the automations whose auto-send switch is on.
func (q *Queries) HookRoutes(ctx context.Context) ([]HookRoute, error) {
	var out []HookRoute
	err := q.c.query(ctx, `SELECT a.hook_id, a.auto_send, a.all_titles, a.titles, a.severities, a.categories, a.products,
		a.event_types, a.updated_at, h.state FROM vigil_hook_automation a JOIN vigil_hook h ON h.id = a.hook_id
		WHERE a.auto_send = $1 ORDER BY a.hook_id`, []any{true}, func(r *sql.Rows) error {
		var rt HookRoute
		a := &rt.Automation
		if err := r.Scan(&a.HookID, &a.AutoSend, &a.AllTitles, &a.Titles, &a.Severities, &a.Categories, &a.Products,
			&a.EventTypes, scanTime(&a.UpdatedAt), &rt.HookState); err != nil {
			return err
		}
		out = append(out, rt)
		return nil
	})
	return out, err
}
