-- The event log and the idempotency keys of the commands that wrote to it.
-- Writers are serialized (BEGIN IMMEDIATE), so position order is commit order.

CREATE TABLE events (
    position       INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id       TEXT NOT NULL UNIQUE,
    stream_id      TEXT NOT NULL CHECK (stream_id <> ''),
    version        INTEGER NOT NULL CHECK (version >= 1),
    event_type     TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    payload        TEXT NOT NULL CHECK (json_valid(payload)),
    recorded_at    TEXT NOT NULL,
    actor          TEXT,
    causation_id   TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    UNIQUE (stream_id, version)
) STRICT;

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: UPDATE is not allowed');
END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: DELETE is not allowed');
END;

CREATE TABLE idempotency_keys (
    key                 TEXT PRIMARY KEY,
    request_fingerprint TEXT NOT NULL,
    result              TEXT NOT NULL CHECK (json_valid(result)),
    created_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
