//! Helpers for the conformance suite.

use chrono::DateTime;
use freshet_store::{Database, EventStore, LogPosition, Metadata, NewEvent, StreamId};
use serde_json::Value;
use uuid::Uuid;

/// A fresh stream id, unique per call.
pub fn stream(kind: &str) -> StreamId {
    StreamId::new(format!("{kind}-{}", Uuid::now_v7())).expect("not empty")
}

pub fn event(event_type: &str, payload: Value) -> NewEvent {
    NewEvent::new(event_type, 1, payload)
}

/// Metadata with a timestamp both backends store exactly (microseconds).
pub fn meta() -> Metadata {
    Metadata {
        actor: Some("account-manager@agency.test".into()),
        causation_id: Uuid::now_v7(),
        correlation_id: Uuid::now_v7(),
        recorded_at: DateTime::from_timestamp_micros(1_767_225_600_123_456).expect("in range"),
    }
}

/// Writes an event row directly, bypassing the store (as a buggy or future writer might).
pub async fn insert_raw_event(
    database: &Database,
    event_id: Uuid,
    stream: &StreamId,
    version: i64,
    event_type: &str,
    schema_version: i32,
    payload: Value,
) {
    let correlation = Uuid::now_v7();
    let result = match database {
        Database::Postgres(pool) => sqlx::query(
            "INSERT INTO events (event_id, stream_id, version, event_type, schema_version, \
             payload, recorded_at, causation_id, correlation_id) \
             VALUES ($1, $2, $3, $4, $5, $6, now(), $7, $7)",
        )
        .bind(event_id)
        .bind(stream.as_str())
        .bind(version)
        .bind(event_type)
        .bind(schema_version)
        .bind(&payload)
        .bind(correlation)
        .execute(pool)
        .await
        .map(|_| ()),
        Database::Sqlite(pool) => sqlx::query(
            "INSERT INTO events (event_id, stream_id, version, event_type, schema_version, \
             payload, recorded_at, causation_id, correlation_id) \
             VALUES (?, ?, ?, ?, ?, ?, '2026-01-01T00:00:00Z', ?, ?)",
        )
        .bind(event_id.hyphenated())
        .bind(stream.as_str())
        .bind(version)
        .bind(event_type)
        .bind(schema_version)
        .bind(payload.to_string())
        .bind(correlation.hyphenated())
        .bind(correlation.hyphenated())
        .execute(pool)
        .await
        .map(|_| ()),
    };
    result.expect("insert a raw event");
}

/// Waits until every committed event is visible to `read_all`. On PostgreSQL, in-flight
/// transactions anywhere on the server (other tests creating databases) hold readers back.
pub async fn settle(database: &Database, store: &dyn EventStore) {
    let committed: i64 = match database {
        Database::Postgres(pool) => sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(pool)
            .await
            .expect("count"),
        Database::Sqlite(pool) => sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(pool)
            .await
            .expect("count"),
    };
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let visible = store
            .read_all(LogPosition::START, usize::MAX)
            .await
            .expect("read all")
            .len();
        if visible as i64 >= committed {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {visible} of {committed} committed events became visible"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
