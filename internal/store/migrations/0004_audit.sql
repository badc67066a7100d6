-- The audit log: one row per administrative action (sign-ins and their
-- failures, changes to users, sources, hooks, connections, flows, tokens,
-- issues and settings). Rows are kept until an operator removes them; no
-- retention job touches this table. details is a small JSON object that
-- names what changed and never holds a secret value. seq orders the rows
-- as they were written: ids and times tie within a millisecond.
CREATE TABLE vigil_audit (
    -- postgres: seq BIGSERIAL PRIMARY KEY,
    -- sqlite: seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    at TIMESTAMPTZ NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT NOT NULL DEFAULT '',
    actor_name TEXT NOT NULL DEFAULT '',
    token_name TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    target_kind TEXT NOT NULL DEFAULT '',
    target_id TEXT NOT NULL DEFAULT '',
    target_name TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX vigil_audit_at ON vigil_audit(at);
CREATE INDEX vigil_audit_actor ON vigil_audit(actor_name, seq);
CREATE INDEX vigil_audit_action ON vigil_audit(action, seq);
