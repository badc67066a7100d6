-- A flow's unfinished executions, counted before every invoke to bound its
-- backlog. Without this index SQLite answers the count with the
-- (flow_id, created_at) index, visiting every execution the flow keeps in
-- history; this one holds only the pending and running ones, so the count
-- reads a handful of entries however long the history grows.
CREATE INDEX vigil_flow_execution_unfinished ON vigil_flow_execution(flow_id) WHERE status IN ('pending', 'running');
