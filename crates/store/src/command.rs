//! Running a command against one stream: load, decide, append, retry on conflict.

use crate::error::StoreError;
use crate::event::{
    AppendOutcome, ExpectedVersion, IdempotencyKey, Metadata, NewEvent, RecordedEvent, StreamId,
};
use crate::event_store::EventStore;

/// Why [`execute`] did not append.
#[derive(Debug, thiserror::Error)]
pub enum ExecuteError<E> {
    /// The decision rejected the command; nothing was written.
    #[error("command rejected: {0}")]
    Rejected(E),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Every attempt lost the race to another writer of the same stream.
    #[error("stream stayed contended after {attempts} attempts")]
    Contention { attempts: u32 },
}

/// Decides a command on the current events of `stream` and appends the result,
/// expecting the version it decided on.
///
/// With an idempotency key that was already used by the same request, returns
/// [`AppendOutcome::Replayed`] without running `decide`. On [`StoreError::Conflict`] the
/// stream is reloaded and `decide` runs again, up to `max_attempts` times in all (at least
/// once). The span records the attempts made.
#[tracing::instrument(
    skip_all,
    fields(stream = %stream, attempts = tracing::field::Empty),
    err(Display)
)]
pub async fn execute<S, E, F>(
    store: &S,
    stream: &StreamId,
    idempotency: Option<&IdempotencyKey>,
    meta: &Metadata,
    max_attempts: u32,
    mut decide: F,
) -> Result<AppendOutcome, ExecuteError<E>>
where
    S: EventStore + ?Sized,
    E: std::fmt::Display,
    F: FnMut(&[RecordedEvent]) -> Result<Vec<NewEvent>, E>,
{
    if let Some(key) = idempotency
        && let Some(record) = store.idempotent_outcome(key).await?
    {
        return Ok(record.replay_for(key)?);
    }
    let span = tracing::Span::current();
    let max_attempts = max_attempts.max(1);
    for attempt in 1..=max_attempts {
        span.record("attempts", attempt);
        let history = store.read_stream(stream, 1).await?;
        let version = history.last().map_or(0, |event| event.version);
        let events = decide(&history).map_err(ExecuteError::Rejected)?;
        match store
            .append(
                stream,
                ExpectedVersion::Exact(version),
                events,
                meta,
                idempotency,
            )
            .await
        {
            Err(StoreError::Conflict { .. }) => {
                tracing::debug!(attempt, "conflict; reloading the stream");
            }
            outcome => return Ok(outcome?),
        }
    }
    Err(ExecuteError::Contention {
        attempts: max_attempts,
    })
}
