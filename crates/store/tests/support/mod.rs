//! Helpers for the conformance suite.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use chrono::DateTime;
use freshet_store::{
    AppendOutcome, Database, EventStore, ExpectedVersion, IdempotencyKey, IdempotencyRecord,
    LogPosition, Metadata, NewEvent, RecordedEvent, StoreError, StreamId,
};
use serde_json::Value;
use tokio::sync::broadcast;
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

/// A store where another writer sneaks an event into the stream just before each of the
/// first `times` appends, so they conflict.
#[derive(Debug)]
pub struct Interfering {
    inner: Arc<dyn EventStore>,
    remaining: AtomicU32,
}

impl Interfering {
    pub fn new(inner: Arc<dyn EventStore>, times: u32) -> Self {
        Self {
            inner,
            remaining: AtomicU32::new(times),
        }
    }
}

#[async_trait]
impl EventStore for Interfering {
    async fn append(
        &self,
        stream: &StreamId,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        meta: &Metadata,
        idempotency: Option<&IdempotencyKey>,
    ) -> Result<AppendOutcome, StoreError> {
        let interfere = self
            .remaining
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if interfere {
            let sneaky = vec![event("Interference", Value::Null)];
            self.inner
                .append(stream, ExpectedVersion::Any, sneaky, meta, None)
                .await?;
        }
        self.inner
            .append(stream, expected, events, meta, idempotency)
            .await
    }

    async fn idempotent_outcome(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.inner.idempotent_outcome(key).await
    }

    async fn delete_expired_idempotency_keys(
        &self,
        used_before: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> Result<u64, StoreError> {
        self.inner
            .delete_expired_idempotency_keys(used_before, limit)
            .await
    }

    async fn read_stream(
        &self,
        stream: &StreamId,
        from_version: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.inner.read_stream(stream, from_version).await
    }

    async fn stream_version(&self, stream: &StreamId) -> Result<i64, StoreError> {
        self.inner.stream_version(stream).await
    }

    async fn read_all(
        &self,
        after: LogPosition,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.inner.read_all(after, limit).await
    }

    async fn head(&self) -> Result<LogPosition, StoreError> {
        self.inner.head().await
    }

    fn subscribe(&self) -> broadcast::Receiver<LogPosition> {
        self.inner.subscribe()
    }
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
