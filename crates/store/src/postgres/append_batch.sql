-- A batch of appends in one plain statement (crates/store/src/postgres/append.rs): each
-- append's key is looked up and its version checked against the log as this statement sees
-- it, then the accepted appends' events and their keys' rows (with each outcome) are
-- inserted. Per append, PostgreSQL does two index look-ups and inserts one row per event
-- and one for its key, if it has one.
--
-- It takes no lock first, unlike the append_batch function (0100, 0102). A writer of
-- another process in flight on one of its streams or keys, which the statement cannot see,
-- makes its insert wait on the unique index ((stream_id, version), or the key), then fail
-- once that writer commits. The caller then writes the batch again through the function,
-- which claims keys and locks streams before it reads them, and so waits for a single
-- append or another function (not for another such statement: if it fails again, the
-- appends go one at a time). A single append (0061) that meets a
-- row of this statement's may deadlock with it, or, appending at any version, find its
-- version taken: the caller writes it again (append.rs, `worth_again`).
--
-- Events go in by stream and keys by key, so two such statements never wait for each other
-- in a cycle. Positions in one batch therefore follow stream names, not the appends' order;
-- each stream's events keep theirs.
--
-- $1-$9 per append, $10-$17 per event (its append's index from 1 and its ordinal in it).
-- Each append answers one row, in order: 'appended', 'conflict', 'replayed', or 'expired'
-- (a use of its key older than $9: the caller writes it again alone, overwriting the key).
WITH request AS (
    SELECT r.*,
           COALESCE((SELECT e.version FROM events e WHERE e.stream_id = r.stream
                      ORDER BY e.version DESC LIMIT 1), 0) AS version,
           k.request_fingerprint AS stored_fingerprint,
           k.result AS stored_result,
           k.key IS NOT NULL AND (r.valid_since IS NULL OR k.created_at >= r.valid_since)
               AS replayed,
           k.key IS NOT NULL AND r.valid_since IS NOT NULL AND k.created_at < r.valid_since
               AS expired
      FROM unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::text[], $5::uuid[],
                  $6::uuid[], $7::text[], $8::text[], $9::timestamptz[])
           WITH ORDINALITY AS r(stream, expected, recorded_at, actor, causation_id,
                                correlation_id, key, fingerprint, valid_since, idx)
      LEFT JOIN idempotency_keys k ON k.key = r.key
),
accepted AS (
    SELECT * FROM request
     WHERE NOT replayed AND NOT expired AND (expected IS NULL OR expected = version)
),
inserted AS (
    INSERT INTO events (event_id, stream_id, version, event_type, schema_version, payload,
                        recorded_at, actor, causation_id, correlation_id)
    SELECT n.event_id, a.stream, a.version + n.ordinal, n.event_type, n.schema_version,
           n.payload, COALESCE(n.own_recorded_at, a.recorded_at), a.actor,
           COALESCE(n.own_causation_id, a.causation_id), a.correlation_id
      FROM unnest($10::bigint[], $11::bigint[], $12::uuid[], $13::text[], $14::integer[],
                  $15::jsonb[], $16::timestamptz[], $17::uuid[])
           AS n(append_no, ordinal, event_id, event_type, schema_version, payload,
                own_recorded_at, own_causation_id)
      JOIN accepted a ON a.idx = n.append_no
     ORDER BY a.stream, n.ordinal
    RETURNING stream_id, version, commit_xid, position, event_id
),
written AS (
    SELECT a.idx, a.key, a.fingerprint, a.recorded_at,
           a.version + COUNT(i.version) AS last_version,
           jsonb_build_object(
               'stream_id', a.stream,
               'first_version', a.version + 1,
               'last_version', a.version + COUNT(i.version),
               'positions', COALESCE(
                   jsonb_agg(jsonb_build_object('commit', i.commit_xid, 'position', i.position)
                             ORDER BY i.version) FILTER (WHERE i.version IS NOT NULL),
                   '[]'::jsonb),
               'event_ids', COALESCE(
                   jsonb_agg(i.event_id ORDER BY i.version) FILTER (WHERE i.version IS NOT NULL),
                   '[]'::jsonb)) AS result
      FROM accepted a LEFT JOIN inserted i ON i.stream_id = a.stream
     GROUP BY a.idx, a.key, a.fingerprint, a.recorded_at, a.stream, a.version
),
claimed AS (
    INSERT INTO idempotency_keys (key, request_fingerprint, created_at, result)
    SELECT w.key, w.fingerprint, w.recorded_at, w.result
      FROM written w
     WHERE w.key IS NOT NULL
     ORDER BY w.key
)
SELECT r.idx::integer AS append_index,
       CASE WHEN r.replayed THEN 'replayed'
            WHEN r.expired THEN 'expired'
            WHEN w.idx IS NOT NULL THEN 'appended'
            ELSE 'conflict' END AS outcome,
       COALESCE(w.last_version, r.version) AS current_version,
       r.stored_fingerprint,
       COALESCE(w.result, r.stored_result) AS result
  FROM request r LEFT JOIN written w ON w.idx = r.idx
 ORDER BY r.idx
