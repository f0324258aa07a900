-- The email outbox (freshet-mail): one row per EmailRequested event, keyed by the email's
-- deterministic id, so a replayed or retried event never yields a second message.
-- Not a projection: rebuilds never touch it. Times are UTC text of one fixed width
-- (YYYY-MM-DDTHH:MM:SS.ffffffZ), so they compare as strings.

CREATE TABLE mail_outbox (
    id                TEXT PRIMARY KEY,
    portfolio_id      TEXT NOT NULL,
    kind              TEXT NOT NULL,
    recipient         TEXT NOT NULL,
    recipient_role    TEXT NOT NULL,
    recipient_address TEXT,
    subject           TEXT NOT NULL,
    body_text         TEXT NOT NULL,
    body_html         TEXT NOT NULL,
    email             TEXT NOT NULL CHECK (json_valid(email)),
    source_event_id   TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts          INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error        TEXT,
    created_at        TEXT NOT NULL,
    next_attempt_at   TEXT NOT NULL,
    claim_token       TEXT,
    sent_at           TEXT
) STRICT;

CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at)
    WHERE status IN ('pending', 'sending');
CREATE INDEX mail_outbox_listing ON mail_outbox (created_at DESC, id);
CREATE INDEX mail_outbox_recipient ON mail_outbox (recipient, created_at DESC);
