-- Account messages (freshet-mail): invitations, password resets and the daily digest go
-- through the outbox too. They are about a person, not a portfolio, so they have no
-- portfolio, no source event and no domain email; a portfolio's message has all three.
-- And each person may turn the daily digest off (freshet-accounts, `digest`).
--
-- SQLite cannot drop a NOT NULL constraint, so the table is rebuilt the documented way
-- (https://www.sqlite.org/lang_altertable.html, "other kinds of table schema changes"):
-- a new table, every row copied, the old one dropped, the new one renamed, its indexes
-- made again. No foreign key refers to mail_outbox, and the migration runs in one
-- transaction.

CREATE TABLE mail_outbox_new (
    id                TEXT PRIMARY KEY,
    portfolio_id      TEXT,
    kind              TEXT NOT NULL,
    recipient         TEXT NOT NULL,
    recipient_role    TEXT NOT NULL,
    recipient_address TEXT,
    subject           TEXT NOT NULL,
    body_text         TEXT NOT NULL,
    body_html         TEXT NOT NULL,
    email             TEXT CHECK (email IS NULL OR json_valid(email)),
    source_event_id   TEXT,
    status            TEXT NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts          INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error        TEXT,
    created_at        TEXT NOT NULL,
    next_attempt_at   TEXT NOT NULL,
    claim_token       TEXT,
    sent_at           TEXT,
    CHECK ((portfolio_id IS NULL) = (source_event_id IS NULL)
           AND (portfolio_id IS NULL) = (email IS NULL))
) STRICT;

INSERT INTO mail_outbox_new (id, portfolio_id, kind, recipient, recipient_role,
    recipient_address, subject, body_text, body_html, email, source_event_id, status,
    attempts, last_error, created_at, next_attempt_at, claim_token, sent_at)
SELECT id, portfolio_id, kind, recipient, recipient_role, recipient_address, subject,
    body_text, body_html, email, source_event_id, status, attempts, last_error, created_at,
    next_attempt_at, claim_token, sent_at
FROM mail_outbox;

DROP TABLE mail_outbox;

ALTER TABLE mail_outbox_new RENAME TO mail_outbox;

CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at)
    WHERE status IN ('pending', 'sending');
CREATE INDEX mail_outbox_listing ON mail_outbox (created_at DESC, id);
CREATE INDEX mail_outbox_recipient ON mail_outbox (recipient, created_at DESC);

ALTER TABLE users ADD COLUMN daily_digest INTEGER NOT NULL DEFAULT 1
    CHECK (daily_digest IN (0, 1));
