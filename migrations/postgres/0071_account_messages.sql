-- Account messages (freshet-mail): invitations, password resets and the daily digest go
-- through the outbox too. They are about a person, not a portfolio, so they have no
-- portfolio, no source event and no domain email; a portfolio's message has all three.
-- And each person may turn the daily digest off (freshet-accounts, `digest`).

ALTER TABLE mail_outbox
    ALTER COLUMN portfolio_id DROP NOT NULL,
    ALTER COLUMN source_event_id DROP NOT NULL,
    ALTER COLUMN email DROP NOT NULL,
    ADD CONSTRAINT mail_outbox_portfolio_message CHECK (
        (portfolio_id IS NULL) = (source_event_id IS NULL)
        AND (portfolio_id IS NULL) = (email IS NULL));

ALTER TABLE users ADD COLUMN daily_digest BOOLEAN NOT NULL DEFAULT TRUE;
