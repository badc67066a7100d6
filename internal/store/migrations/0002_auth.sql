-- Failed sign-ins per user name ("user:NAME") and per client address
-- ("ip:ADDR"). Enough failures lock the key out for a time that doubles with
-- each further failure; a quiet period forgets them. Rows are removed once
-- they are stale, so the table stays small.
CREATE TABLE vigil_login_throttle (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure_at TIMESTAMPTZ NOT NULL,
    locked_until TIMESTAMPTZ
);

-- API tokens may carry an expiry; NULL means the token lasts until revoked.
ALTER TABLE vigil_api_token ADD COLUMN expires_at TIMESTAMPTZ;
CREATE INDEX vigil_api_token_user ON vigil_api_token(user_id);
