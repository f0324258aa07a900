-- An undated task's sort_due is 9999-12-31, as 0003 says, on both backends. The inbox wrote
-- the largest date chrono knows (year 262142) instead, kept here as the text
-- '+262142-12-31', which sorts before every real date: undated tasks came first. Rows
-- written before are moved to the one value, so they sort last and keyset cursors
-- (sort_due, task_id) built from it find them again.
UPDATE inbox_tasks SET sort_due = '9999-12-31' WHERE due_on IS NULL;
