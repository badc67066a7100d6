-- Folders group flows and their tables, as in Okta Workflows.
CREATE TABLE vigil_flow_folder (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- A flow: a stable id in a folder, named by its document's namespace and
-- name (unique per folder). The columns after version copy the current
-- version's document (its title, description and document.metadata.vigil
-- trigger) so that lists and the invoke endpoint need not parse documents.
-- trigger_kind is '' for a helper flow.
CREATE TABLE vigil_flow (
    id TEXT PRIMARY KEY,
    folder_id TEXT NOT NULL REFERENCES vigil_flow_folder(id),
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    doc_version TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    enabled BOOLEAN NOT NULL DEFAULT FALSE,
    version INTEGER NOT NULL,
    trigger_kind TEXT NOT NULL DEFAULT '',
    trigger_json TEXT NOT NULL DEFAULT '',
    save_all_data BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (folder_id, namespace, name)
);
CREATE INDEX vigil_flow_ref ON vigil_flow(namespace, name);

-- Every save of a flow is a new version holding the full document text.
CREATE TABLE vigil_flow_version (
    flow_id TEXT NOT NULL REFERENCES vigil_flow(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    doc_version TEXT NOT NULL,
    document TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (flow_id, version)
);

-- An execution of one version of a flow. input_sealed and output_sealed
-- hold sealed JSON (resume and Wait need them; they are shown only when
-- save_all_data was on). generation changes whenever the execution is
-- queued anew after its worker died, so that a job of an older generation
-- finds nothing to do; lease_until is renewed while a worker runs it.
-- (parent_id, parent_key) identifies a helper flow started without waiting,
-- so that a resumed parent does not start it twice.
CREATE TABLE vigil_flow_execution (
    id TEXT PRIMARY KEY,
    flow_id TEXT NOT NULL REFERENCES vigil_flow(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    input_sealed TEXT NOT NULL,
    output_sealed TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT '',
    result TEXT NOT NULL DEFAULT '',
    parent_id TEXT,
    parent_key TEXT,
    call_depth INTEGER NOT NULL DEFAULT 0,
    test BOOLEAN NOT NULL DEFAULT FALSE,
    dry_run BOOLEAN NOT NULL DEFAULT FALSE,
    save_all_data BOOLEAN NOT NULL DEFAULT FALSE,
    steps INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    generation INTEGER NOT NULL DEFAULT 1,
    lease_until TIMESTAMPTZ,
    started_at TIMESTAMPTZ,
    ended_at TIMESTAMPTZ,
    duration_ms BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (parent_id, parent_key)
);
CREATE INDEX vigil_flow_execution_flow ON vigil_flow_execution(flow_id, created_at);
CREATE INDEX vigil_flow_execution_status ON vigil_flow_execution(status, lease_until);
CREATE INDEX vigil_flow_execution_created ON vigil_flow_execution(created_at);
CREATE INDEX vigil_flow_execution_ended ON vigil_flow_execution(ended_at);

-- The journal of an execution: one row per task run, keyed by the engine's
-- deterministic step key. state_sealed holds the sealed {output, context}
-- a resume continues from; history holds the task's redacted input and
-- output (JSON) only when the flow saves all data.
CREATE TABLE vigil_flow_step (
    execution_id TEXT NOT NULL REFERENCES vigil_flow_execution(id) ON DELETE CASCADE,
    step_key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    reference TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    directive TEXT NOT NULL DEFAULT '',
    skipped BOOLEAN NOT NULL DEFAULT FALSE,
    fault TEXT NOT NULL DEFAULT '',
    state_sealed TEXT NOT NULL DEFAULT '',
    history TEXT NOT NULL DEFAULT '',
    started_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (execution_id, step_key)
);

-- Extra history entries: emitted events, helper flows started, the
-- requests a dry-run connector would have sent. data is redacted JSON.
CREATE TABLE vigil_flow_note (
    execution_id TEXT NOT NULL REFERENCES vigil_flow_execution(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    step_key TEXT NOT NULL,
    reference TEXT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (execution_id, seq)
);

-- Tables: named per folder, typed columns as JSON [{name, type}].
CREATE TABLE vigil_flow_table (
    id TEXT PRIMARY KEY,
    folder_id TEXT NOT NULL REFERENCES vigil_flow_folder(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    columns TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (folder_id, name)
);

-- Rows of tables: data is a JSON object keyed by column name.
CREATE TABLE vigil_flow_table_row (
    id TEXT PRIMARY KEY,
    table_id TEXT NOT NULL REFERENCES vigil_flow_table(id) ON DELETE CASCADE,
    data TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX vigil_flow_table_row_table ON vigil_flow_table_row(table_id, id);
