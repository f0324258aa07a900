//! The PostgreSQL event store.
//!
//! Appends take a per-stream advisory lock, check the expected version, and stamp every
//! event with the writing transaction's id (`commit_xid`). Readers of the global log only
//! see transactions older than the oldest one still in flight, in `(commit_xid, position)`
//! order, so a later reader position never hides an earlier commit.

mod listener;

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, Row, Transaction};
use tokio::sync::broadcast;

pub use self::listener::CHANNEL as NOTIFY_CHANNEL;
use self::listener::ListenerTask;
use crate::error::StoreError;
use crate::event::{
    AppendOutcome, AppendResult, ExpectedVersion, IdempotencyKey, IdempotencyRecord, LogPosition,
    Metadata, NewEvent, RecordedEvent, StreamId,
};
use crate::event_store::EventStore;

const SUBSCRIBER_CAPACITY: usize = 1024;

/// The oldest transaction still in flight: everything older has committed or aborted.
const VISIBLE: &str = "commit_xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint";

/// An [`EventStore`] on PostgreSQL; cheap to clone.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    notifier: broadcast::Sender<LogPosition>,
    _listener: Arc<ListenerTask>,
}

impl PostgresStore {
    /// A store on a migrated database. Starts listening for other processes' commits
    /// (one pool connection is kept for that) before it returns.
    pub async fn new(pool: PgPool) -> Result<Self, StoreError> {
        let (notifier, _) = broadcast::channel(SUBSCRIBER_CAPACITY);
        let listener = listener::start(&pool, notifier.clone()).await?;
        Ok(Self {
            pool,
            notifier,
            _listener: listener,
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Writes the events and the key's result; the caller commits.
    async fn write(
        tx: &mut Transaction<'static, Postgres>,
        stream: &StreamId,
        expected: ExpectedVersion,
        events: &[NewEvent],
        meta: &Metadata,
        idempotency: Option<&IdempotencyKey>,
    ) -> Result<AppendResult, StoreError> {
        // Serialize appends per stream so the version check below is never stale.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(stream.as_str())
            .execute(&mut **tx)
            .await?;
        let actual: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM events WHERE stream_id = $1")
                .bind(stream.as_str())
                .fetch_one(&mut **tx)
                .await?;
        if !expected.matches(actual) {
            return Err(StoreError::Conflict {
                stream: stream.clone(),
                expected,
                actual,
            });
        }

        let mut positions = Vec::with_capacity(events.len());
        if !events.is_empty() {
            let commit: i64 = sqlx::query_scalar("SELECT pg_current_xact_id()::text::bigint")
                .fetch_one(&mut **tx)
                .await?;
            for (version, event) in (actual + 1..).zip(events) {
                let position: i64 = sqlx::query_scalar(
                    "INSERT INTO events (commit_xid, event_id, stream_id, version, event_type, \
                     schema_version, payload, recorded_at, actor, causation_id, correlation_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING position",
                )
                .bind(commit)
                .bind(event.event_id)
                .bind(stream.as_str())
                .bind(version)
                .bind(&event.event_type)
                .bind(event.schema_version)
                .bind(&event.payload)
                .bind(meta.recorded_at)
                .bind(meta.actor.as_deref())
                .bind(meta.causation_id)
                .bind(meta.correlation_id)
                .fetch_one(&mut **tx)
                .await?;
                positions.push(LogPosition { commit, position });
            }
        }

        let result = AppendResult {
            stream_id: stream.clone(),
            first_version: actual + 1,
            last_version: actual + positions.len() as i64,
            positions,
            event_ids: events.iter().map(|event| event.event_id).collect(),
        };
        if let Some(key) = idempotency {
            sqlx::query("UPDATE idempotency_keys SET result = $2 WHERE key = $1")
                .bind(&key.key)
                .bind(Json(&result))
                .execute(&mut **tx)
                .await?;
        }
        if let Some(last) = result.last_position() {
            // Delivered by PostgreSQL at commit, to every listening process.
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(NOTIFY_CHANNEL)
                .bind(serde_json::to_string(&last).map_err(|e| sqlx::Error::Encode(Box::new(e)))?)
                .execute(&mut **tx)
                .await?;
        }
        Ok(result)
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
        let mut tx = self.pool.begin().await?;
        if let Some(key) = idempotency {
            // Claim the key first: an identical request racing us waits here until we
            // commit (and then replays our result) or roll back (and then goes ahead).
            let claimed = sqlx::query(
                "INSERT INTO idempotency_keys (key, request_fingerprint) VALUES ($1, $2) \
                 ON CONFLICT (key) DO NOTHING",
            )
            .bind(&key.key)
            .bind(&key.request_fingerprint)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if !claimed {
                tx.rollback().await?;
                return match self.idempotent_outcome(&key.key).await? {
                    Some(record) => record.replay_for(key),
                    // Only possible if the key was deleted in between.
                    None => Err(StoreError::Database(sqlx::Error::RowNotFound)),
                };
            }
        }
        match Self::write(&mut tx, stream, expected, &events, meta, idempotency).await {
            Ok(result) => {
                tx.commit().await?;
                if let Some(last) = result.last_position() {
                    let _ = self.notifier.send(last);
                }
                Ok(AppendOutcome::Appended(result))
            }
            Err(error) => {
                if let Err(rollback) = tx.rollback().await {
                    tracing::debug!(error = %rollback, "rollback failed; the connection drops it");
                }
                Err(self.conflict_or(error, stream, expected).await)
            }
        }
    }

    async fn idempotent_outcome(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT request_fingerprint, result FROM idempotency_keys \
             WHERE key = $1 AND result IS NOT NULL",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
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

    async fn read_stream(
        &self,
        stream: &StreamId,
        from_version: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND version >= $2 \
             ORDER BY version"
        ))
        .bind(stream.as_str())
        .bind(from_version)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn stream_version(&self, stream: &StreamId) -> Result<i64, StoreError> {
        let version =
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM events WHERE stream_id = $1")
                .bind(stream.as_str())
                .fetch_one(&self.pool)
                .await?;
        Ok(version)
    }

    async fn read_all(
        &self,
        after: LogPosition,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events \
             WHERE (commit_xid, position) > ($1, $2) AND {VISIBLE} \
             ORDER BY commit_xid, position LIMIT $3"
        ))
        .bind(after.commit)
        .bind(after.position)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn head(&self) -> Result<LogPosition, StoreError> {
        head(&self.pool).await
    }

    fn subscribe(&self) -> broadcast::Receiver<LogPosition> {
        self.notifier.subscribe()
    }
}

const EVENT_COLUMNS: &str = "event_id, stream_id, version, commit_xid, position, event_type, \
     schema_version, payload, recorded_at, actor, causation_id, correlation_id";

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

fn event_from_row(row: &PgRow) -> Result<RecordedEvent, StoreError> {
    let position: i64 = row.try_get("position")?;
    let stream_id = StreamId::new(row.try_get::<String, _>("stream_id")?)
        .map_err(|source| StoreError::InvalidStoredStreamId { position, source })?;
    Ok(RecordedEvent {
        event_id: row.try_get("event_id")?,
        stream_id,
        version: row.try_get("version")?,
        position: LogPosition {
            commit: row.try_get("commit_xid")?,
            position,
        },
        event_type: row.try_get("event_type")?,
        schema_version: row.try_get("schema_version")?,
        payload: row.try_get("payload")?,
        recorded_at: row.try_get("recorded_at")?,
        actor: row.try_get("actor")?,
        causation_id: row.try_get("causation_id")?,
        correlation_id: row.try_get("correlation_id")?,
    })
}
