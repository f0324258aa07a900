//! `projection_generations`: which copy of each projection queries read, and which is
//! being rebuilt.

use chrono::Utc;
use freshet_store::Database;

use freshet_store::Tx;
use freshet_store::{on_pool, on_tx};

/// The active and building generations of one projection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Generations {
    pub active: i64,
    pub building: Option<i64>,
}

const ENSURE: &str = "INSERT INTO projection_generations (name, active, updated_at) \
                      VALUES ($1, 1, $2) ON CONFLICT (name) DO NOTHING";

/// Reads (creating at 1 if missing) `name`'s generations inside `tx`, locking the row on
/// PostgreSQL until `tx` ends.
pub(crate) async fn lock(tx: &mut Tx, name: &str) -> Result<Generations, sqlx::Error> {
    let now = Utc::now();
    Ok(match tx {
        Tx::Postgres(conn) => {
            sqlx::query(ENSURE)
                .bind(name)
                .bind(now)
                .execute(&mut **conn)
                .await?;
            sqlx::query_as(
                "SELECT active, building FROM projection_generations WHERE name = $1 FOR UPDATE",
            )
            .bind(name)
            .fetch_one(&mut **conn)
            .await?
        }
        Tx::Sqlite(conn) => {
            sqlx::query(ENSURE)
                .bind(name)
                .bind(now)
                .execute(&mut **conn)
                .await?;
            sqlx::query_as("SELECT active, building FROM projection_generations WHERE name = $1")
                .bind(name)
                .fetch_one(&mut **conn)
                .await?
        }
    })
}

/// The active generation of `name` as `tx` sees it (1 if never set).
pub(crate) async fn active_in(tx: &mut Tx, name: &str) -> Result<i64, sqlx::Error> {
    let sql = "SELECT active FROM projection_generations WHERE name = $1";
    let active: Option<i64> = on_tx!(tx, conn => {
        sqlx::query_scalar(sql).bind(name).fetch_optional(&mut **conn).await?
    });
    Ok(active.unwrap_or(1))
}

/// The generations of `name` now.
pub async fn current(db: &Database, name: &str) -> Result<Generations, sqlx::Error> {
    let sql = "SELECT active, building FROM projection_generations WHERE name = $1";
    let row: Option<Generations> = on_pool!(db, pool => {
        sqlx::query_as(sql).bind(name).fetch_optional(pool).await?
    });
    Ok(row.unwrap_or(Generations {
        active: 1,
        building: None,
    }))
}

/// What a reader can compare to learn that `name`'s rows were rewritten under it: the
/// active generation and when the generations were last saved (a switch, a rebuild's
/// start, or one portfolio's rows rebuilt in place).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Marker {
    pub active: i64,
    pub saved_at: Option<String>,
}

/// `name`'s [`Marker`] now.
pub async fn marker(db: &Database, name: &str) -> Result<Marker, sqlx::Error> {
    let sql = "SELECT active, CAST(updated_at AS TEXT) AS saved_at FROM projection_generations \
               WHERE name = $1";
    let row: Option<Marker> = on_pool!(db, pool => {
        sqlx::query_as(sql).bind(name).fetch_optional(pool).await?
    });
    Ok(row.unwrap_or(Marker {
        active: 1,
        saved_at: None,
    }))
}

/// Records the generations of `name` inside `tx` (after [`lock`]).
pub(crate) async fn save(
    tx: &mut Tx,
    name: &str,
    generations: Generations,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE projection_generations SET active = $2, building = $3, updated_at = $4 \
               WHERE name = $1";
    on_tx!(tx, conn => {
        sqlx::query(sql)
            .bind(name)
            .bind(generations.active)
            .bind(generations.building)
            .bind(Utc::now())
            .execute(&mut **conn)
            .await?;
    });
    Ok(())
}
