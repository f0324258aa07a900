-- The event log and the idempotency keys of the commands that wrote to it.

CREATE TABLE events (
    -- Global sequence: allocated at insert time, so it is NOT commit order on its own.
    position       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The writing transaction's id (xid8 as bigint). Readers order by (commit_xid, position)
    -- and only see transactions older than the oldest one still in flight.
    commit_xid     bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    event_id       uuid NOT NULL,
    stream_id      text NOT NULL,
    version        bigint NOT NULL,
    event_type     text NOT NULL,
    schema_version integer NOT NULL,
    payload        jsonb NOT NULL,
    recorded_at    timestamptz NOT NULL,
    actor          text,
    causation_id   uuid NOT NULL,
    correlation_id uuid NOT NULL,
    CONSTRAINT events_event_id_key UNIQUE (event_id),
    -- Optimistic concurrency: also serves stream reads in version order.
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, version),
    CONSTRAINT events_stream_id_not_empty CHECK (stream_id <> ''),
    CONSTRAINT events_version_positive CHECK (version >= 1)
);

CREATE INDEX events_commit_position_idx ON events (commit_xid, position);

CREATE FUNCTION events_are_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER events_no_update_or_delete
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_are_append_only();

CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();

CREATE TABLE idempotency_keys (
    key                 text PRIMARY KEY,
    request_fingerprint text NOT NULL,
    -- The serialized AppendResult; written in the same transaction that inserts the key.
    result              jsonb,
    created_at          timestamptz NOT NULL DEFAULT now()
);
