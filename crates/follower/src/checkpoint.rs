//! The `checkpoints` table: where each processor stands, written with its rows; and lag.

use chrono::{DateTime, Utc};
use freshet_store::{Database, LogPosition, Tx, on_pool, on_tx};
use serde::Serialize;

/// One processor's saved position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checkpoint {
    pub name: String,
    pub position: LogPosition,
    /// `recorded_at` of the last event applied.
    pub event_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// Set while its batches fail (cleared when one applies).
    pub failure: Option<Failure>,
}

/// A processor whose batch cannot apply: the runner keeps retrying it, and says so here
/// (for `/admin/projections`, `/readyz` and metrics, from any process).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// Failed attempts in a row.
    pub failures: i64,
    /// When the first of them failed.
    pub since: DateTime<Utc>,
    /// The last attempt's error, with its causes.
    pub last_error: String,
}

#[derive(sqlx::FromRow)]
struct CheckpointRow {
    name: String,
    log_commit: i64,
    log_position: i64,
    event_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
    failures: i64,
    failing_since: Option<DateTime<Utc>>,
    last_error: Option<String>,
}

impl From<CheckpointRow> for Checkpoint {
    fn from(row: CheckpointRow) -> Self {
        Self {
            name: row.name,
            position: LogPosition {
                commit: row.log_commit,
                position: row.log_position,
            },
            event_at: row.event_at,
            updated_at: row.updated_at,
            failure: match (row.failures, row.failing_since) {
                (failures, Some(since)) if failures > 0 => Some(Failure {
                    failures,
                    since,
                    last_error: row.last_error.unwrap_or_default(),
                }),
                _ => None,
            },
        }
    }
}

const SELECT: &str = "SELECT name, log_commit, log_position, event_at, updated_at, failures, \
                      failing_since, last_error FROM checkpoints";

/// The saved position of `name`; [`LogPosition::START`] if it never ran.
pub async fn load(db: &Database, name: &str) -> Result<LogPosition, sqlx::Error> {
    Ok(find(db, name)
        .await?
        .map_or(LogPosition::START, |c| c.position))
}

/// The checkpoint of `name`, if it ever ran.
pub async fn find(db: &Database, name: &str) -> Result<Option<Checkpoint>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE name = $1");
    let row: Option<CheckpointRow> = on_pool!(db, pool => {
        sqlx::query_as(&sql).bind(name).fetch_optional(pool).await?
    });
    Ok(row.map(Checkpoint::from))
}

/// Every checkpoint, by name.
pub async fn all(db: &Database) -> Result<Vec<Checkpoint>, sqlx::Error> {
    let sql = format!("{SELECT} ORDER BY name");
    let rows: Vec<CheckpointRow> = on_pool!(db, pool => {
        sqlx::query_as(&sql).fetch_all(pool).await?
    });
    Ok(rows.into_iter().map(Checkpoint::from).collect())
}

/// Reads `name`'s checkpoint inside `tx` and locks it until `tx` ends (PostgreSQL row lock;
/// SQLite transactions already hold the write lock), creating it at START if missing.
pub async fn lock(tx: &mut Tx, name: &str) -> Result<LogPosition, sqlx::Error> {
    let now = Utc::now();
    let insert = "INSERT INTO checkpoints (name, log_commit, log_position, updated_at) \
                  VALUES ($1, 0, 0, $2) ON CONFLICT (name) DO NOTHING";
    let (commit, position): (i64, i64) = match tx {
        Tx::Postgres(conn) => {
            sqlx::query(insert)
                .bind(name)
                .bind(now)
                .execute(&mut **conn)
                .await?;
            sqlx::query_as(
                "SELECT log_commit, log_position FROM checkpoints WHERE name = $1 FOR UPDATE",
            )
            .bind(name)
            .fetch_one(&mut **conn)
            .await?
        }
        Tx::Sqlite(conn) => {
            sqlx::query(insert)
                .bind(name)
                .bind(now)
                .execute(&mut **conn)
                .await?;
            sqlx::query_as("SELECT log_commit, log_position FROM checkpoints WHERE name = $1")
                .bind(name)
                .fetch_one(&mut **conn)
                .await?
        }
    };
    Ok(LogPosition { commit, position })
}

/// Like [`lock`], but never waits: `None` when another transaction holds the checkpoint
/// (another catch-up of the same processor). A transaction that waited here would hold its
/// snapshot, and with it every reader of the log, for as long as the holder takes, and its
/// pooled connection with it, which the holder may need: the caller retries instead.
pub async fn try_lock(tx: &mut Tx, name: &str) -> Result<Option<LogPosition>, sqlx::Error> {
    let Tx::Postgres(conn) = tx else {
        // SQLite: the transaction holds the database's write lock already.
        return lock(tx, name).await.map(Some);
    };
    let select = "SELECT log_commit, log_position FROM checkpoints WHERE name = $1 \
                  FOR UPDATE SKIP LOCKED";
    let found: Option<(i64, i64)> = sqlx::query_as(select)
        .bind(name)
        .fetch_optional(&mut **conn)
        .await?;
    if let Some((commit, position)) = found {
        return Ok(Some(LogPosition { commit, position }));
    }
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM checkpoints WHERE name = $1)")
            .bind(name)
            .fetch_one(&mut **conn)
            .await?;
    if exists {
        return Ok(None);
    }
    lock(tx, name).await.map(Some)
}

