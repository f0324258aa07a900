-- Where each event processor (projection, outbox, process manager) stands in the global log.
-- A processor writes its new checkpoint in the same transaction as its rows.

CREATE TABLE checkpoints (
    name        text PRIMARY KEY,
    -- The LogPosition of the last event applied: (log_commit, log_position). (0, 0) = nothing yet.
    log_commit   bigint NOT NULL DEFAULT 0,
    log_position bigint NOT NULL DEFAULT 0,
    -- recorded_at of the last event applied, for "seconds behind".
    event_at    timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Blue/green rebuilds: every read-model row carries the generation that wrote it; queries
-- read the active one while a rebuild fills the building one.
CREATE TABLE projection_generations (
    name       text PRIMARY KEY,
    active     bigint NOT NULL DEFAULT 1,
    building   bigint,
    updated_at timestamptz NOT NULL DEFAULT now()
);
