//! An [`EventStore`] that counts what the benchmark wants to know and otherwise delegates:
//! the conflicts (each one is a retry of the command by `CommandService`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use freshet_store::{
    AppendOutcome, EventStore, ExpectedVersion, IdempotencyKey, IdempotencyRecord, LogPosition,
    Metadata, NewEvent, RecordedEvent, StoreError, StreamId,
};
use tokio::sync::broadcast;

#[derive(Debug)]
pub struct CountingStore {
    inner: Arc<dyn EventStore>,
    conflicts: AtomicU64,
}

impl CountingStore {
    pub fn new(inner: Arc<dyn EventStore>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            conflicts: AtomicU64::new(0),
        })
    }

    /// Conflicts seen so far (and resets the count).
    pub fn take_conflicts(&self) -> u64 {
        self.conflicts.swap(0, Ordering::Relaxed)
    }
}

#[async_trait]
impl EventStore for CountingStore {
    async fn append(
        &self,
        stream: &StreamId,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        meta: &Metadata,
        idempotency: Option<&IdempotencyKey>,
    ) -> Result<AppendOutcome, StoreError> {
        let outcome = self
            .inner
            .append(stream, expected, events, meta, idempotency)
            .await;
        if let Err(StoreError::Conflict { .. }) = &outcome {
            self.conflicts.fetch_add(1, Ordering::Relaxed);
        }
        outcome
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

    async fn read_streams(&self, streams: &[StreamId]) -> Result<Vec<RecordedEvent>, StoreError> {
        self.inner.read_streams(streams).await
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

    async fn announce(&self, position: LogPosition) -> Result<(), StoreError> {
        self.inner.announce(position).await
    }
}
