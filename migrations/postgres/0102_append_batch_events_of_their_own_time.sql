-- Group commit with events of their own instant and cause: an append may hold several
-- dated commands (an import's history, crates/service/src/service/dated.rs), each event
-- recorded at its command's instant and caused by it. Per event, p_event_recorded_at[j] and
-- p_event_causation_ids[j] (NULL: the append's own, as in 0100). Otherwise append_batch as
-- 0100 made it; that one stays, for a binary of the previous release still running during
-- an upgrade, and now answers through this one.

CREATE FUNCTION append_batch(
    p_streams           text[],
    p_expected          bigint[],
    p_recorded_at       timestamptz[],
    p_actors            text[],
    p_causation_ids     uuid[],
    p_correlation_ids   uuid[],
    p_keys              text[],
    p_fingerprints      text[],
    p_keys_valid_since  timestamptz[],
    p_event_appends     integer[],
    p_event_ids         uuid[],
    p_event_types       text[],
    p_schema_versions   integer[],
    p_payloads          jsonb[],
    p_event_recorded_at timestamptz[],
    p_event_causation_ids uuid[]
) RETURNS TABLE (append_index integer, outcome text, current_version bigint,
                 stored_fingerprint text, result jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    claimed text[];
BEGIN
    -- An expired use of a key is forgotten, as append_events overwrites it in place. Its
    -- row is locked in key order first, like the claims below.
    DELETE FROM idempotency_keys WHERE key IN (
        SELECT k.key FROM idempotency_keys k
          JOIN unnest(p_keys, p_keys_valid_since) AS u(key, valid_since) ON k.key = u.key
         WHERE u.valid_since IS NOT NULL AND k.created_at < u.valid_since
         ORDER BY k.key FOR UPDATE OF k);

    -- Keys first and in one order, streams after and in one order: a batch and a single
    -- append (key, then stream) or two batches can then never wait for each other in a cycle.
    -- A key another transaction is claiming makes this wait until it commits (then replays)
    -- or rolls back (then claims).
    WITH claim AS (
        INSERT INTO idempotency_keys (key, request_fingerprint, created_at)
        SELECT u.key, u.fingerprint, u.recorded_at
          FROM unnest(p_keys, p_fingerprints, p_recorded_at) AS u(key, fingerprint, recorded_at)
         WHERE u.key IS NOT NULL
         ORDER BY u.key
        ON CONFLICT (key) DO NOTHING
        RETURNING key)
    SELECT COALESCE(array_agg(claim.key), '{}') INTO claimed FROM claim;

    PERFORM pg_advisory_xact_lock(l.lock_key)
       FROM (SELECT DISTINCT hashtextextended(s, 0) AS lock_key
               FROM unnest(p_streams) AS s ORDER BY 1) AS l;

    RETURN QUERY
    WITH request AS (
        SELECT r.*,
               (SELECT COALESCE(MAX(e.version), 0) FROM events e
                 WHERE e.stream_id = r.stream) AS version,
               (r.key IS NOT NULL AND NOT r.key = ANY(claimed)) AS replayed
          FROM unnest(p_streams, p_expected, p_recorded_at, p_actors, p_causation_ids,
                      p_correlation_ids, p_keys)
               WITH ORDINALITY AS r(stream, expected, recorded_at, actor, causation_id,
                                    correlation_id, key, idx)
    ),
    accepted AS (
        SELECT * FROM request
         WHERE NOT replayed AND (expected IS NULL OR expected = version)
    ),
    new_event AS (
        SELECT n.*, row_number() OVER (PARTITION BY n.append_no ORDER BY n.seq) AS ordinal
          FROM unnest(p_event_appends, p_event_ids, p_event_types, p_schema_versions,
                      p_payloads, p_event_recorded_at, p_event_causation_ids)
               WITH ORDINALITY AS n(append_no, event_id, event_type, schema_version, payload,
                                    own_recorded_at, own_causation_id, seq)
    ),
    inserted AS (
        INSERT INTO events (event_id, stream_id, version, event_type, schema_version, payload,
                            recorded_at, actor, causation_id, correlation_id)
        SELECT n.event_id, a.stream, a.version + n.ordinal, n.event_type, n.schema_version,
               n.payload, COALESCE(n.own_recorded_at, a.recorded_at), a.actor,
               COALESCE(n.own_causation_id, a.causation_id), a.correlation_id
          FROM new_event n JOIN accepted a ON a.idx = n.append_no
         ORDER BY a.idx, n.ordinal
        RETURNING stream_id, version, commit_xid, position, event_id
    ),
    written AS (
        SELECT a.idx, a.key,
               a.version + COUNT(i.version) AS last_version,
               jsonb_build_object(
                   'stream_id', a.stream,
                   'first_version', a.version + 1,
                   'last_version', a.version + COUNT(i.version),
                   'positions', COALESCE(
                       jsonb_agg(jsonb_build_object('commit', i.commit_xid,
                                                    'position', i.position)
                                 ORDER BY i.version) FILTER (WHERE i.version IS NOT NULL),
                       '[]'::jsonb),
                   'event_ids', COALESCE(
                       jsonb_agg(i.event_id ORDER BY i.version)
                                 FILTER (WHERE i.version IS NOT NULL),
                       '[]'::jsonb)) AS result
          FROM accepted a LEFT JOIN inserted i ON i.stream_id = a.stream
         GROUP BY a.idx, a.key, a.stream, a.version
    ),
    kept AS (
        UPDATE idempotency_keys k SET result = w.result
          FROM written w WHERE k.key = w.key
    ),
    -- A conflict gives its key back, as a rollback would: a racing request waiting on it
    -- goes ahead.
    given_back AS (
        DELETE FROM idempotency_keys k
         USING request r
         WHERE k.key = r.key AND NOT r.replayed
           AND NOT (r.expected IS NULL OR r.expected = r.version)
    )
    SELECT r.idx::integer,
           CASE WHEN r.replayed THEN 'replayed'
                WHEN w.idx IS NOT NULL THEN 'appended'
                ELSE 'conflict' END,
           COALESCE(w.last_version, r.version),
           k.request_fingerprint,
           COALESCE(w.result, k.result)
      FROM request r
      LEFT JOIN written w ON w.idx = r.idx
      LEFT JOIN idempotency_keys k ON r.replayed AND k.key = r.key
     ORDER BY r.idx;
END;
$$;

CREATE OR REPLACE FUNCTION append_batch(
    p_streams           text[],
    p_expected          bigint[],
    p_recorded_at       timestamptz[],
    p_actors            text[],
    p_causation_ids     uuid[],
    p_correlation_ids   uuid[],
    p_keys              text[],
    p_fingerprints      text[],
    p_keys_valid_since  timestamptz[],
    p_event_appends     integer[],
    p_event_ids         uuid[],
    p_event_types       text[],
    p_schema_versions   integer[],
    p_payloads          jsonb[]
) RETURNS TABLE (append_index integer, outcome text, current_version bigint,
                 stored_fingerprint text, result jsonb)
LANGUAGE sql AS $$
    SELECT * FROM append_batch(p_streams, p_expected, p_recorded_at, p_actors, p_causation_ids,
                               p_correlation_ids, p_keys, p_fingerprints, p_keys_valid_since,
                               p_event_appends, p_event_ids, p_event_types, p_schema_versions,
                               p_payloads, NULL::timestamptz[], NULL::uuid[]);
$$;
