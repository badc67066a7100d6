-- The identity inventory: the people and accounts of the last scan that
-- built the identity graph, replaced whole by each such scan, so that the
-- console and the API can list, filter and page them. A person is someone
-- the primary identity provider knows; an account belongs to one person or
-- to none (an orphan). entity_key is the key issues name their entity by
-- (detect.UserKey, detect.AccountKey), which ties an identity to its issues.
-- JSON columns hold lists shown as they are (reasons, factors, credentials:
-- ids, kinds and dates, never secrets).
CREATE TABLE vigil_identity_person (
    id TEXT PRIMARY KEY,
    entity_key TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT '',
    display_name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    accounts INTEGER NOT NULL DEFAULT 0,
    last_login TIMESTAMPTZ,
    scanned_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX vigil_identity_person_name ON vigil_identity_person(display_name, id);
CREATE INDEX vigil_identity_person_key ON vigil_identity_person(entity_key);

CREATE TABLE vigil_identity_account (
    id TEXT PRIMARY KEY,
    person_id TEXT REFERENCES vigil_identity_person(id) ON DELETE CASCADE,
    entity_key TEXT NOT NULL,
    source TEXT NOT NULL,
    product TEXT NOT NULL,
    tenant TEXT NOT NULL,
    id_in_service TEXT NOT NULL,
    login TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    display_name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    kind TEXT NOT NULL,
    privilege TEXT NOT NULL,
    privilege_reasons TEXT NOT NULL DEFAULT '[]',
    mfa TEXT NOT NULL DEFAULT '',
    mfa_factors TEXT NOT NULL DEFAULT '[]',
    root BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ,
    last_login TIMESTAMPTZ,
    password_changed TIMESTAMPTZ,
    credentials TEXT NOT NULL DEFAULT '[]',
    scanned_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX vigil_identity_account_person ON vigil_identity_account(person_id);
CREATE INDEX vigil_identity_account_key ON vigil_identity_account(entity_key);
CREATE INDEX vigil_identity_account_filter ON vigil_identity_account(privilege, mfa, status);

-- Issues by the entity they name, for the open-issue counts of identities.
CREATE INDEX vigil_posture_issue_entity ON vigil_posture_issue(entity_key, status);
