//! The PostgreSQL event store.
//!
//! An append is one call of the `append_events` function (one round trip): it claims the
//! idempotency key, takes a per-stream advisory lock, checks the expected version, and stamps
//! every event with the writing transaction's id (`commit_xid`). Readers of the global log
//! only see transactions older than the oldest one still in flight, in `(commit_xid,
//! position)` order, so a later reader position never hides an earlier commit.

mod listener;
mod publisher;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use tokio::sync::broadcast;

pub use self::listener::CHANNEL as NOTIFY_CHANNEL;
use self::listener::ListenerTask;
use self::publisher::Publisher;
use crate::database::{Backend, Database};
use crate::error::StoreError;
use crate::event::{
    AppendOutcome, AppendResult, ExpectedVersion, IdempotencyKey, IdempotencyRecord, LogPosition,
    Metadata, NewEvent, RecordedEvent, StreamId,
};
use crate::event_store::EventStore;
use crate::reads::{self, EventRow};

/// The select list of [`EventRow`] here.
const COLUMNS: &str = reads::columns(Backend::Postgres);

const SUBSCRIBER_CAPACITY: usize = 1024;

/// The oldest transaction still in flight: everything older has committed or aborted.
const VISIBLE: &str = "commit_xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint";

/// An [`EventStore`] on PostgreSQL; cheap to clone.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// The same pool, for the reads both backends share ([`reads`]).
    db: Database,
    notifier: broadcast::Sender<LogPosition>,
    publisher: Arc<Publisher>,
    _listener: Arc<ListenerTask>,
}

