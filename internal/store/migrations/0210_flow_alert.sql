-- Failure notifications: where to say that an execution of a flow faulted.
-- A rule covers one flow (flow_id) or every flow of one folder (folder_id),
-- never both. channel is 'slack' (post to target, a channel, through the
-- Slack connection named connection) or 'webhook' (POST JSON to target, a
-- path under the base URL of the http connection named connection). The
-- credentials stay in the connection; last_* keep the last attempt's
-- outcome for the console.
CREATE TABLE vigil_flow_alert (
    id TEXT PRIMARY KEY,
    folder_id TEXT REFERENCES vigil_flow_folder(id) ON DELETE CASCADE,
    flow_id TEXT REFERENCES vigil_flow(id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    connection TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    last_at TIMESTAMPTZ,
    last_ok BOOLEAN NOT NULL DEFAULT FALSE,
    last_message TEXT NOT NULL DEFAULT '',
    CHECK ((folder_id IS NULL) <> (flow_id IS NULL))
);
CREATE INDEX vigil_flow_alert_flow ON vigil_flow_alert(flow_id);
CREATE INDEX vigil_flow_alert_folder ON vigil_flow_alert(folder_id);
