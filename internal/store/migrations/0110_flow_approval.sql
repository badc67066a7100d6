-- Approval requests of flows (approval.request): an execution that asks
-- for a person's decision is parked (status 'waiting', no worker holds
-- it) until someone approves or denies, or expires_at passes. step_key is
-- the asking task's journal key, so a resumed execution finds its request
-- again. approvers is a JSON array of "role:NAME" and "user:NAME";
-- details is JSON of what the approver is shown (the issue, the affected
-- identity, the action that will run). status is pending, approved,
-- denied, expired or cancelled (the execution was); decided_by is the user's name ("" on expiry).
CREATE TABLE vigil_flow_approval (
    id TEXT PRIMARY KEY,
    execution_id TEXT NOT NULL REFERENCES vigil_flow_execution(id) ON DELETE CASCADE,
    step_key TEXT NOT NULL,
    message TEXT NOT NULL,
    approvers TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    requested_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    decided_by TEXT NOT NULL DEFAULT '',
    decided_at TIMESTAMPTZ,
    comment TEXT NOT NULL DEFAULT '',
    UNIQUE (execution_id, step_key)
);
CREATE INDEX vigil_flow_approval_pending ON vigil_flow_approval(expires_at) WHERE status = 'pending';
