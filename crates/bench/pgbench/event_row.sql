-- One event row with every index an event has: no key, no function, no version check.
\set n random(1, 9223372036854775807)
INSERT INTO events (event_id, stream_id, version, event_type, schema_version, payload,
                    recorded_at, actor, causation_id, correlation_id)
VALUES (gen_random_uuid(), 's-' || :n, 1, 'PortfolioNoteLogged', 1, '{"note_id":"00000000-0000-0000-0000-000000005eed","author":"00000000-0000-0000-0000-0000000a11ce","author_role":"am","text":"Baseline row          1: new assets attached, keep it.","logged_at":"2027-01-01T12:00:00Z"}', now(),
        'user-bench', gen_random_uuid(), gen_random_uuid());
