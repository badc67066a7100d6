-- The request each delivery attempt sent, as the delivery page shows it: a
-- JSON object of the method, the address and the headers, secrets masked.
-- The body is the event's payload, kept once in vigil_hook_event. Rows go
-- when the retention prune deletes their delivery (this step runs before
-- the hooks tables exist on a new database, so there is no foreign key).
CREATE TABLE vigil_hook_attempt_request (
    attempt_id TEXT PRIMARY KEY,
    delivery_id TEXT NOT NULL,
    request TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX vigil_hook_attempt_request_delivery ON vigil_hook_attempt_request(delivery_id);
CREATE INDEX vigil_hook_attempt_request_created ON vigil_hook_attempt_request(created_at);
