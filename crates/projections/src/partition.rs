//! Each generation's rows in a table of its own (PostgreSQL, migration `0101`): the read-model
//! tables are partitioned by `generation`, one partition `<table>_g<N>` per generation.
//!
//! A rebuild fills its new generation at bulk speed in a detached table that has only the
//! primary key its upserts need, builds the secondary indexes once at the end (attaching the
//! table as the generation's partition builds them, sorted, instead of maintaining them row
//! by row), and drops the old generation as a table. The new table's columns, defaults,
//! primary key and indexes are read from the partitioned table, so the migrations stay the
//! one place that defines them.
//!
//! SQLite has no partitions: there every generation shares the tables and a rebuild writes
//! into them (its bulk inserts already run near one-transaction bulk speed).

use freshet_store::{Database, Tx};

use crate::projection::{Projection, Target, delete_rows};

/// The table holding `table`'s rows of `generation` on PostgreSQL.
pub(crate) fn table_of(table: &str, generation: i64) -> String {
    format!("{table}_g{generation}")
}

/// Removes every row of `generation`: its tables on PostgreSQL (attached or not), its rows
/// elsewhere.
pub(crate) async fn discard(
    tx: &mut Tx,
    projection: &dyn Projection,
    generation: i64,
) -> Result<(), sqlx::Error> {
    let Tx::Postgres(conn) = tx else {
        return delete_rows(tx, projection, generation, None).await;
    };
    for table in projection.tables() {
        let sql = format!("DROP TABLE IF EXISTS {}", table_of(table, generation));
        sqlx::query(&sql).execute(&mut **conn).await?;
    }
    Ok(())
}

/// Gives `generation` empty tables to fill: on PostgreSQL, detached tables with the shared
/// table's columns, defaults and primary key only, and a check that they hold `generation`
/// (so attaching them needs no scan).
pub(crate) async fn create_detached(
    tx: &mut Tx,
    projection: &dyn Projection,
    generation: i64,
) -> Result<(), sqlx::Error> {
    discard(tx, projection, generation).await?;
    let Tx::Postgres(conn) = tx else {
        return Ok(());
    };
    for table in projection.tables() {
        let primary_key: String = sqlx::query_scalar(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE conrelid = CAST($1 AS regclass) AND contype = 'p'",
        )
        .bind(*table)
        .fetch_one(&mut **conn)
        .await?;
        let sql = format!(
            "CREATE TABLE {own} (LIKE {table} INCLUDING DEFAULTS, {primary_key}, \
             CHECK (generation = {generation}))",
            own = table_of(table, generation),
        );
        sqlx::query(&sql).execute(&mut **conn).await?;
    }
    Ok(())
}

/// Gives PostgreSQL's planner statistics on those of `generation`'s detached tables that
/// hold rows but have none yet; true once every table has them (always, elsewhere). A new
/// table has none, so the planner takes `generation = N` for a rare value where it is every
/// row: the inbox's completions then hash-joined the whole table, once per chunk of every
/// page, a cost that grew with the table over the rebuild. With statistics its estimates
/// follow the table as it grows, and lookups go through the primary key. A rebuild calls
/// this after each page until it is true: a read model can get its first rows pages in.
pub(crate) async fn analyze_filled(
    db: &Database,
    projection: &dyn Projection,
    generation: i64,
) -> Result<bool, sqlx::Error> {
    let Database::Postgres(pool) = db else {
        return Ok(true);
    };
    let mut all = true;
    for table in projection.tables() {
        let own = table_of(table, generation);
        let (analyzed, rows): (bool, i64) = sqlx::query_as(&format!(
            "SELECT EXISTS (SELECT FROM pg_stats \
                            WHERE schemaname = current_schema() AND tablename = $1), \
                    (SELECT COUNT(*) FROM (SELECT FROM {own} LIMIT {STATISTICS_FROM_ROWS}) r)"
        ))
        .bind(&own)
        .fetch_one(pool)
        .await?;
        if analyzed {
            continue;
        }
        if rows < STATISTICS_FROM_ROWS {
            all = false;
            continue;
        }
        sqlx::query(&format!("ANALYZE {own}")).execute(pool).await?;
    }
    Ok(all)
}

/// The rows a table needs before its statistics say what they are. `ANALYZE` takes a
/// column's number of distinct values as fixed only where it is at most a tenth of the rows:
/// one generation in fewer than 10 rows reads as a column whose values grow with the table
/// (`n_distinct` -1/6 for 6 rows), the same trap again.
const STATISTICS_FROM_ROWS: i64 = 20;

/// Makes `generation`'s detached tables its partitions, which builds their secondary
/// indexes (the partitioned table's); from then on its rows are written through the shared
/// tables. Writers of other generations are not blocked meanwhile.
pub(crate) async fn attach(
    tx: &mut Tx,
    projection: &dyn Projection,
    generation: i64,
) -> Result<(), sqlx::Error> {
    let Tx::Postgres(conn) = tx else {
        return Ok(());
    };
    for table in projection.tables() {
        let sql = format!(
            "ALTER TABLE {table} ATTACH PARTITION {own} FOR VALUES IN ({generation})",
            own = table_of(table, generation),
        );
        sqlx::query(&sql).execute(&mut **conn).await?;
    }
    Ok(())
}

/// Where a rebuild writes `generation`'s rows while it fills them (before [`attach`]).
pub(crate) fn filling(tx: &Tx, generation: i64) -> Target {
    match tx {
        Tx::Postgres(_) => Target::detached(generation),
        Tx::Sqlite(_) => Target::shared(generation),
    }
}
