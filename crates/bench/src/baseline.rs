//! The physical limits Freshet is compared with, on the same database in the same run:
//! plain one-row-per-transaction inserts, bulk loads (`COPY` on PostgreSQL, one transaction
//! of prepared inserts on SQLite) and a plain streamed `SELECT` with JSON decoding.

use std::time::Duration;

use anyhow::Result;
use futures::TryStreamExt;
use sqlx::Row;
use tokio::time::Instant;

use freshet_store::Database;

use crate::drive::{Limits, Outcome, closed_loop};

/// A JSON payload of about 200 bytes, the size of a typical event (a note being logged).
pub fn payload(sequence: u64) -> serde_json::Value {
    serde_json::json!({
        "note_id": uuid::Uuid::from_u128(u128::from(sequence) << 64 | 0x5eed),
        "author": uuid::Uuid::from_u128(0xa11ce),
        "author_role": "am",
        "text": format!("Baseline row {sequence:>10}: new assets attached, keep it."),
        "logged_at": "2027-01-01T12:00:00Z"
    })
}

/// Plain `INSERT`s of one row each, autocommitted (one row per transaction), from `clients`
/// concurrent clients.
pub async fn single_row_inserts(db: &Database, clients: usize, limits: Limits) -> Outcome {
    let db = db.clone();
    closed_loop(clients, limits, move |client, sequence| {
        let db = db.clone();
        async move {
            let stream = format!("baseline-{client}");
            match &db {
                Database::Postgres(pool) => {
                    sqlx::query("INSERT INTO bench_baseline (stream_id, payload) VALUES ($1, $2)")
                        .bind(stream)
                        .bind(payload(sequence))
                        .execute(pool)
                        .await?;
                }
                Database::Sqlite(pool) => {
                    sqlx::query("INSERT INTO bench_baseline (stream_id, payload) VALUES ($1, $2)")
                        .bind(stream)
                        .bind(payload(sequence).to_string())
                        .execute(pool)
                        .await?;
                }
            }
            Ok::<(), sqlx::Error>(())
        }
    })
    .await
}

/// The limit of group commit: `rows_per_transaction` rows of the same kind per transaction,
/// sent as one autocommitted `INSERT … SELECT FROM unnest(…)` (one round trip, one commit),
/// from `clients` concurrent clients (PostgreSQL only). Each operation of the outcome is one
/// transaction: its rows are `ops × rows_per_transaction`.
pub async fn multi_row_inserts(
    pool: &sqlx::PgPool,
    clients: usize,
    rows_per_transaction: usize,
    limits: Limits,
) -> Outcome {
    let pool = pool.clone();
    closed_loop(clients, limits, move |client, sequence| {
        let pool = pool.clone();
        async move {
            let first = sequence * rows_per_transaction as u64;
            let streams = vec![format!("baseline-{client}"); rows_per_transaction];
            let payloads: Vec<serde_json::Value> =
                (first..).take(rows_per_transaction).map(payload).collect();
            sqlx::query(
                "INSERT INTO bench_baseline (stream_id, payload) \
                 SELECT * FROM unnest($1::text[], $2::jsonb[])",
            )
            .bind(streams)
            .bind(payloads)
            .execute(&pool)
            .await?;
            Ok::<(), sqlx::Error>(())
        }
    })
    .await
}

/// The same single-row inserts into the store's own `events` table, with every column and
/// index an event has (PostgreSQL only): the limit for appends with this schema, before any
/// locking, version check or idempotency key.
pub async fn event_row_inserts(pool: &sqlx::PgPool, clients: usize, limits: Limits) -> Outcome {
    let pool = pool.clone();
    let run = uuid::Uuid::now_v7();
    closed_loop(clients, limits, move |client, sequence| {
        let pool = pool.clone();
        async move {
            sqlx::query(
                "INSERT INTO events (event_id, stream_id, version, event_type, schema_version, \
                 payload, recorded_at, actor, causation_id, correlation_id) \
                 VALUES ($1, $2, $3, 'PortfolioNoteLogged', 1, $4, now(), 'user:bench', $1, $1)",
            )
            .bind(uuid::Uuid::now_v7())
            .bind(format!("bench-row-{run}-{client}-{sequence}"))
            .bind(1_i64)
            .bind(payload(sequence))
            .execute(&pool)
            .await?;
            Ok::<(), sqlx::Error>(())
        }
    })
    .await
}

