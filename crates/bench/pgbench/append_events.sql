-- Freshet's append of one event with a key, as crates/store/src/postgres/append.rs calls it
-- (migration 0061): key claim, stream lock, version look-up, insert, the key's outcome.
\set n random(1, 9223372036854775807)
SELECT * FROM append_events('s-' || :n, 0, ARRAY[gen_random_uuid()], ARRAY['PortfolioNoteLogged'],
    ARRAY[1], ARRAY['{"note_id":"00000000-0000-0000-0000-000000005eed","author":"00000000-0000-0000-0000-0000000a11ce","author_role":"am","text":"Baseline row          1: new assets attached, keep it.","logged_at":"2027-01-01T12:00:00Z"}'::jsonb], now(), 'user-bench', gen_random_uuid(), gen_random_uuid(),
    'k-' || :n, 'bench', now() - interval '1 day');
