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

// UpdateEndpointTokens replaces the token fields of a flow's endpoint.
func (q *Queries) UpdateEndpointTokens(ctx context.Context, e *Endpoint) error {
	res, err := q.c.exec(ctx, `UPDATE vigil_endpoint SET token_sealed = $2, prev_token_sealed = $3, prev_expires_at = $4,
		signing_secrets_sealed = $5, updated_at = $6 WHERE flow_id = $1`,
		e.FlowID, e.TokenSealed, e.PrevTokenSealed, e.PrevExpiresAt, e.SigningSecretsSealed, e.UpdatedAt)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
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
