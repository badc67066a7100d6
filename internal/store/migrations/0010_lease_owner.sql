-- Which node holds a lease, on PostgreSQL: node is the key of the advisory
-- lock that node holds for as long as its process lives (see NodeLock). A
-- lease whose row names a node that no longer holds its lock was left by a
-- node that died, and is recovered at once instead of when it runs out; a
-- lease without a row waits for its end as before. kind is 'delivery' or
-- 'execution', id the leased row's id. A table of its own, not a column,
-- because on a new database this step runs before the leased tables exist.
CREATE TABLE vigil_lease_owner (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    node BIGINT NOT NULL,
    PRIMARY KEY (kind, id)
);
