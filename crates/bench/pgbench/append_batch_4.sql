-- Group commit: four such appends in one append_batch call (migration 0102), as 8 closed-loop
-- clients with 4 batches in flight would at best fill it.
-- appends per transaction: 4
\set n random(1, 9223372036854775807)
SELECT * FROM append_batch(
    ARRAY['a-' || :n, 'b-' || :n, 'c-' || :n, 'd-' || :n], ARRAY[0, 0, 0, 0]::bigint[],
    ARRAY[now(), now(), now(), now()], ARRAY['user-bench', 'user-bench', 'user-bench', 'user-bench'],
    ARRAY[gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), gen_random_uuid()],
    ARRAY[gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), gen_random_uuid()],
    ARRAY['ka-' || :n, 'kb-' || :n, 'kc-' || :n, 'kd-' || :n],
    ARRAY['bench', 'bench', 'bench', 'bench'],
    ARRAY[now() - interval '1 day', now() - interval '1 day', now() - interval '1 day', now() - interval '1 day'],
    ARRAY[1, 2, 3, 4],
    ARRAY[gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), gen_random_uuid()],
    ARRAY['PortfolioNoteLogged', 'PortfolioNoteLogged', 'PortfolioNoteLogged', 'PortfolioNoteLogged'],
    ARRAY[1, 1, 1, 1],
    ARRAY['{"note_id":"00000000-0000-0000-0000-000000005eed","author":"00000000-0000-0000-0000-0000000a11ce","author_role":"am","text":"Baseline row          1: new assets attached, keep it.","logged_at":"2027-01-01T12:00:00Z"}'::jsonb, '{"note_id":"00000000-0000-0000-0000-000000005eed","author":"00000000-0000-0000-0000-0000000a11ce","author_role":"am","text":"Baseline row          1: new assets attached, keep it.","logged_at":"2027-01-01T12:00:00Z"}'::jsonb, '{"note_id":"00000000-0000-0000-0000-000000005eed","author":"00000000-0000-0000-0000-0000000a11ce","author_role":"am","text":"Baseline row          1: new assets attached, keep it.","logged_at":"2027-01-01T12:00:00Z"}'::jsonb, '{"note_id":"00000000-0000-0000-0000-000000005eed","author":"00000000-0000-0000-0000-0000000a11ce","author_role":"am","text":"Baseline row          1: new assets attached, keep it.","logged_at":"2027-01-01T12:00:00Z"}'::jsonb],
    ARRAY[NULL, NULL, NULL, NULL]::timestamptz[], ARRAY[NULL, NULL, NULL, NULL]::uuid[]);
