-- The email outbox (freshet-mail): one row per EmailRequested event, keyed by the email's
-- deterministic id, so a replayed or retried event never yields a second message.
-- Not a projection: rebuilds never touch it.

CREATE TABLE mail_outbox (
    id                UUID PRIMARY KEY,
    portfolio_id      UUID NOT NULL,
    kind              TEXT NOT NULL,
    recipient         UUID NOT NULL,
    recipient_role    TEXT NOT NULL,
    -- Resolved from the directory when the message is delivered.
    recipient_address TEXT,
    subject           TEXT NOT NULL,
    body_text         TEXT NOT NULL,
    body_html         TEXT NOT NULL,
    email             JSONB NOT NULL,
    source_event_id   UUID NOT NULL,
    status            TEXT NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts          INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error        TEXT,
    created_at        TIMESTAMPTZ NOT NULL,
    -- Pending: when the next attempt is due. Sending: when the claim lapses (its worker is
    -- presumed dead and another may claim the message again).
    next_attempt_at   TIMESTAMPTZ NOT NULL,
    claim_token       UUID,
    sent_at           TIMESTAMPTZ
);

CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at)
    WHERE status IN ('pending', 'sending');
CREATE INDEX mail_outbox_listing ON mail_outbox (created_at DESC, id);
CREATE INDEX mail_outbox_recipient ON mail_outbox (recipient, created_at DESC);
