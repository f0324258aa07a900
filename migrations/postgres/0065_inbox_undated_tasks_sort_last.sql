-- An undated task's sort_due is 9999-12-31, as 0003 says, on both backends. The inbox wrote
-- the largest date chrono knows (year 262142) instead, which SQLite keeps as the text
-- '+262142-12-31' and sorts before every real date: undated tasks came first there. Rows
-- written before are moved to the one value, so keyset cursors (sort_due, task_id) built
-- from it find them again.
UPDATE inbox_tasks SET sort_due = DATE '9999-12-31' WHERE due_on IS NULL;
