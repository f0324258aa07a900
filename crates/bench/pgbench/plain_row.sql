-- The baseline: one ~200-byte row per transaction into a table with nothing around it.
\set n random(1, 9223372036854775807)
INSERT INTO bench_baseline (stream_id, payload) VALUES ('s-' || :n, '{"note_id":"00000000-0000-0000-0000-000000005eed","author":"00000000-0000-0000-0000-0000000a11ce","author_role":"am","text":"Baseline row          1: new assets attached, keep it.","logged_at":"2027-01-01T12:00:00Z"}');
