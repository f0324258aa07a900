-- The store writes idempotency_keys.created_at with the one SQLite time codec (RFC 3339,
-- microseconds, 'Z': 27 characters) since the codec was shared; rows written before have
-- milliseconds (24 characters). Text order is time order only within one width, so the
-- older rows are widened (their time is unchanged).
UPDATE idempotency_keys
SET created_at = substr(created_at, 1, 23) || '000Z'
WHERE length(created_at) = 24 AND substr(created_at, 24, 1) = 'Z';
