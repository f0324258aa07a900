//! Errors of the read side.

use freshet_domain::HistoryError;
use freshet_follower::{FollowError, ProcessorError, UndecodableEvent};
use freshet_store::{LogPosition, StoreError};

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
            ProcessorError::Decode(error) => Self::Decode(error),
            ProcessorError::History { stream, source } => Self::History { stream, source },
            other => Self::Processor {
                name: String::new(),
                after: LogPosition::START,
                source: other,
            },
        }
    }
}

impl From<FollowError> for ProjectionError {
    fn from(error: FollowError) -> Self {
        match error {
            FollowError::Processor {
                name,
                after,
                source,
            } => Self::Processor {
                name,
                after,
                source,
            },
            FollowError::Database(error) => Self::Database(error),
            FollowError::Store(error) => Self::Store(error),
            FollowError::Decode(error) => Self::Decode(error),
        }
    }
}
