-- A processor whose batch cannot apply keeps retrying it, and says so here: failed attempts
-- in a row, since when, and the last error (for /admin/projections, /readyz and metrics,
-- read by any process). A batch that applies clears them.

ALTER TABLE checkpoints ADD COLUMN failures bigint NOT NULL DEFAULT 0;
ALTER TABLE checkpoints ADD COLUMN failing_since timestamptz;
ALTER TABLE checkpoints ADD COLUMN last_error text;
