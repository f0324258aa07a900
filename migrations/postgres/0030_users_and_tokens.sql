-- People who use Freshet (freshet-api) and their bearer tokens. A token is stored only as
-- the SHA-256 of its plaintext, which is shown once when it is issued.

CREATE TABLE users (
    id         UUID PRIMARY KEY,
    name       TEXT NOT NULL CHECK (length(name) > 0),
    email      TEXT NOT NULL CHECK (length(email) > 0),
    admin      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE api_tokens (
    id         UUID PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    label      TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);

CREATE INDEX api_tokens_user ON api_tokens (user_id);
