//! Errors of the read side.

use std::time::Duration;

use freshet_service::ServiceError;
use freshet_store::{LogPosition, StoreError};

/// What a [`crate::Processor`] may fail with. Any error rolls the batch back, rows and
/// checkpoint together; the runner retries the batch later.
#[derive(Debug, thiserror::Error)]
pub enum ProcessorError {
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An event that does not decode or a stream that does not fold.
    #[error(transparent)]
    Service(#[from] ServiceError),
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

/// What running, rebuilding or querying the read side may fail with.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
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
    Service(#[from] ServiceError),
    #[error("unknown projection {name:?}")]
    UnknownProjection { name: String },
    #[error("projection {name} is already being rebuilt (generation {generation})")]
    RebuildInProgress { name: String, generation: i64 },
}

impl From<ProcessorError> for ProjectionError {
    fn from(source: ProcessorError) -> Self {
        match source {
            ProcessorError::Database(error) => Self::Database(error),
            ProcessorError::Store(error) => Self::Store(error),
            ProcessorError::Service(error) => Self::Service(error),
            other => Self::Processor {
                name: String::new(),
                after: LogPosition::START,
                source: other,
            },
        }
    }
}

/// `wait_for` gave up: the named processors had not reached the position in time.
#[derive(Debug, thiserror::Error)]
#[error("read models did not reach {position} within {timeout:?} (behind: {behind:?})")]
pub struct Timeout {
    pub position: LogPosition,
    pub timeout: Duration,
    pub behind: Vec<String>,
}