/// Saves `name`'s position inside `tx` (call [`lock`] first in the same transaction); a
/// batch that applies ends any failure streak.
pub async fn save(
    tx: &mut Tx,
    name: &str,
    position: LogPosition,
    event_at: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE checkpoints SET log_commit = $2, log_position = $3, \
               event_at = COALESCE($4, event_at), updated_at = $5, failures = 0, \
               failing_since = NULL, last_error = NULL WHERE name = $1";
    on_tx!(tx, conn => {
        sqlx::query(sql)
            .bind(name)
            .bind(position.commit)
            .bind(position.position)
            .bind(event_at)
            .bind(Utc::now())
            .execute(&mut **conn)
            .await?;
    });
    Ok(())
}

/// Records that a batch of `name` failed with `error` (outside the failed transaction, which
/// rolled back); returns the failures in a row so far.
pub(crate) async fn record_failure(
    db: &Database,
    name: &str,
    error: &str,
    at: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let sql = "INSERT INTO checkpoints (name, log_commit, log_position, updated_at, failures, \
               failing_since, last_error) VALUES ($1, 0, 0, $3, 1, $3, $2) \
               ON CONFLICT (name) DO UPDATE SET failures = checkpoints.failures + 1, \
               failing_since = COALESCE(checkpoints.failing_since, excluded.failing_since), \
               last_error = excluded.last_error RETURNING failures";
    let _turn = freshet_store::writer_turn(db).await;
    let failures: i64 = on_pool!(db, pool => {
        sqlx::query_scalar(sql).bind(name).bind(error).bind(at).fetch_one(pool).await?
    });
    Ok(failures)
}

/// Ends `name`'s failure streak (its retry succeeded without a batch to save).
pub(crate) async fn clear_failure(db: &Database, name: &str) -> Result<(), sqlx::Error> {
    let sql = "UPDATE checkpoints SET failures = 0, failing_since = NULL, last_error = NULL \
               WHERE name = $1 AND failures > 0";
    let _turn = freshet_store::writer_turn(db).await;
    on_pool!(db, pool => {
        sqlx::query(sql).bind(name).execute(pool).await?;
    });
    Ok(())
}

/// How far one processor is behind the log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lag {
    pub name: String,
    pub checkpoint: LogPosition,
    /// Events in the log after the checkpoint (including ones of transactions that are still
    /// being committed on PostgreSQL).
    pub events_behind: i64,
    /// `now - recorded_at` of the oldest event not applied yet; 0 when caught up.
    pub seconds_behind: f64,
    /// Set while its batches cannot apply.
    pub failure: Option<Failure>,
}

/// The lag of each of `names` at `now`. A name that never ran is behind by the whole log.
pub async fn lag(
    db: &Database,
    names: &[&str],
    now: DateTime<Utc>,
) -> Result<Vec<Lag>, sqlx::Error> {
    let mut lags = Vec::with_capacity(names.len());
    for name in names {
        let saved = find(db, name).await?;
        let checkpoint = saved.as_ref().map_or(LogPosition::START, |c| c.position);
        let (count, oldest): (i64, Option<DateTime<Utc>>) = match db {
            Database::Postgres(pool) => {
                sqlx::query_as(
                    "SELECT count(*), min(recorded_at) FROM events \
                     WHERE (commit_xid, position) > ($1, $2)",
                )
                .bind(checkpoint.commit)
                .bind(checkpoint.position)
                .fetch_one(pool)
                .await?
            }
            Database::Sqlite(pool) => {
                let count: i64 =
                    sqlx::query_scalar("SELECT count(*) FROM events WHERE position > $1")
                        .bind(checkpoint.position)
                        .fetch_one(pool)
                        .await?;
                let oldest: Option<DateTime<Utc>> = sqlx::query_scalar(
                    "SELECT recorded_at FROM events WHERE position > $1 \
                     ORDER BY position LIMIT 1",
                )
                .bind(checkpoint.position)
                .fetch_optional(pool)
                .await?;
                (count, oldest)
            }
        };
        let seconds_behind = oldest.map_or(0.0, |at| {
            (now - at).num_milliseconds().max(0) as f64 / 1000.0
        });
        lags.push(Lag {
            name: (*name).to_owned(),
            checkpoint,
            events_behind: count,
            seconds_behind,
            failure: saved.and_then(|c| c.failure),
        });
    }
    Ok(lags)
}
/// Removes `name`'s checkpoint inside `tx`.
pub async fn delete(tx: &mut Tx, name: &str) -> Result<(), sqlx::Error> {
    on_tx!(tx, conn => {
        sqlx::query("DELETE FROM checkpoints WHERE name = $1")
            .bind(name)
            .execute(&mut **conn)
            .await?;
    });
    Ok(())
}
