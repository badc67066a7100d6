-- The nodes of a deployment: each 'vigil serve' process registers itself at
-- start, renews heartbeat_at every few seconds and removes its row when it
-- stops. A row whose heartbeat is older than a few beats belongs to a node
-- that died; 'vigil cluster status' shows it as stale and start-up removes
-- it after a while. running is what the node reported working at its last
-- beat (in-process executions and jobs).
CREATE TABLE vigil_node (
    id TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    version TEXT NOT NULL,
    hostname TEXT NOT NULL DEFAULT '',
    addr TEXT NOT NULL DEFAULT '',
    started_at TIMESTAMPTZ NOT NULL,
    heartbeat_at TIMESTAMPTZ NOT NULL,
    running INTEGER NOT NULL DEFAULT 0,
    draining BOOLEAN NOT NULL DEFAULT FALSE
);

-- Cluster-wide rate limits on PostgreSQL (a flow's invocations, an
-- integration's deliveries): one row per limited thing holding the
-- theoretical arrival time of the generic cell rate algorithm, advanced
-- atomically by whichever node takes a token. SQLite runs one node and
-- keeps its limits in memory, so the table stays empty there.
CREATE TABLE vigil_rate_limit (
    key TEXT PRIMARY KEY,
    tat TIMESTAMPTZ NOT NULL
);

-- Cluster-wide concurrency limits on PostgreSQL: a held slot of a limited
-- thing (an integration's deliveries in flight). A slot is held until its
-- holder releases it or until held_until, so that the slots of a node that
-- died come free on their own.
CREATE TABLE vigil_limit_slot (
    key TEXT NOT NULL,
    slot INTEGER NOT NULL,
    holder TEXT NOT NULL,
    held_until TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (key, slot)
);
