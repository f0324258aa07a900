//! Errors of following the log.

use std::time::Duration;

use freshet_domain::HistoryError;
use freshet_store::{LogPosition, StoreError};

use crate::decode::UndecodableEvent;

/// What a [`crate::Processor`] may fail with. Any error rolls the batch back, rows and
/// checkpoint together; the runner retries the batch later.
#[derive(Debug, thiserror::Error)]
pub enum ProcessorError {
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An event that does not decode.
    #[error(transparent)]
    Decode(#[from] UndecodableEvent),
    /// A stream that does not fold.
    #[error("the history of stream {stream} is inconsistent: {source}")]
    History {
        stream: String,
        #[source]
        source: HistoryError,
    },
    /// A processor's own failure (e.g. the mail outbox's).
    #[error("{context}")]
    Other {
        context: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl ProcessorError {
    /// Wraps a processor's own error.
    pub fn other(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::Other {
            context: context.into(),
            source: source.into(),
        }
    }
}

/// What driving a processor may fail with.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    #[error("processor {name} failed at {after}")]
    Processor {
        name: String,
        after: LogPosition,
        #[source]
        source: ProcessorError,
    },
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Decode(#[from] UndecodableEvent),
}

/// `wait_for` gave up: the named processors had not reached the position in time.
#[derive(Debug, thiserror::Error)]
#[error("read models did not reach {position} within {timeout:?} (behind: {behind:?})")]
pub struct Timeout {
    pub position: LogPosition,
    pub timeout: Duration,
    pub behind: Vec<String>,
}
