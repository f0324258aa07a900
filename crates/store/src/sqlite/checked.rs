//! One append, checked step by step in the caller's transaction: its key's stored use, its
//! stream's version, then each event and its key, every statement a round trip. It is the
//! path for what [`super::one_trip`] leaves: a conflict, a used or expired key,
//! an append of no events, a second append of one stream or key in a batch.

use sqlx::SqliteConnection;
use sqlx::types::Json;

use crate::batch::{Append, AppendAnswer};
use crate::codec::{DbUuid, sqlite_time};
use crate::error::StoreError;
use crate::event::{AppendOutcome, AppendResult, IdempotencyKey, IdempotencyRecord, LogPosition};

/// Replays, or checks and writes the events and the key; the caller commits or rolls back.
pub(super) async fn write(conn: &mut SqliteConnection, append: &Append) -> AppendAnswer {
    let Append {
        stream,
        expected,
        events,
        meta,
        idempotency,
    } = append;
    let expected = *expected;
    let idempotency = idempotency.as_ref();
    if let Some(key) = idempotency
        && let Some(record) = fetch_record(&mut *conn, key).await?
    {
        return record.replay_for(key);
    }
    let actual: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM events WHERE stream_id = ?")
            .bind(stream.as_str())
            .fetch_one(&mut *conn)
            .await?;
    if !expected.matches(actual) {
        return Err(StoreError::Conflict {
            stream: stream.clone(),
            expected,
            actual,
        });
    }

    let mut positions = Vec::with_capacity(events.len());
    for (version, event) in (actual + 1..).zip(events) {
        let position: i64 = sqlx::query_scalar(
            "INSERT INTO events (event_id, stream_id, version, event_type, schema_version, \
                 payload, recorded_at, actor, causation_id, correlation_id) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING position",
        )
        .bind(DbUuid(event.event_id))
        .bind(stream.as_str())
        .bind(version)
        .bind(&event.event_type)
        .bind(event.schema_version)
        .bind(Json(&event.payload))
        .bind(event.recorded_at(meta))
        .bind(meta.actor.as_deref())
        .bind(DbUuid(event.causation_id(meta)))
        .bind(DbUuid(meta.correlation_id))
        .fetch_one(&mut *conn)
        .await?;
        positions.push(LogPosition {
            commit: position,
            position,
        });
    }

    let result = AppendResult {
        stream_id: stream.clone(),
        first_version: actual + 1,
        last_version: actual + positions.len() as i64,
        positions,
        event_ids: events.iter().map(|event| event.event_id).collect(),
    };
    if let Some(key) = idempotency {
        // Replaces a use that has expired (fetch_record did not see it).
        sqlx::query(
            "INSERT OR REPLACE INTO idempotency_keys \
                 (key, request_fingerprint, result, created_at) VALUES (?, ?, ?, ?)",
        )
        .bind(&key.key)
        .bind(&key.request_fingerprint)
        .bind(Json(&result))
        .bind(sqlite_time(meta.recorded_at))
        .execute(&mut *conn)
        .await?;
    }
    Ok(AppendOutcome::Appended(result))
}

/// The key's stored use, unless it has expired.
pub(super) async fn fetch_record(
    conn: &mut SqliteConnection,
    key: &IdempotencyKey,
) -> Result<Option<IdempotencyRecord>, StoreError> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT request_fingerprint, result FROM idempotency_keys \
         WHERE key = ? AND (? IS NULL OR created_at >= ?)",
    )
    .bind(&key.key)
    .bind(key.valid_since.map(sqlite_time))
    .bind(key.valid_since.map(sqlite_time))
    .fetch_optional(conn)
    .await?;
    let key = key.key.as_str();
    let Some((request_fingerprint, result)) = row else {
        return Ok(None);
    };
    let result =
        serde_json::from_str(&result).map_err(|source| StoreError::InvalidStoredOutcome {
            key: key.to_owned(),
            source,
        })?;
    Ok(Some(IdempotencyRecord {
        key: key.to_owned(),
        request_fingerprint,
        result,
    }))
}
