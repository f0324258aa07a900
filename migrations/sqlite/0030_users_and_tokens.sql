-- People who use Freshet (freshet-api) and their bearer tokens. A token is stored only as
-- the SHA-256 of its plaintext, which is shown once when it is issued. Ids are UUID text;
-- times are RFC 3339 UTC text.

CREATE TABLE users (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL CHECK (length(name) > 0),
    email      TEXT NOT NULL CHECK (length(email) > 0),
    admin      INTEGER NOT NULL DEFAULT 0 CHECK (admin IN (0, 1)),
    created_at TEXT NOT NULL
) STRICT;

CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    label      TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    revoked_at TEXT
) STRICT;

CREATE INDEX api_tokens_user ON api_tokens (user_id);
