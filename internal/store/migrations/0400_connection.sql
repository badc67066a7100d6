-- Connections: the vendor accounts connector actions act through (Okta
-- Workflows calls them the environments a flow is connected to). Flows find
-- a connection by name, so names are unique regardless of case. settings is
-- a JSON object of the non-secret fields (URLs, ids); credentials_sealed is a
-- secret.Box value of a JSON object of the secret fields, or '' when none.
-- dry_run makes every action through the connection record the request it
-- would send instead of sending it. last_test_* keep the last Test connection.
CREATE TABLE vigil_connection (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}',
    credentials_sealed TEXT NOT NULL DEFAULT '',
    dry_run BOOLEAN NOT NULL DEFAULT FALSE,
    last_test_at TIMESTAMPTZ,
    last_test_ok BOOLEAN NOT NULL DEFAULT FALSE,
    last_test_message TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX vigil_connection_name ON vigil_connection (lower(name));
