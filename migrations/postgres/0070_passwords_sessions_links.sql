-- People sign in (freshet-accounts): a password, stored only as its Argon2id hash (PHC
-- string); the sessions of people signed in from a browser, each stored only as the
-- SHA-256 of its cookie's secret; and one-time links (an invitation to choose a first
-- password, or a password reset), each stored only as the SHA-256 of its secret.

ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN password_changed_at TIMESTAMPTZ;
-- One more at every new password: a session keeps the version it was begun under and
-- works only while it is still the user's (a sign-in that checked the old password just
-- before a reset cannot leave a session behind).
ALTER TABLE users ADD COLUMN password_version BIGINT NOT NULL DEFAULT 0;

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      UUID NOT NULL REFERENCES users (id),
    created_at   TIMESTAMPTZ NOT NULL,
    -- Written at most once a minute: a session unused for the idle lifetime has ended.
    last_seen_at TIMESTAMPTZ NOT NULL,
    -- The end of the absolute lifetime.
    expires_at   TIMESTAMPTZ NOT NULL,
    -- The user's password_version when the session began.
    password_version BIGINT NOT NULL
);

CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE INDEX sessions_idle ON sessions (last_seen_at);

CREATE TABLE account_links (
    secret_hash TEXT PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users (id),
    purpose     TEXT NOT NULL CHECK (purpose IN ('invitation', 'password_reset')),
    created_at  TIMESTAMPTZ NOT NULL,
    -- The inviting Admin; NULL: the command line, or the person asking for a reset.
    created_by  UUID REFERENCES users (id),
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);

CREATE INDEX account_links_user ON account_links (user_id, purpose, created_at);
