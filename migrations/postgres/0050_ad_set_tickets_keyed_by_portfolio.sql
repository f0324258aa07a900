-- Ticket ids are unique within one portfolio only (a client may choose them), so the Ad Set
-- board keys its rows by portfolio too: another portfolio reusing a ticket id no longer
-- overwrites this one's row, and a page holding both rows no longer fails its upsert.
-- Every existing row stays valid under the new key. Boards already overwritten by a reused
-- id are repaired by `freshet rebuild ad_set_board`.

ALTER TABLE ad_set_tickets DROP CONSTRAINT ad_set_tickets_pkey;
ALTER TABLE ad_set_tickets ADD PRIMARY KEY (generation, portfolio_id, ticket_id);