/// [`event_row_inserts`] with what every keyed command also stores: its idempotency key's
/// row, written in the same statement (one transaction, one round trip, no function, no
/// lock, no version check). The least an append of one event with a key can cost with this
/// schema.
pub async fn keyed_event_row_inserts(
    pool: &sqlx::PgPool,
    clients: usize,
    limits: Limits,
) -> Outcome {
    let pool = pool.clone();
    let run = uuid::Uuid::now_v7();
    closed_loop(clients, limits, move |client, sequence| {
        let pool = pool.clone();
        async move {
            let id = uuid::Uuid::now_v7();
            sqlx::query(
                "WITH event AS ( \
                   INSERT INTO events (event_id, stream_id, version, event_type, \
                                       schema_version, payload, recorded_at, actor, \
                                       causation_id, correlation_id) \
                   VALUES ($1, $2, 1, 'PortfolioNoteLogged', 1, $3, now(), 'user:bench', $1, $1) \
                   RETURNING position, commit_xid) \
                 INSERT INTO idempotency_keys (key, request_fingerprint, created_at, result) \
                 SELECT $2, 'bench', now(), \
                        jsonb_build_object('position', position, 'commit', commit_xid) \
                   FROM event",
            )
            .bind(id)
            .bind(format!("bench-keyed-{run}-{client}-{sequence}"))
            .bind(payload(sequence))
            .execute(&pool)
            .await?;
            Ok::<(), sqlx::Error>(())
        }
    })
    .await
}

/// Rows per `COPY` statement (or SQLite transaction) in bulk loads: large enough to run at
/// full speed, small enough that no transaction stays open for long on a shared cluster.
pub const BULK_CHUNK: usize = 50_000;

/// Bulk-loads `rows` rows of the baseline payload: `COPY` on PostgreSQL, prepared inserts in
/// one transaction per chunk on SQLite. The rows are formatted before the clock starts.
pub async fn bulk_load(db: &Database, rows: u64) -> Result<Duration> {
    match db {
        Database::Postgres(pool) => {
            sqlx::query("TRUNCATE bench_baseline").execute(pool).await?;
            let mut chunks = Vec::new();
            let mut chunk = Vec::new();
            for sequence in 0..rows {
                crate::seed::copy_text(&mut chunk, &format!("baseline-{}", sequence % 1000));
                chunk.push(b'\t');
                crate::seed::copy_text(&mut chunk, &payload(sequence).to_string());
                chunk.push(b'\n');
                if (sequence + 1).is_multiple_of(BULK_CHUNK as u64) {
                    chunks.push(std::mem::take(&mut chunk));
                }
            }
            chunks.push(chunk);
            let mut conn = pool.acquire().await?;
            let started = Instant::now();
            for chunk in chunks.into_iter().filter(|c| !c.is_empty()) {
                let mut copy = conn
                    .copy_in_raw("COPY bench_baseline (stream_id, payload) FROM STDIN")
                    .await?;
                copy.send(chunk).await?;
                copy.finish().await?;
            }
            Ok(started.elapsed())
        }
        Database::Sqlite(pool) => {
            sqlx::query("DELETE FROM bench_baseline")
                .execute(pool)
                .await?;
            let rows: Vec<(String, String)> = (0..rows)
                .map(|s| (format!("baseline-{}", s % 1000), payload(s).to_string()))
                .collect();
            let started = Instant::now();
            for chunk in rows.chunks(BULK_CHUNK) {
                let mut tx = pool.begin().await?;
                for (stream, payload) in chunk {
                    sqlx::query("INSERT INTO bench_baseline (stream_id, payload) VALUES ($1, $2)")
                        .bind(stream)
                        .bind(payload)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            }
            Ok(started.elapsed())
        }
    }
}

/// Streams every event row in log order with a plain `SELECT` (the same columns the store
/// reads) and decodes each payload as JSON. Returns the number of rows and the time.
pub async fn streamed_read(db: &Database) -> Result<(u64, Duration)> {
    const COLUMNS: &str = "event_id, stream_id, version, position, event_type, schema_version, \
                           payload, recorded_at, actor, causation_id, correlation_id";
    let started = Instant::now();
    let mut count = 0u64;
    match db {
        Database::Postgres(pool) => {
            let sql = format!("SELECT {COLUMNS} FROM events ORDER BY commit_xid, position");
            let mut rows = sqlx::query(&sql).fetch(pool);
            while let Some(row) = rows.try_next().await? {
                let payload: serde_json::Value = row.try_get("payload")?;
                let stream: &str = row.try_get("stream_id")?;
                std::hint::black_box((payload, stream));
                count += 1;
            }
        }
        Database::Sqlite(pool) => {
            let sql = format!("SELECT {COLUMNS} FROM events ORDER BY position");
            let mut rows = sqlx::query(&sql).fetch(pool);
            while let Some(row) = rows.try_next().await? {
                let payload: &str = row.try_get("payload")?;
                let payload: serde_json::Value = serde_json::from_str(payload)?;
                let stream: &str = row.try_get("stream_id")?;
                std::hint::black_box((payload, stream));
                count += 1;
            }
        }
    }
    Ok((count, started.elapsed()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_baseline_payload_is_about_two_hundred_bytes() {
        for sequence in [0, 7, 123_456, u64::from(u32::MAX)] {
            let size = payload(sequence).to_string().len();
            assert!((180..=240).contains(&size), "{size} bytes");
        }
    }
}
