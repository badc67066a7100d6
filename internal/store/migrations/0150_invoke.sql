-- API Endpoint settings of a flow: the invoke alias and its client token.
-- The alias is the unguessable part of the invoke URL, separate from the
-- flow id. Tokens are sealed; the previous token stays valid until
-- prev_expires_at after a rotation with a grace period.
CREATE TABLE vigil_endpoint (
    flow_id TEXT PRIMARY KEY,
    alias TEXT NOT NULL UNIQUE,
    token_sealed TEXT NOT NULL,
    prev_token_sealed TEXT NOT NULL DEFAULT '',
    prev_expires_at TIMESTAMPTZ,
    signing_secrets_sealed TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- Idempotency keys (webhook-id or Idempotency-Key) seen per flow, kept 24 h.
CREATE TABLE vigil_invoke_key (
    flow_id TEXT NOT NULL,
    key TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (flow_id, key)
);
CREATE INDEX vigil_invoke_key_created ON vigil_invoke_key(created_at);
