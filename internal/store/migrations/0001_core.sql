-- Users of the console and API. Passwords are argon2id hashes.
CREATE TABLE vigil_user (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL DEFAULT '',
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- Console sessions. Only the SHA-256 of the session token is stored.
CREATE TABLE vigil_session (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES vigil_user(id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX vigil_session_user ON vigil_session(user_id);

-- API tokens, sent as "Authorization: Bearer". Only the SHA-256 is stored.
CREATE TABLE vigil_api_token (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES vigil_user(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ
);

-- Settings the admin changes at run time (public URL, allowlist, retention).
CREATE TABLE vigil_setting (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
