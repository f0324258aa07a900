-- Idempotency keys expire (a day by default): an append takes a key used before its cutoff
-- as new, and the worker deletes the expired keys in batches, oldest first, by this index.
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);

-- append_events (0040) with one more argument, p_key_valid_since: a key whose stored use is
-- older than it has expired and is claimed again as if it were new (its old outcome is
-- forgotten). NULL: keys never expire. The key's created_at is the command's own time
-- (p_recorded_at), the clock the cutoff is computed from. The 12-argument function stays for
-- processes of the previous version during a rolling upgrade.
CREATE FUNCTION append_events(
    p_stream          text,
    p_expected        bigint,
    p_event_ids       uuid[],
    p_event_types     text[],
    p_schema_versions integer[],
    p_payloads        jsonb[],
    p_recorded_at     timestamptz,
    p_actor           text,
    p_causation_id    uuid,
    p_correlation_id  uuid,
    p_key             text,
    p_fingerprint     text,
    p_key_valid_since timestamptz
) RETURNS TABLE (outcome text, current_version bigint, stored_fingerprint text, result jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    stream_version bigint;
    written_positions jsonb;
    appended jsonb;
BEGIN
    IF p_key IS NOT NULL THEN
        -- An identical request racing us waits here until we commit, then replays. An
        -- expired key is overwritten in place (its row lock serializes racing claimers too).
        INSERT INTO idempotency_keys AS k (key, request_fingerprint, created_at)
        VALUES (p_key, p_fingerprint, p_recorded_at)
        ON CONFLICT (key) DO UPDATE
            SET request_fingerprint = EXCLUDED.request_fingerprint,
                result = NULL,
                created_at = EXCLUDED.created_at
            WHERE p_key_valid_since IS NOT NULL AND k.created_at < p_key_valid_since;
        IF NOT FOUND THEN
            RETURN QUERY SELECT 'replayed'::text, NULL::bigint, k.request_fingerprint, k.result
              FROM idempotency_keys k WHERE k.key = p_key;
            RETURN;
        END IF;
    END IF;

    -- Serialize appends per stream so the version check below is never stale. (Keys are
    -- claimed before and never while holding a stream's lock, so the two cannot deadlock.)
    PERFORM pg_advisory_xact_lock(hashtextextended(p_stream, 0));
    SELECT COALESCE(MAX(e.version), 0) INTO stream_version
      FROM events e WHERE e.stream_id = p_stream;
    IF p_expected IS NOT NULL AND p_expected <> stream_version THEN
        -- Give the key back, as a rollback would: a racing request waiting on it goes ahead.
        DELETE FROM idempotency_keys WHERE key = p_key;
        RETURN QUERY SELECT 'conflict'::text, stream_version, NULL::text, NULL::jsonb;
        RETURN;
    END IF;

    WITH inserted AS (
        INSERT INTO events (event_id, stream_id, version, event_type, schema_version, payload,
                            recorded_at, actor, causation_id, correlation_id)
        SELECT n.event_id, p_stream, stream_version + n.ordinal, n.event_type,
               n.schema_version, n.payload, p_recorded_at, p_actor, p_causation_id,
               p_correlation_id
          FROM unnest(p_event_ids, p_event_types, p_schema_versions, p_payloads)
               WITH ORDINALITY AS n(event_id, event_type, schema_version, payload, ordinal)
        RETURNING version, commit_xid, position
    )
    SELECT COALESCE(jsonb_agg(jsonb_build_object('commit', i.commit_xid, 'position', i.position)
                              ORDER BY i.version), '[]'::jsonb)
      INTO written_positions FROM inserted i;

    appended := jsonb_build_object(
        'stream_id', p_stream,
        'first_version', stream_version + 1,
        'last_version', stream_version + cardinality(p_event_ids),
        'positions', written_positions,
        'event_ids', to_jsonb(p_event_ids));
    IF p_key IS NOT NULL THEN
        UPDATE idempotency_keys SET result = appended WHERE key = p_key;
    END IF;
    RETURN QUERY SELECT 'appended'::text, stream_version + cardinality(p_event_ids),
                        NULL::text, appended;
END;
$$;
