//! The SQLite event store, for a single node.
//!
//! Writers are serialized: within the process by a lock, across processes by
//! `BEGIN IMMEDIATE` (which waits up to the busy timeout instead of failing). So the
//! autoincrement `position` is commit order, and `commit` is simply `position`.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};
use tokio::sync::{Mutex, broadcast};

use crate::batch::{Append, AppendAnswer, BatchFailure, BatchWriter, GroupCommit};
use crate::codec::{DbUuid, sqlite_time};
use crate::database::{Backend, Database};
use crate::error::StoreError;
use crate::event::{
    AppendOutcome, AppendResult, ExpectedVersion, IdempotencyKey, IdempotencyRecord, LogPosition,
    Metadata, NewEvent, RecordedEvent, StreamId,
};
use crate::event_store::EventStore;
use crate::reads::{self, EventRow};

/// The select list of [`EventRow`] here.
const COLUMNS: &str = reads::columns(Backend::Sqlite);

const SUBSCRIBER_CAPACITY: usize = 1024;

/// An [`EventStore`] on SQLite; cheap to clone. Notifications are in-process only.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// The same pool, for the reads both backends share ([`reads`]).
    db: Database,
    writer: Arc<SqliteWriter>,
    appends: GroupCommit,
}

/// Writes the appends: every batch in one transaction.
#[derive(Debug)]
struct SqliteWriter {
    pool: SqlitePool,
    /// This process's writers of the event store take turns here before `BEGIN IMMEDIATE`.
    write_lock: Mutex<()>,
    notifier: broadcast::Sender<LogPosition>,
}

impl SqliteStore {
    /// A store on a migrated database. Starts the task that writes its appends, so it must be
    /// called within a Tokio runtime.
    pub fn new(pool: SqlitePool) -> Self {
        let (notifier, _) = broadcast::channel(SUBSCRIBER_CAPACITY);
        let writer = Arc::new(SqliteWriter {
            pool: pool.clone(),
            write_lock: Mutex::new(()),
            notifier,
        });
        Self {
            db: Database::Sqlite(pool.clone()),
            pool,
            // One writer at a time: a second batch would only wait for the first's lock.
            appends: GroupCommit::start(writer.clone(), 1),
            writer,
        }
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

#[async_trait]
impl BatchWriter for SqliteWriter {
    async fn write_one(&self, append: &Append) -> AppendAnswer {
        let _writer = self.write_lock.lock().await;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        match write(&mut tx, append).await {
            Ok(outcome @ AppendOutcome::Appended(_)) => {
                tx.commit().await?;
                Ok(outcome)
            }
            replayed_or_failed => {
                rollback(tx).await;
                replayed_or_failed
            }
        }
    }

    async fn write_batch(&self, appends: &[Append]) -> Result<Vec<AppendAnswer>, BatchFailure> {
        let _writer = self.write_lock.lock().await;
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(BatchFailure::from)?;
        let mut answers = Vec::with_capacity(appends.len());
        for append in appends {
            match write(&mut tx, append).await {
                // Half an append may be written: the batch is rolled back and written again
                // one append at a time.
                Err(StoreError::Database(error)) => {
                    rollback(tx).await;
                    return Err(BatchFailure::RolledBack(StoreError::Database(error)));
                }
                // A replay, a conflict or a refused key is found before anything is written.
                answer => answers.push(answer),
            }
        }
        // A failed commit leaves the transaction to be rolled back when it drops.
        tx.commit()
            .await
            .map_err(|error| BatchFailure::RolledBack(error.into()))?;
        Ok(answers)
    }

    fn committed(&self, last: LogPosition) {
        let _ = self.notifier.send(last);
    }
}

async fn rollback(tx: Transaction<'_, Sqlite>) {
    if let Err(rollback) = tx.rollback().await {
        tracing::debug!(error = %rollback, "rollback failed; the connection drops it");
    }
}

/// Replays, or checks and writes the events and the key; the caller commits or rolls back.
async fn write(conn: &mut SqliteConnection, append: &Append) -> AppendAnswer {
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

#[async_trait]
impl EventStore for SqliteStore {
    #[tracing::instrument(skip_all, fields(stream = %stream, events = events.len()), err)]
    async fn append(
        &self,
        stream: &StreamId,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        meta: &Metadata,
        idempotency: Option<&IdempotencyKey>,
    ) -> Result<AppendOutcome, StoreError> {
        self.appends
            .submit_one(stream, expected, events, meta, idempotency)
            .await
    }

    async fn append_all(&self, appends: Vec<Append>) -> Vec<Result<AppendOutcome, StoreError>> {
        self.appends.submit(appends).await
    }

    async fn idempotent_outcome(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        fetch_record(&mut conn, key).await
    }

    #[tracing::instrument(skip_all, fields(used_before = %used_before), err)]
    async fn delete_expired_idempotency_keys(
        &self,
        used_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError> {
        let _writer = self.writer.write_lock.lock().await;
        let deleted = sqlx::query(
            "DELETE FROM idempotency_keys WHERE key IN \
             (SELECT key FROM idempotency_keys WHERE created_at < ? ORDER BY created_at LIMIT ?)",
        )
        .bind(sqlite_time(used_before))
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

    async fn stream_version(&self, stream: &StreamId) -> Result<i64, StoreError> {
        reads::stream_version(&self.db, stream).await
    }

    async fn read_all(
        &self,
        after: LogPosition,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows: Vec<EventRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM events WHERE (position, position) > (?, ?) \
             ORDER BY position LIMIT ?"
        ))
        .bind(after.commit)
        .bind(after.position)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(EventRow::recorded).collect()
    }

    async fn head(&self) -> Result<LogPosition, StoreError> {
        let position: Option<i64> = sqlx::query_scalar("SELECT MAX(position) FROM events")
            .fetch_one(&self.pool)
            .await?;
        Ok(position.map_or(LogPosition::START, |position| LogPosition {
            commit: position,
            position,
        }))
    }

    fn subscribe(&self) -> broadcast::Receiver<LogPosition> {
        self.writer.notifier.subscribe()
    }
}

/// The key's stored use, unless it has expired.
async fn fetch_record(
    conn: &mut sqlx::SqliteConnection,
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
