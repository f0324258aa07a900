-- The same append as append_events.sql as one plain statement (no PL/pgSQL, no lock: the
-- unique (stream_id, version) index refuses a racing writer): the key looked up, the version
-- checked, the event and then the key's row (with the outcome) inserted. Tried for issue 18
-- to see whether the function's statement count bounds an append: it does not (README.md).
\set n random(1, 9223372036854775807)
WITH request AS (
    SELECT r.*,
           COALESCE((SELECT e.version FROM events e WHERE e.stream_id = r.stream
                      ORDER BY e.version DESC LIMIT 1), 0) AS version,
           k.request_fingerprint AS stored_fingerprint, k.result AS stored_result,
           (k.key IS NOT NULL AND (r.valid_since IS NULL OR k.created_at >= r.valid_since))
               AS replayed
      FROM unnest(ARRAY['s-' || :n], ARRAY[0::bigint], ARRAY[now()], ARRAY['user-bench'],
                  ARRAY[gen_random_uuid()], ARRAY[gen_random_uuid()], ARRAY['k-' || :n],
                  ARRAY['bench'], ARRAY[now() - interval '1 day'])
           WITH ORDINALITY AS r(stream, expected, recorded_at, actor, causation_id,
                                correlation_id, key, fingerprint, valid_since, idx)
      LEFT JOIN idempotency_keys k ON k.key = r.key
),
accepted AS (
    SELECT * FROM request WHERE NOT replayed AND (expected IS NULL OR expected = version)
),
new_event AS (
    SELECT n.*, row_number() OVER (PARTITION BY n.append_no ORDER BY n.seq) AS ordinal
      FROM unnest(ARRAY[1], ARRAY[gen_random_uuid()], ARRAY['PortfolioNoteLogged'], ARRAY[1],
                  ARRAY['{"note_id":"00000000-0000-0000-0000-000000005eed","author":"00000000-0000-0000-0000-0000000a11ce","author_role":"am","text":"Baseline row          1: new assets attached, keep it.","logged_at":"2027-01-01T12:00:00Z"}'::jsonb])
           WITH ORDINALITY AS n(append_no, event_id, event_type, schema_version, payload, seq)
),
inserted AS (
    INSERT INTO events (event_id, stream_id, version, event_type, schema_version, payload,
                        recorded_at, actor, causation_id, correlation_id)
    SELECT n.event_id, a.stream, a.version + n.ordinal, n.event_type, n.schema_version,
           n.payload, a.recorded_at, a.actor, a.causation_id, a.correlation_id
      FROM new_event n JOIN accepted a ON a.idx = n.append_no
     ORDER BY a.idx, n.ordinal
    RETURNING stream_id, version, commit_xid, position, event_id
),
written AS (
    SELECT a.idx, a.key, a.fingerprint, a.recorded_at, a.version + COUNT(*) AS last_version,
           jsonb_build_object(
               'stream_id', a.stream,
               'first_version', a.version + 1,
               'last_version', a.version + COUNT(*),
               'positions', jsonb_agg(jsonb_build_object('commit', i.commit_xid,
                                                         'position', i.position)
                                      ORDER BY i.version),
               'event_ids', jsonb_agg(i.event_id ORDER BY i.version)) AS result
      FROM accepted a JOIN inserted i ON i.stream_id = a.stream
     GROUP BY a.idx, a.key, a.fingerprint, a.recorded_at, a.stream, a.version
),
claimed AS (
    INSERT INTO idempotency_keys (key, request_fingerprint, created_at, result)
    SELECT w.key, w.fingerprint, w.recorded_at, w.result FROM written w WHERE w.key IS NOT NULL
)
SELECT r.idx::integer,
       CASE WHEN r.replayed THEN 'replayed' WHEN w.idx IS NOT NULL THEN 'appended'
            ELSE 'conflict' END AS outcome,
       COALESCE(w.last_version, r.version) AS current_version,
       r.stored_fingerprint,
       COALESCE(w.result, r.stored_result) AS result
  FROM request r LEFT JOIN written w ON w.idx = r.idx
 ORDER BY r.idx;
