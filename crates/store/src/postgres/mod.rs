//! The PostgreSQL event store.
//!
//! Appends are group-committed ([`crate::batch`]): one alone is one call of `append_events`,
//! several queued together one call of `append_batch` (each one round trip, see `append`).
//! Both claim the idempotency keys, take per-stream advisory locks, check the expected
//! versions, and stamp every event with the writing transaction's id (`commit_xid`). Readers of the global log
//! only see transactions older than the oldest one still in flight, in `(commit_xid,
//! position)` order, so a later reader position never hides an earlier commit.

mod append;
mod listener;
mod publisher;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};
use tokio::sync::{Semaphore, broadcast};

use self::append::PgWriter;
pub use self::listener::CHANNEL as NOTIFY_CHANNEL;
use self::listener::ListenerTask;
use self::publisher::Publisher;
use crate::batch::{Append, GroupCommit};
use crate::database::{Backend, Database};
use crate::error::StoreError;
use crate::event::{
    AppendOutcome, ExpectedVersion, IdempotencyKey, IdempotencyRecord, LogPosition, Metadata,
    NewEvent, RecordedEvent, StreamId,
};
use crate::event_store::EventStore;
use crate::reads::{self, EventRow};

/// The select list of [`EventRow`] here.
const COLUMNS: &str = reads::columns(Backend::Postgres);

const SUBSCRIBER_CAPACITY: usize = 1024;

/// Batches of appends written at once: PostgreSQL commits several transactions in parallel,
/// so one batch at a time would leave it idle while a commit waits for its WAL flush.
const BATCHES_IN_FLIGHT: usize = 4;

/// The oldest transaction still in flight: everything older has committed or aborted.
const VISIBLE: &str = "commit_xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint";

/// An [`EventStore`] on PostgreSQL; cheap to clone.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// The same pool, for the reads both backends share ([`reads`]).
    db: Database,
    notifier: broadcast::Sender<LogPosition>,
    appends: GroupCommit,
    _listener: Arc<ListenerTask>,
}

impl PostgresStore {
    /// A store on a migrated database. Starts listening for other processes' commits
    /// (one pool connection is kept for that) before it returns, a task that tells them
    /// about this one's, and the task that writes this one's appends.
    pub async fn new(pool: PgPool) -> Result<Self, StoreError> {
        let (notifier, _) = broadcast::channel(SUBSCRIBER_CAPACITY);
        let listener = listener::start(&pool, notifier.clone()).await?;
        let db = Database::Postgres(pool.clone());
        let writer = PgWriter {
            pool: pool.clone(),
            db: db.clone(),
            notifier: notifier.clone(),
            publisher: Publisher::start(pool.clone()),
            singles: Semaphore::new(append::SINGLES_IN_FLIGHT),
        };
        Ok(Self {
            appends: GroupCommit::start(Arc::new(writer), BATCHES_IN_FLIGHT),
            db,
            pool,
            notifier,
            _listener: listener,
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
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

    async fn read_streams_after(
        &self,
        streams: &[(StreamId, i64)],
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let names: Vec<&str> = streams.iter().map(|(s, _)| s.as_str()).collect();
        let after: Vec<i64> = streams.iter().map(|(_, version)| *version).collect();
        let rows: Vec<EventRow> = sqlx::query_as(&read_streams_after_sql())
            .bind(&names)
            .bind(&after)
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

    /// `NOTIFY` at once (not through the coalescing publisher, which only passes positions
    /// newer than the last it sent); this process hears it through its own `LISTEN`.
    async fn announce(&self, position: LogPosition) -> Result<(), StoreError> {
        publisher::notify(&self.pool, position).await?;
        Ok(())
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

/// The events after each known version of each stream. A lateral index look-up per stream:
/// joined to the unnested arrays instead, the generic plan a prepared statement settles on
/// after five runs cannot see the arrays' sizes and scans the whole log (24 ms on 80,000
/// events, where this takes 0.3 ms), which made a My work page wait a second under load.
fn read_streams_after_sql() -> String {
    format!(
        "SELECT after.* FROM unnest($1::text[], $2::bigint[]) AS known(known_stream, known_version) \
         CROSS JOIN LATERAL (SELECT {COLUMNS} FROM events \
             WHERE stream_id = known.known_stream AND version > known.known_version \
             ORDER BY version) AS after \
         ORDER BY after.stream_id, after.version"
    )
}

#[cfg(test)]
mod plans {
    use crate::Database;
    use crate::testing::TestDatabase;

    /// The plan PostgreSQL keeps for a prepared statement once it goes generic, on a log of
    /// 10,000 streams of 8 events of about 200 bytes (as a benchmark's log that showed it).
    async fn generic_plan(sql: &str) -> Option<String> {
        let db = TestDatabase::postgres().await?;
        let Database::Postgres(pool) = &db.database else {
            unreachable!("a PostgreSQL test database");
        };
        sqlx::query(
            "INSERT INTO events (event_id, stream_id, version, event_type, schema_version, \
                 payload, recorded_at, causation_id, correlation_id) \
             SELECT gen_random_uuid(), 'portfolio-' || (i % 10000), i / 10000 + 1, 'Noted', 1, \
                 jsonb_build_object('text', repeat('x', 150)), now(), gen_random_uuid(), \
                 gen_random_uuid() \
             FROM generate_series(0, 79999) AS i",
        )
        .execute(pool)
        .await
        .expect("fill the log");
        sqlx::query("ANALYZE events")
            .execute(pool)
            .await
            .expect("analyze");
        let mut conn = pool.acquire().await.expect("a connection");
        sqlx::query("SET plan_cache_mode = force_generic_plan")
            .execute(&mut *conn)
            .await
            .expect("generic plans");
        sqlx::query(&format!("PREPARE probe(text[], bigint[]) AS {sql}"))
            .execute(&mut *conn)
            .await
            .expect("prepare");
        let rows: Vec<(String,)> = sqlx::query_as(
            "EXPLAIN EXECUTE probe('{portfolio-1,portfolio-2,portfolio-3}', '{2,2,2}')",
        )
        .fetch_all(&mut *conn)
        .await
        .expect("explain");
        Some(
            rows.into_iter()
                .map(|(line,)| line)
                .collect::<Vec<_>>()
                .join("\n"),
        )
    }

    #[tokio::test]
    async fn reading_a_few_streams_after_known_versions_never_scans_the_log() {
        let Some(plan) = generic_plan(&super::read_streams_after_sql()).await else {
            return;
        };
        assert!(!plan.contains("Seq Scan on events"), "{plan}");
        assert!(plan.contains("events_stream_version_key"), "{plan}");
    }
}