impl PostgresStore {
    /// A store on a migrated database. Starts listening for other processes' commits
    /// (one pool connection is kept for that) before it returns, and a task that tells them
    /// about this one's.
    pub async fn new(pool: PgPool) -> Result<Self, StoreError> {
        let (notifier, _) = broadcast::channel(SUBSCRIBER_CAPACITY);
        let listener = listener::start(&pool, notifier.clone()).await?;
        Ok(Self {
            publisher: Publisher::start(pool.clone()),
            db: Database::Postgres(pool.clone()),
            pool,
            notifier,
            _listener: listener,
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A unique violation on `(stream_id, version)` means another writer won the race.
    async fn conflict_or(
        &self,
        error: StoreError,
        stream: &StreamId,
        expected: ExpectedVersion,
    ) -> StoreError {
        let StoreError::Database(sqlx::Error::Database(db)) = &error else {
            return error;
        };
        if db.constraint() != Some("events_stream_version_key") {
            return error;
        }
        match self.stream_version(stream).await {
            Ok(actual) => StoreError::Conflict {
                stream: stream.clone(),
                expected,
                actual,
            },
            Err(_) => error,
        }
    }
}

#[async_trait]
impl EventStore for PostgresStore {
    #[tracing::instrument(skip_all, fields(stream = %stream, events = events.len()), err)]
    async fn append(
        &self,
        stream: &StreamId,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        meta: &Metadata,
        idempotency: Option<&IdempotencyKey>,
    ) -> Result<AppendOutcome, StoreError> {
        let mut ids = Vec::with_capacity(events.len());
        let mut types = Vec::with_capacity(events.len());
        let mut schema_versions = Vec::with_capacity(events.len());
        let mut payloads = Vec::with_capacity(events.len());
        for event in events {
            ids.push(event.event_id);
            types.push(event.event_type);
            schema_versions.push(event.schema_version);
            payloads.push(event.payload);
        }
        let expected_version = match expected {
            ExpectedVersion::NoStream => Some(0),
            ExpectedVersion::Exact(version) => Some(version),
            ExpectedVersion::Any => None,
        };
        // One statement, one round trip: see migrations/postgres/0040_append_function.sql
        // and 0061_idempotency_key_expiry.sql (the key's expiry).
        let row = sqlx::query(
            "SELECT outcome, current_version, stored_fingerprint, result \
             FROM append_events($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(stream.as_str())
        .bind(expected_version)
        .bind(&ids)
        .bind(&types)
        .bind(&schema_versions)
        .bind(&payloads)
        .bind(meta.recorded_at)
        .bind(meta.actor.as_deref())
        .bind(meta.causation_id)
        .bind(meta.correlation_id)
        .bind(idempotency.map(|key| key.key.as_str()))
        .bind(idempotency.map(|key| key.request_fingerprint.as_str()))
        .bind(idempotency.and_then(|key| key.valid_since))
        .fetch_optional(&self.pool)
        .await;
        let row = match row {
            Ok(Some(row)) => row,
            // Only possible if a used key was deleted between the claim and the look-up.
            Ok(None) => return Err(StoreError::Database(sqlx::Error::RowNotFound)),
            Err(error) => return Err(self.conflict_or(error.into(), stream, expected).await),
        };
        let outcome: String = row.try_get("outcome")?;
        let stored = |row: &PgRow| -> Result<AppendResult, StoreError> {
            let result: serde_json::Value = row.try_get("result")?;
            serde_json::from_value(result).map_err(|source| StoreError::InvalidStoredOutcome {
                key: idempotency.map_or_else(String::new, |key| key.key.clone()),
                source,
            })
        };
        match outcome.as_str() {
            "conflict" => Err(StoreError::Conflict {
                stream: stream.clone(),
                expected,
                actual: row.try_get("current_version")?,
            }),
            "replayed" => {
                let Some(key) = idempotency else {
                    return Err(StoreError::Database(sqlx::Error::RowNotFound));
                };
                IdempotencyRecord {
                    key: key.key.clone(),
                    request_fingerprint: row.try_get("stored_fingerprint")?,
                    result: stored(&row)?,
                }
                .replay_for(key)
            }
            "appended" => {
                let result = stored(&row)?;
                if let Some(last) = result.last_position() {
                    let _ = self.notifier.send(last);
                    self.publisher.publish(last);
                }
                Ok(AppendOutcome::Appended(result))
            }
            other => Err(StoreError::Database(sqlx::Error::Protocol(format!(
                "append_events answered {other:?}"
            )))),
        }
    }

    async fn idempotent_outcome(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT request_fingerprint, result FROM idempotency_keys \
             WHERE key = $1 AND result IS NOT NULL AND ($2::timestamptz IS NULL OR created_at >= $2)",
        )
        .bind(&key.key)
        .bind(key.valid_since)
        .fetch_optional(&self.pool)
        .await?;
        let key = key.key.as_str();
        let Some(row) = row else {
            return Ok(None);
        };
        let result: serde_json::Value = row.try_get("result")?;
        let result =
            serde_json::from_value(result).map_err(|source| StoreError::InvalidStoredOutcome {
                key: key.to_owned(),
                source,
            })?;
        Ok(Some(IdempotencyRecord {
            key: key.to_owned(),
            request_fingerprint: row.try_get("request_fingerprint")?,
            result,
        }))
    }

    #[tracing::instrument(skip_all, fields(used_before = %used_before), err)]
    async fn delete_expired_idempotency_keys(
        &self,
        used_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError> {
        let deleted = sqlx::query(
            "DELETE FROM idempotency_keys WHERE key IN \
             (SELECT key FROM idempotency_keys WHERE created_at < $1 \
              ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind(used_before)
        .bind(i64::from(limit))
        .execute(&self.pool)
        .await?;
        Ok(deleted.rows_affected())
    }

    async fn read_stream(
        &self,
        stream: &StreamId,
        from_version: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        reads::stream(&self.db, stream, from_version, None).await
    }

    async fn read_stream_page(
        &self,
        stream: &StreamId,
        from_version: i64,
        limit: u32,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        reads::stream(&self.db, stream, from_version, Some(limit)).await
    }

    async fn read_streams(&self, streams: &[StreamId]) -> Result<Vec<RecordedEvent>, StoreError> {
        let names: Vec<&str> = streams.iter().map(StreamId::as_str).collect();
        let rows: Vec<EventRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM events WHERE stream_id = ANY($1) \
             ORDER BY stream_id, version"
        ))
        .bind(&names)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(EventRow::recorded).collect()
    }

    async fn stream_version(&self, stream: &StreamId) -> Result<i64, StoreError> {
        reads::stream_version(&self.db, stream).await
    }

    async fn read_all(
        &self,
        after: LogPosition,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows: Vec<EventRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM events \
             WHERE (commit_xid, position) > ($1, $2) AND {VISIBLE} \
             ORDER BY commit_xid, position LIMIT $3"
        ))
        .bind(after.commit)
        .bind(after.position)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(EventRow::recorded).collect()
    }

    async fn head(&self) -> Result<LogPosition, StoreError> {
        head(&self.pool).await
    }

    fn subscribe(&self) -> broadcast::Receiver<LogPosition> {
        self.notifier.subscribe()
    }
}

pub(crate) async fn head(pool: &PgPool) -> Result<LogPosition, StoreError> {
    let head: Option<(i64, i64)> = sqlx::query_as(&format!(
        "SELECT commit_xid, position FROM events WHERE {VISIBLE} \
         ORDER BY commit_xid DESC, position DESC LIMIT 1"
    ))
    .fetch_optional(pool)
    .await?;
    Ok(
        head.map_or(LogPosition::START, |(commit, position)| LogPosition {
            commit,
            position,
        }),
    )
}
