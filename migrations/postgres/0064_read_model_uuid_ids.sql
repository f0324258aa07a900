-- The read models keep their ids as `uuid`, like the mail outbox and users (0010, 0030),
-- instead of text: a UUID takes 16 bytes instead of 36 (rows and indexes shrink), and a
-- value that is not a UUID is refused instead of stored. Every id below is a UUID in the
-- domain (`freshet_domain::ids`), task ids included: a TaskId is a UUID v5 derived from its
-- cause, never the cause's text. `uuid` sorts as its lower-case hyphenated text does, so the
-- listings (ORDER BY sort_due, task_id; client, portfolio_id) and their keyset cursors keep
-- their order. Every index on these columns is rebuilt by the type change.
--
-- SQLite keeps UUIDs as hyphenated text (the store's codec, `DbUuid`), as it always has: it
-- needs no change, so this file has no SQLite counterpart (as 0040 has none, and 0063 none
-- here).
--
-- Each table is rewritten once (one ALTER TABLE per table), under an exclusive lock: run it
-- while the projections' writers are stopped if the tables are large. The text columns that
-- stay text hold names, codes or JSON, never ids.

ALTER TABLE inbox_tasks
    ALTER COLUMN task_id TYPE uuid USING task_id::uuid,
    ALTER COLUMN portfolio_id TYPE uuid USING portfolio_id::uuid,
    ALTER COLUMN assignee TYPE uuid USING assignee::uuid,
    ALTER COLUMN ticket_id TYPE uuid USING ticket_id::uuid,
    ALTER COLUMN done_by TYPE uuid USING done_by::uuid;

ALTER TABLE portfolios
    ALTER COLUMN portfolio_id TYPE uuid USING portfolio_id::uuid,
    ALTER COLUMN account_manager TYPE uuid USING account_manager::uuid,
    ALTER COLUMN social_ad_specialist TYPE uuid USING social_ad_specialist::uuid,
    ALTER COLUMN copywriter TYPE uuid USING copywriter::uuid,
    ALTER COLUMN designer TYPE uuid USING designer::uuid,
    ALTER COLUMN team_lead TYPE uuid USING team_lead::uuid;

ALTER TABLE ad_set_tickets
    ALTER COLUMN ticket_id TYPE uuid USING ticket_id::uuid,
    ALTER COLUMN portfolio_id TYPE uuid USING portfolio_id::uuid;

ALTER TABLE cycle_metrics
    ALTER COLUMN portfolio_id TYPE uuid USING portfolio_id::uuid,
    ALTER COLUMN account_manager TYPE uuid USING account_manager::uuid,
    ALTER COLUMN social_ad_specialist TYPE uuid USING social_ad_specialist::uuid;
