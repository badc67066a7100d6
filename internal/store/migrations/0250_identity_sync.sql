-- A scan writes only the identities that changed since the last one: each
-- row keeps a hash of its columns (row_hash, '' for rows written before,
-- which the next scan rewrites), and the time of the scan the inventory is
-- as of lives once, here, instead of being rewritten on every row.
ALTER TABLE vigil_identity_person ADD COLUMN row_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE vigil_identity_account ADD COLUMN row_hash TEXT NOT NULL DEFAULT '';
CREATE TABLE vigil_identity_inventory (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    scanned_at TIMESTAMPTZ NOT NULL
);
