-- Flows run by hand on an issue (the issue page's Run flow, the API and the
-- CLI): which execution ran on which issue, so the issue page can link the
-- runs. An execution pruned from history leaves its row behind; reads join
-- the executions, so such a row is never shown.
CREATE TABLE vigil_issue_run (
    execution_id TEXT PRIMARY KEY,
    issue_id TEXT NOT NULL,
    flow_id TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX vigil_issue_run_issue ON vigil_issue_run(issue_id, created_at);
