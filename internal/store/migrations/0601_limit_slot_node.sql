-- Which node holds a slot of a cluster-wide concurrency limit: the key of
-- its node lock (see vigil_lease_owner), 0 when none is known. A slot held
-- by a node that no longer holds its lock is freed by the next recovery
-- pass (FreeSlotsOfDeadNodes) instead of when its hold runs out, which
-- for an integration's in-flight limit is the request timeout and 30 s
-- more: a node killed while it sent left the integration's slots taken,
-- and every other node waiting, for that long.
ALTER TABLE vigil_limit_slot ADD COLUMN node BIGINT NOT NULL DEFAULT 0;
