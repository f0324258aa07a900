-- Each inbox row remembers the log position of the batch that last wrote it, so a person's
-- live inbox stream reads only the rows changed since its last event, a page at a time, in
-- the order the inbox applied them. Rows written before this migration read as (0, 0).
ALTER TABLE inbox_tasks ADD COLUMN changed_commit INTEGER NOT NULL DEFAULT 0;
ALTER TABLE inbox_tasks ADD COLUMN changed_position INTEGER NOT NULL DEFAULT 0;
CREATE INDEX inbox_tasks_assignee_changes_idx
    ON inbox_tasks (generation, assignee, changed_commit, changed_position, task_id);
