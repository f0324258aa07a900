-- Each generation of a read model gets a table of its own: the four read-model tables become
-- partitioned by `generation` (one list partition per generation, named `<table>_g<N>`).
-- A rebuild then fills its new generation into a plain table that has only its primary key
-- (what its upserts need), builds the other indexes once at the end by attaching it as the
-- generation's partition, and drops the old copy as a table instead of deleting its rows.
-- Queries, live writes and their plans are unchanged: they name the partitioned table, and
-- `generation = (SELECT active …)` prunes it to one partition when the query runs.
--
-- Every existing generation (rows, active or not) gets its partition, plus generation 1,
-- which a missing `projection_generations` row starts at. Each table's primary key and
-- indexes are created again on the partitioned table as they were (same names and columns,
-- read from the catalog). The rows are copied once: run it while the projections' writers
-- are stopped if the tables are large.
--
-- SQLite has no partitions: a rebuild there writes into the shared tables, so this file has
-- no SQLite counterpart (as 0064 has none).

DO $$
DECLARE
    read_model record;
    primary_key text;
    index_definitions text[];
    index_definition text;
    generation_number bigint;
BEGIN
    FOR read_model IN
        SELECT * FROM (VALUES
            ('inbox_tasks', 'inbox'),
            ('portfolios', 'portfolios'),
            ('ad_set_tickets', 'ad_set_board'),
            ('cycle_metrics', 'cycle_metrics')
        ) AS t (name, projection)
    LOOP
        SELECT pg_get_constraintdef(oid) INTO primary_key
            FROM pg_constraint
            WHERE conrelid = read_model.name::regclass AND contype = 'p';
        SELECT array_agg(pg_get_indexdef(i.indexrelid)) INTO index_definitions
            FROM pg_index AS i
            WHERE i.indrelid = read_model.name::regclass AND NOT i.indisprimary;

        EXECUTE format(
            'CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS) PARTITION BY LIST (generation)',
            read_model.name || '_by_generation', read_model.name);
        FOR generation_number IN EXECUTE format(
            'SELECT generation FROM %I UNION '
            'SELECT active FROM projection_generations WHERE name = %L UNION SELECT 1',
            read_model.name, read_model.projection)
        LOOP
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES IN (%s)',
                read_model.name || '_g' || generation_number, read_model.name || '_by_generation',
                generation_number);
        END LOOP;
        EXECUTE format('INSERT INTO %I SELECT * FROM %I',
            read_model.name || '_by_generation', read_model.name);
        EXECUTE format('DROP TABLE %I', read_model.name);
        EXECUTE format('ALTER TABLE %I RENAME TO %I',
            read_model.name || '_by_generation', read_model.name);

        EXECUTE format('ALTER TABLE %I ADD %s', read_model.name, primary_key);
        FOREACH index_definition IN ARRAY coalesce(index_definitions, '{}') LOOP
            EXECUTE index_definition;
        END LOOP;
    END LOOP;
END
$$;
