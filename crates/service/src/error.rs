//! What can go wrong between a command and its stored events.

use freshet_domain::{DecodeError, DomainError, HistoryError};
use freshet_follower::UndecodableEvent;
use freshet_store::StoreError;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The process refused the command; nothing was written.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The same idempotency key was sent with a different request.
    #[error("the idempotency key \"{key}\" was already used for a different request")]
    IdempotencyKeyReused { key: String },
    /// The client expected another version of the portfolio; nothing was decided.
    #[error("the portfolio is at version {current}, not {expected}: reload it and try again")]
    VersionMismatch { expected: i64, current: i64 },
    /// The portfolio's stream was written by others on every attempt.
    #[error("the portfolio was changed concurrently {attempts} times in a row; try again")]
    Contention { attempts: u32 },
    /// A stored event this Freshet cannot read.
    #[error("stored event {event_id} cannot be read: {source}")]
    Decode { event_id: Uuid, source: DecodeError },
    /// A stored stream that does not fold into a portfolio.
    #[error("the history of stream {stream} is inconsistent: {source}")]
    History {
        stream: String,
        source: HistoryError,
    },
    #[error(transparent)]
    Store(StoreError),
}

impl From<UndecodableEvent> for ServiceError {
    fn from(error: UndecodableEvent) -> Self {
        let UndecodableEvent { event_id, source } = error;
        ServiceError::Decode { event_id, source }
    }
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::IdempotencyKeyReused { key } => ServiceError::IdempotencyKeyReused { key },
            other => ServiceError::Store(other),
        }
    }
}
