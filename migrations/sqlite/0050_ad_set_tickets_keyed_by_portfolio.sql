-- Ticket ids are unique within one portfolio only (a client may choose them), so the Ad Set
-- board keys its rows by portfolio too: another portfolio reusing a ticket id no longer
-- overwrites this one's row. SQLite cannot change a primary key: the table is copied.
-- Boards already overwritten by a reused id are repaired by `freshet rebuild ad_set_board`.

CREATE TABLE ad_set_tickets_by_portfolio (
    generation       INTEGER NOT NULL,
    ticket_id        TEXT NOT NULL,
    portfolio_id     TEXT NOT NULL,
    cycle            INTEGER NOT NULL,
    ordinal          INTEGER NOT NULL,
    folder           TEXT NOT NULL,
    deliverables     INTEGER NOT NULL,
    title            TEXT NOT NULL,
    status           TEXT NOT NULL,
    copy_approval    TEXT NOT NULL,
    graphic_approval TEXT NOT NULL,
    needs_revisions  TEXT,
    revision_round   INTEGER NOT NULL,
    notes_count      INTEGER NOT NULL,
    PRIMARY KEY (generation, portfolio_id, ticket_id)
) STRICT;
INSERT INTO ad_set_tickets_by_portfolio (generation, ticket_id, portfolio_id, cycle, ordinal,
    folder, deliverables, title, status, copy_approval, graphic_approval, needs_revisions,
    revision_round, notes_count)
SELECT generation, ticket_id, portfolio_id, cycle, ordinal, folder, deliverables, title,
    status, copy_approval, graphic_approval, needs_revisions, revision_round, notes_count
FROM ad_set_tickets;
DROP TABLE ad_set_tickets;
ALTER TABLE ad_set_tickets_by_portfolio RENAME TO ad_set_tickets;
CREATE INDEX ad_set_tickets_portfolio_idx
    ON ad_set_tickets (generation, portfolio_id, cycle, ordinal);
