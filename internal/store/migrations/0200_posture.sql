-- Identity sources a posture scan reads. settings is JSON (URLs, ids, file
-- paths); credentials_sealed is a secret.Box value of a JSON object holding
-- the source's secrets, or '' when it has none. schedule_seconds is the
-- interval between scheduled scans; 0 turns scheduling off.
CREATE TABLE vigil_posture_source (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}',
    credentials_sealed TEXT NOT NULL DEFAULT '',
    is_primary BOOLEAN NOT NULL DEFAULT FALSE,
    schedule_seconds BIGINT NOT NULL DEFAULT 86400,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    last_scan_id TEXT NOT NULL DEFAULT '',
    last_scan_at TIMESTAMPTZ,
    last_scan_ok BOOLEAN NOT NULL DEFAULT FALSE,
    last_error TEXT NOT NULL DEFAULT '',
    last_accounts INTEGER NOT NULL DEFAULT 0,
    last_success_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- The normalized accounts of a source's last successful read: a JSON array
-- of graph sources. A scan of some sources builds the identity graph from
-- these for the sources it does not read, so people still correlate.
CREATE TABLE vigil_posture_source_data (
    source_id TEXT PRIMARY KEY REFERENCES vigil_posture_source(id) ON DELETE CASCADE,
    parts TEXT NOT NULL,
    accounts INTEGER NOT NULL,
    read_at TIMESTAMPTZ NOT NULL
);

-- One row per scan. result is the JSON summary (per source: accounts read
-- or the error; per title: issues opened, resolved, unchanged).
CREATE TABLE vigil_posture_scan (
    id TEXT PRIMARY KEY,
    trigger_kind TEXT NOT NULL,
    requested TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    result TEXT NOT NULL DEFAULT '{}',
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ
);
CREATE INDEX vigil_posture_scan_started ON vigil_posture_scan(started_at);

-- Issues, one per fingerprint (detection title + affected entity). scope is
-- the graph source the issue belongs to (the configured source's name, or
-- name/inner for a snapshot with several sources); deps lists every scope
-- whose data the finding depends on (JSON array). present says whether the
-- last completed scan of the scope found it. data is the issue event's
-- eventData without id, status, link and detectedAt; data_hash its SHA-256.
CREATE TABLE vigil_posture_issue (
    id TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    category TEXT NOT NULL,
    severity TEXT NOT NULL,
    severity_rank INTEGER NOT NULL,
    entity_type TEXT NOT NULL,
    entity_key TEXT NOT NULL,
    entity_name TEXT NOT NULL,
    entity_login TEXT NOT NULL,
    product TEXT NOT NULL,
    tenant TEXT NOT NULL,
    source_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    deps TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL,
    present BOOLEAN NOT NULL,
    snoozed_until TIMESTAMPTZ,
    data TEXT NOT NULL,
    data_hash TEXT NOT NULL,
    first_detected_at TIMESTAMPTZ NOT NULL,
    detected_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    resolved_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX vigil_posture_issue_status ON vigil_posture_issue(status, severity_rank);
CREATE INDEX vigil_posture_issue_scope ON vigil_posture_issue(scope);
CREATE INDEX vigil_posture_issue_title ON vigil_posture_issue(title);
CREATE INDEX vigil_posture_issue_snoozed ON vigil_posture_issue(snoozed_until);

-- Every transition of an issue: who (a user name, "scan" or "system"),
-- when, why, and the scan that caused it if any.
CREATE TABLE vigil_posture_issue_history (
    id TEXT PRIMARY KEY,
    issue_id TEXT NOT NULL REFERENCES vigil_posture_issue(id) ON DELETE CASCADE,
    at TIMESTAMPTZ NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT NOT NULL DEFAULT '',
    to_status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    scan_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX vigil_posture_issue_history_issue ON vigil_posture_issue_history(issue_id, at);

-- Open issues per day and severity, for the dashboard's trend. Each scan
-- and each change of status rewrites the current day's rows.
CREATE TABLE vigil_posture_trend (
    day TEXT NOT NULL,
    severity TEXT NOT NULL,
    open_count INTEGER NOT NULL,
    PRIMARY KEY (day, severity)
);
