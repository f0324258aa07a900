//! Errors of the storage layer.

use crate::event::{ExpectedVersion, InvalidStreamId, StreamId};

/// Everything that can go wrong talking to the event store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Optimistic concurrency: the stream was not at the expected version. Nothing was written.
    #[error("stream {stream} is at version {actual}, expected {expected}")]
    Conflict {
        stream: StreamId,
        expected: ExpectedVersion,
        actual: i64,
    },
    /// The idempotency key was already used by a request with a different fingerprint.
    #[error("idempotency key {key:?} was already used for a different request")]
    IdempotencyKeyReused { key: String },
    /// The database URL's scheme is neither `postgres(ql)://` nor `sqlite:`.
    #[error(
        "unsupported database URL scheme {scheme:?} (expected postgres://, postgresql:// or sqlite://)"
    )]
    UnsupportedUrl { scheme: String },
    /// The database URL could not be parsed (the URL itself is not repeated: it may hold a secret).
    #[error("invalid {backend} database URL")]
    InvalidUrl {
        backend: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// A stored row holds a stream id the store would never have written.
    #[error("stored event at position {position} has an invalid stream id")]
    InvalidStoredStreamId {
        position: i64,
        #[source]
        source: InvalidStreamId,
    },
    /// A stored idempotency record could not be read back.
    #[error("stored outcome of idempotency key {key:?} is unreadable")]
    InvalidStoredOutcome {
        key: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// The append's batch failed in a way that leaves its commit unknown (a lost connection):
    /// reading the stream tells whether it was written.
    #[error("the append's batch failed, so it may or may not have been written: {0}")]
    BatchFailed(String),
    /// The task that writes this store's appends has stopped (the runtime is shutting down).
    #[error("the store's writer has stopped")]
    WriterStopped,
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Conflict { .. })
    }
}
