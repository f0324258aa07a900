//! The SQLite event store, for a single node.
//!
//! Writers are serialized: within the process by a lock, across processes by
//! `BEGIN IMMEDIATE` (which waits up to the busy timeout instead of failing). So the
//! autoincrement `position` is commit order, and `commit` is simply `position`.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Sqlite, SqlitePool, Transaction};
use tokio::sync::{Mutex, broadcast};

mod checked;
mod one_trip;

use self::checked::fetch_record;
use crate::batch::{Append, AppendAnswer, BatchFailure, BatchWriter, GroupCommit};
use crate::codec::sqlite_time;
use crate::database::{Backend, Database};
use crate::error::StoreError;
use crate::event::{
    AppendOutcome, ExpectedVersion, IdempotencyKey, IdempotencyRecord, LogPosition, Metadata,
    NewEvent, RecordedEvent, StreamId,
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

/// Writes the appends: a batch in one transaction and one round trip ([`one_trip`]), then
/// what that left one append at a time ([`checked`]).
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
        match one_trip::write(&self.pool, std::slice::from_ref(append)).await {
            Ok(mut written) => {
                if let Some(Some(outcome)) = written.pop() {
                    return Ok(outcome);
                }
            }
            // Nothing was committed; the checked path answers with its own error, if any.
            Err(sqlx::Error::Database(error)) => {
                tracing::debug!(%error, "the one trip failed; writing the append checked");
            }
            Err(error) => return Err(error.into()),
        }
        self.write_checked(append).await
    }

    async fn write_batch(&self, appends: &[Append]) -> Result<Vec<AppendAnswer>, BatchFailure> {
        let _writer = self.write_lock.lock().await;
        let written = one_trip::write(&self.pool, appends).await?;
        // The one trip committed: what it left is answered here, one append at a time in
        // the batch's order, never by writing the batch again.
        let mut answers = Vec::with_capacity(appends.len());
        for (append, outcome) in appends.iter().zip(written) {
            answers.push(match outcome {
                Some(outcome) => Ok(outcome),
                None => self.write_checked(append).await,
            });
        }
        Ok(answers)
    }

    fn committed(&self, last: LogPosition) {
        let _ = self.notifier.send(last);
    }
}

impl SqliteWriter {
    /// Writes `append` through the checked path, in its own transaction; the caller holds
    /// the write lock.
    async fn write_checked(&self, append: &Append) -> AppendAnswer {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        match checked::write(&mut tx, append).await {
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
}

async fn rollback(tx: Transaction<'_, Sqlite>) {
    if let Err(rollback) = tx.rollback().await {
        tracing::debug!(error = %rollback, "rollback failed; the connection drops it");
    }
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

    /// One process holds the database: its broadcast reaches every follower.
    async fn announce(&self, position: LogPosition) -> Result<(), StoreError> {
        // No receivers is fine: nobody is following right now.
        let _ = self.writer.notifier.send(position);
        Ok(())
    }
}
