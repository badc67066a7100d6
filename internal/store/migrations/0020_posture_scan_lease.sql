-- A running scan's lease: the worker running the scan renews it while it
-- works, so a scan whose lease ran out was left by a node that died, and
-- maintenance can fail it visibly and queue it again. job_id is the River
-- job that ran it (0 for a scan the command line ran). No foreign key: the
-- scan table is created by a later step on a new database.
CREATE TABLE vigil_posture_scan_lease (
    scan_id TEXT PRIMARY KEY,
    job_id BIGINT NOT NULL DEFAULT 0,
    leased_until TIMESTAMPTZ NOT NULL
);
