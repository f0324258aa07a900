//! The event store contract, implemented once per database backend.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::broadcast;

use crate::batch::Append;
use crate::error::StoreError;
use crate::event::{
    AppendOutcome, ExpectedVersion, IdempotencyKey, IdempotencyRecord, LogPosition, Metadata,
    NewEvent, RecordedEvent, StreamId,
};

/// An append-only log of events, partitioned into streams, with one global order.
#[async_trait]
pub trait EventStore: Send + Sync + std::fmt::Debug {
    /// Appends `events` to `stream` in one transaction, all or nothing.
    ///
    /// - The stream must be at `expected`, else [`StoreError::Conflict`] and nothing is written.
    /// - With an idempotency key, the key and the [`crate::AppendResult`] are stored in the same
    ///   transaction. A later (or concurrent) request with the same key and fingerprint gets
    ///   [`AppendOutcome::Replayed`] with the original result and writes nothing; a different
    ///   fingerprint gets [`StoreError::IdempotencyKeyReused`]. A key whose stored use is
    ///   older than its [`IdempotencyKey::valid_since`] has expired and is taken as new.
    ///   The key's use is recorded at `meta.recorded_at`.
    /// - `events` may be empty: then only the expectation is checked and the key recorded.
    async fn append(
        &self,
        stream: &StreamId,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        meta: &Metadata,
        idempotency: Option<&IdempotencyKey>,
    ) -> Result<AppendOutcome, StoreError>;

    /// Appends each of `appends` as [`EventStore::append`] would, each all or nothing on its
    /// own, and answers each in order: one append's conflict or refused key fails it alone.
    /// A backend may write them in fewer transactions than appends (group commit); this
    /// default writes them one after another.
    async fn append_all(&self, appends: Vec<Append>) -> Vec<Result<AppendOutcome, StoreError>> {
        let mut answers = Vec::with_capacity(appends.len());
        for append in appends {
            answers.push(
                self.append(
                    &append.stream,
                    append.expected,
                    append.events,
                    &append.meta,
                    append.idempotency.as_ref(),
                )
                .await,
            );
        }
        answers
    }

    /// The stored outcome of an idempotency key (unless it expired: see
    /// [`IdempotencyKey::valid_since`]), so callers can short-circuit before work.
    async fn idempotent_outcome(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<IdempotencyRecord>, StoreError>;

    /// Deletes up to `limit` idempotency keys used before `used_before` (the oldest first)
    /// and answers how many it deleted; callers repeat until fewer than `limit` go, so no
    /// transaction is long.
    async fn delete_expired_idempotency_keys(
        &self,
        used_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, StoreError>;

    /// The events of `stream` with `version >= from_version`, in version order.
    async fn read_stream(
        &self,
        stream: &StreamId,
        from_version: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// At most `limit` events of `stream` with `version >= from_version`, in version order:
    /// a page of a long history.
    async fn read_stream_page(
        &self,
        stream: &StreamId,
        from_version: i64,
        limit: u32,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut events = self.read_stream(stream, from_version).await?;
        events.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(events)
    }

    /// Every event of each of `streams`, in version order per stream (streams in any order):
    /// many streams in few round trips, e.g. to load the portfolios a tick is about to decide.
    async fn read_streams(&self, streams: &[StreamId]) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut events = Vec::new();
        for stream in streams {
            events.extend(self.read_stream(stream, 1).await?);
        }
        Ok(events)
    }

    /// The events of each of `streams` after its given version, in version order per stream
    /// (streams in any order): what many cached states lack, in few round trips.
    async fn read_streams_after(
        &self,
        streams: &[(StreamId, i64)],
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut events = Vec::new();
        for (stream, after) in streams {
            events.extend(self.read_stream(stream, after.saturating_add(1)).await?);
        }
        Ok(events)
    }

    /// The stream's last version; 0 if it has no events.
    async fn stream_version(&self, stream: &StreamId) -> Result<i64, StoreError>;

    /// At most `limit` events strictly after `after`, in global order.
    ///
    /// Gap-free: an event that is not returned yet will always sort after every event
    /// returned so far, so a reader that saves the last position it processed never skips one.
    async fn read_all(
        &self,
        after: LogPosition,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// The position of the last event `read_all` can currently return
    /// ([`LogPosition::START`] if none).
    async fn head(&self) -> Result<LogPosition, StoreError>;

    /// Hints that events were committed, carrying the last position of a commit (or a
    /// position [`announce`](Self::announce)d for a change the log does not show).
    ///
    /// Hints may be duplicated, arrive for commits that `read_all` cannot return yet (on
    /// PostgreSQL while an older transaction is still in flight), or be lost
    /// ([`broadcast::error::RecvError::Lagged`], a dropped LISTEN connection): followers
    /// should read until `head()` has reached the hinted position and also poll now and then.
    fn subscribe(&self) -> broadcast::Receiver<LogPosition>;

    /// Hints `position` to the followers of every process, as a commit would: for a change
    /// the log does not show, such as a rebuilt read model switching over under live readers
    /// (the inbox's event streams), which should look again now rather than at the next
    /// commit. Best effort, like every hint.
    async fn announce(&self, position: LogPosition) -> Result<(), StoreError>;
}
