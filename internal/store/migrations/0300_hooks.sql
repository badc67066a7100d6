-- Outbound integrations (event hooks). Key values and signing secrets are
-- sealed with the master key; keys_json holds [{name, placement, sealed}].
-- A paused integration (by a user, automatically after failing too long, or
-- because its receiver answered 410 Gone) holds its deliveries until resumed.
CREATE TABLE vigil_hook (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    keys_json TEXT NOT NULL DEFAULT '[]',
    secret_sealed TEXT NOT NULL,
    prev_secret_sealed TEXT NOT NULL DEFAULT '',
    prev_secret_expires_at TIMESTAMPTZ,
    max_in_flight INTEGER NOT NULL DEFAULT 0,
    rate_per_second DOUBLE PRECISION NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'active',
    pause_reason TEXT NOT NULL DEFAULT '',
    paused_at TIMESTAMPTZ,
    failing_since TIMESTAMPTZ,
    last_success_at TIMESTAMPTZ,
    last_failure_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- What an integration is sent: one automation per integration. List
-- columns hold JSON arrays of strings; an empty array means "any".
CREATE TABLE vigil_hook_automation (
    hook_id TEXT PRIMARY KEY REFERENCES vigil_hook(id) ON DELETE CASCADE,
    auto_send BOOLEAN NOT NULL,
    all_titles BOOLEAN NOT NULL,
    titles TEXT NOT NULL DEFAULT '[]',
    severities TEXT NOT NULL DEFAULT '[]',
    categories TEXT NOT NULL DEFAULT '[]',
    products TEXT NOT NULL DEFAULT '[]',
    event_types TEXT NOT NULL DEFAULT '[]',
    updated_at TIMESTAMPTZ NOT NULL
);

-- The outbox: every issue event, written in the transaction of the issue
-- change. payload is the exact JSON body sent (and signed) on every attempt.
CREATE TABLE vigil_hook_event (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    issue_id TEXT NOT NULL,
    title TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX vigil_hook_event_issue ON vigil_hook_event(issue_id);

-- One delivery per (event, integration). generation changes whenever the
-- delivery is queued anew (resend, resume, lease expiry), so that a job of
-- an older generation finds nothing to do. leased_until is set while an
-- attempt is in flight; an expired lease means the worker died.
CREATE TABLE vigil_hook_delivery (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES vigil_hook_event(id),
    hook_id TEXT NOT NULL REFERENCES vigil_hook(id) ON DELETE CASCADE,
    issue_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    generation INTEGER NOT NULL DEFAULT 1,
    round_attempts INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ,
    leased_until TIMESTAMPTZ,
    last_attempt_at TIMESTAMPTZ,
    last_status_code INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (event_id, hook_id)
);
CREATE INDEX vigil_hook_delivery_hook_status ON vigil_hook_delivery(hook_id, status);
CREATE INDEX vigil_hook_delivery_status ON vigil_hook_delivery(status, leased_until);
CREATE INDEX vigil_hook_delivery_issue ON vigil_hook_delivery(issue_id);

-- Every HTTP attempt of a delivery, with the first 50 KB of the response.
CREATE TABLE vigil_hook_attempt (
    id TEXT PRIMARY KEY,
    delivery_id TEXT NOT NULL REFERENCES vigil_hook_delivery(id) ON DELETE CASCADE,
    generation INTEGER NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    latency_ms BIGINT NOT NULL,
    status_code INTEGER NOT NULL DEFAULT 0,
    response BYTEA,
    response_truncated BOOLEAN NOT NULL DEFAULT FALSE,
    error_kind TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX vigil_hook_attempt_delivery ON vigil_hook_attempt(delivery_id, started_at);
