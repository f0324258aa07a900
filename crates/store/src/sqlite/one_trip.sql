-- A batch of appends in one round trip, for the common case: every append has events, and
-- no two share a stream or an idempotency key (group commit sends no such batch).
--
-- ?1 is a JSON array with one object per append: its stream, the version it expects (null
-- for any), its key, fingerprint and instant (null without a key), its actor and
-- correlation id, and its events as arrays [event_id, type, schema_version, payload text,
-- recorded_at, causation_id].
--
-- An append is written when its stream is at the version it expects and its key has no
-- stored use at all (an expired use is left to the checked path, which overwrites it).
-- Nothing is said of the others: the caller finds them by their missing events and writes
-- them again through the checked path, which answers each one (a conflict, a replay, a
-- reused key) or writes it. The checks are evaluated before anything is inserted (SQLite
-- materializes an INSERT's SELECT that reads its own table), so each append is judged
-- against its stream and key as they were before the batch.
BEGIN IMMEDIATE;

INSERT INTO events (event_id, stream_id, version, event_type, schema_version, payload,
                    recorded_at, actor, causation_id, correlation_id)
SELECT e.value ->> 0,
       a.value ->> 'stream',
       COALESCE((SELECT MAX(version) FROM events WHERE stream_id = a.value ->> 'stream'), 0)
           + e.key + 1,
       e.value ->> 1, e.value ->> 2, e.value ->> 3, e.value ->> 4,
       a.value ->> 'actor',
       e.value ->> 5,
       a.value ->> 'correlation'
FROM json_each(?1) AS a, json_each(a.value -> 'events') AS e
WHERE (a.value ->> 'expected' IS NULL
       OR a.value ->> 'expected'
          = COALESCE((SELECT MAX(version) FROM events WHERE stream_id = a.value ->> 'stream'), 0))
  AND NOT EXISTS (SELECT 1 FROM idempotency_keys WHERE key = a.value ->> 'key')
ORDER BY a.key, e.key
RETURNING event_id, position, version;

-- Each written append's key, with the outcome a retry is answered with (an `AppendResult`).
-- Only the events the insert above wrote count: the last changes() positions, which
-- AUTOINCREMENT gave them one after another under the write lock. (An append it skipped may
-- carry the ids of older events: a retry of the same events, which the checked path replays.)
INSERT INTO idempotency_keys (key, request_fingerprint, result, created_at)
SELECT a.value ->> 'key',
       a.value ->> 'fingerprint',
       json_object(
           'stream_id', a.value ->> 'stream',
           'first_version', MIN(written.version),
           'last_version', MAX(written.version),
           'positions', json_group_array(
               json_object('commit', written.position, 'position', written.position)
               ORDER BY written.version),
           'event_ids', json_group_array(written.event_id ORDER BY written.version)),
       a.value ->> 'created_at'
FROM json_each(?1) AS a, json_each(a.value -> 'events') AS e
JOIN events AS written
     ON written.event_id = e.value ->> 0
    AND written.position > (SELECT seq FROM sqlite_sequence WHERE name = 'events') - changes()
WHERE a.value ->> 'key' IS NOT NULL
GROUP BY a.key;

COMMIT;
