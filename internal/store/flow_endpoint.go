package store

import (
	"context"
	"database/sql"
	"time"
)

// Endpoint is a flow's API Endpoint settings row. Sealed fields hold
// secret.Box output; this package never sees the plaintext.
type Endpoint struct {
	FlowID               string
	Alias                string
	TokenSealed          string
	PrevTokenSealed      string
	PrevExpiresAt        time.Time
	SigningSecretsSealed string
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

const endpointCols = `flow_id, alias, token_sealed, prev_token_sealed, prev_expires_at, signing_secrets_sealed, created_at, updated_at`

func scanEndpoint(scan func(...any) error) (*Endpoint, error) {
	var e Endpoint
	err := scan(&e.FlowID, &e.Alias, &e.TokenSealed, &e.PrevTokenSealed, scanTime(&e.PrevExpiresAt),
		&e.SigningSecretsSealed, scanTime(&e.CreatedAt), scanTime(&e.UpdatedAt))
	if err != nil {
		return nil, err
	}
	return &e, nil
}

func (q *Queries) oneEndpoint(ctx context.Context, where string, arg any) (*Endpoint, error) {
	var e *Endpoint
	err := q.c.query(ctx, `SELECT `+endpointCols+` FROM vigil_endpoint WHERE `+where, []any{arg}, func(r *sql.Rows) error {
		var err error
		e, err = scanEndpoint(r.Scan)
		return err
	})
	if err == nil && e == nil {
		err = ErrNotFound
	}
	return e, err
}

// EndpointByAlias returns the endpoint whose invoke alias is alias, or ErrNotFound.
func (q *Queries) EndpointByAlias(ctx context.Context, alias string) (*Endpoint, error) {
	return q.oneEndpoint(ctx, `alias = $1`, alias)
}

// EndpointByFlow returns the endpoint of a flow, or ErrNotFound.
func (q *Queries) EndpointByFlow(ctx context.Context, flowID string) (*Endpoint, error) {
	return q.oneEndpoint(ctx, `flow_id = $1`, flowID)
}

// CreateEndpoint inserts e; ErrConflict if the flow already has one.
func (q *Queries) CreateEndpoint(ctx context.Context, e *Endpoint) error {
	_, err := q.c.exec(ctx, `INSERT INTO vigil_endpoint (`+endpointCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		e.FlowID, e.Alias, e.TokenSealed, e.PrevTokenSealed, e.PrevExpiresAt, e.SigningSecretsSealed, e.CreatedAt, e.UpdatedAt)
	return err
}

// UpdateEndpointTokens replaces the client token fields of a flow's
// endpoint, and UpdateEndpointSigningSecrets its signing secrets. Each
// writes its own columns only: one write of every field, from a row read
// before another node's change of the others, put a revoked token back
// or dropped a secret just set.
func (q *Queries) UpdateEndpointTokens(ctx context.Context, e *Endpoint) error {
	return endpointChanged(q.c.exec(ctx, `UPDATE vigil_endpoint SET token_sealed = $2, prev_token_sealed = $3, prev_expires_at = $4,
		updated_at = $5 WHERE flow_id = $1`, e.FlowID, e.TokenSealed, e.PrevTokenSealed, e.PrevExpiresAt, e.UpdatedAt))
}

// UpdateEndpointSigningSecrets replaces the signing secrets of a flow's
// endpoint (see UpdateEndpointTokens).
func (q *Queries) UpdateEndpointSigningSecrets(ctx context.Context, e *Endpoint) error {
	return endpointChanged(q.c.exec(ctx, `UPDATE vigil_endpoint SET signing_secrets_sealed = $2, updated_at = $3 WHERE flow_id = $1`,
		e.FlowID, e.SigningSecretsSealed, e.UpdatedAt))
}

// endpointChanged is ErrNotFound for an update that found no endpoint.
func endpointChanged(res sql.Result, err error) error {
	ok, err := flowChanged(res, err)
	if err == nil && !ok {
		return ErrNotFound
	}
	return err
}

// InvokeKey returns the execution first started for an idempotency key of a
// flow, if the key was seen after since; ErrNotFound otherwise.
func (q *Queries) InvokeKey(ctx context.Context, flowID, key string, since time.Time) (string, error) {
	var execID string
	err := q.c.queryRow(ctx, `SELECT execution_id FROM vigil_invoke_key WHERE flow_id = $1 AND key = $2 AND created_at >= $3`,
		[]any{flowID, key, since}, &execID)
	return execID, err
}

// PutInvokeKey records key → execution for a flow, replacing an expired
// record of the same key. It returns ErrConflict when a live record exists.
func (q *Queries) PutInvokeKey(ctx context.Context, flowID, key, execID string, now, expiredBefore time.Time) error {
	if _, err := q.c.exec(ctx, `DELETE FROM vigil_invoke_key WHERE flow_id = $1 AND key = $2 AND created_at < $3`, flowID, key, expiredBefore); err != nil {
		return err
	}
	_, err := q.c.exec(ctx, `INSERT INTO vigil_invoke_key (flow_id, key, execution_id, created_at) VALUES ($1, $2, $3, $4)`,
		flowID, key, execID, now)
	return err
}

// DeleteInvokeKeysBefore drops idempotency records older than t.
func (q *Queries) DeleteInvokeKeysBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := q.c.exec(ctx, `DELETE FROM vigil_invoke_key WHERE created_at < $1`, t)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
