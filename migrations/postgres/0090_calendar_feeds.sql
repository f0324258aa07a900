-- Each person's private calendar feed (freshet-accounts, `feeds`): at most one address per
-- person, stored only as the SHA-256 of its secret. A new address replaces the row (the old
-- one stops working); stopping the feed deletes it.

CREATE TABLE calendar_feeds (
    user_id     UUID PRIMARY KEY REFERENCES users (id),
    secret_hash TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL
);
