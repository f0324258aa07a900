-- A processor whose batch cannot apply keeps retrying it, and says so here: failed attempts
-- in a row, since when, and the last error (for /admin/projections, /readyz and metrics).
-- A batch that applies clears them.

ALTER TABLE checkpoints ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE checkpoints ADD COLUMN failing_since TEXT;
ALTER TABLE checkpoints ADD COLUMN last_error TEXT;
