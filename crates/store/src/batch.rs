//! Group commit: the appends of one process go to the database together.
//!
//! Each append waits in a queue; one writer task takes everything queued while its previous
//! batch was in flight and writes it in one transaction (so an idle store adds no wait, and a
//! busy one pays one commit for many appends). Every append keeps its own expected-version
//! check and idempotency outcome: a conflict or a refused key fails that append alone. A
//! batch that fails as a whole (a database error) is written again one append at a time, so
//! one bad append cannot fail the others. Nothing is answered before its commit.
//!
//! A batch never holds two appends of one stream, or two uses of one idempotency key: the
//! later one waits for the next batch. Each append is then judged against the stream as it
//! was stored before its batch, which lets the backend judge the whole batch set by set.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};

use crate::error::StoreError;
use crate::event::{
    AppendOutcome, ExpectedVersion, IdempotencyKey, LogPosition, Metadata, NewEvent, StreamId,
};

/// One append, as [`crate::EventStore::append`] takes it.
#[derive(Debug, Clone)]
pub struct Append {
    pub stream: StreamId,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
    pub meta: Metadata,
    pub idempotency: Option<IdempotencyKey>,
}

/// The answer to one append.
pub type AppendAnswer = Result<AppendOutcome, StoreError>;

/// The most appends in one transaction: past a few hundred a batch only grows its own
/// latency, and every append of it waits for the slowest.
pub(crate) const MAX_BATCH: usize = 256;

/// How a backend writes a batch.
#[async_trait]
pub(crate) trait BatchWriter: Send + Sync + 'static {
    /// Writes `appends` in one transaction; one answer per append, in order. `Err` when the
    /// batch failed as a whole: then nothing of it was written.
    async fn write_batch(&self, appends: &[Append]) -> Result<Vec<AppendAnswer>, StoreError>;

    /// Writes one append in its own transaction.
    async fn write_one(&self, append: &Append) -> AppendAnswer;

    /// Called after the commit of a batch that wrote events, with the last one's position.
    fn committed(&self, last: LogPosition);
}

struct Pending {
    append: Append,
    reply: oneshot::Sender<AppendAnswer>,
}

/// The queue in front of a backend's [`BatchWriter`]; cheap to clone.
#[derive(Clone)]
pub(crate) struct GroupCommit {
    queue: mpsc::UnboundedSender<Vec<Pending>>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

impl GroupCommit {
    /// Starts the writer task; it ends when the last clone of the queue is dropped.
    pub(crate) fn start(writer: Arc<dyn BatchWriter>) -> Self {
        let (queue, receiver) = mpsc::unbounded_channel();
        tokio::spawn(run(writer, receiver));
        Self { queue }
    }

    /// Queues one append, as [`crate::EventStore::append`] takes it, and waits for its answer.
    pub(crate) async fn submit_one(
        &self,
        stream: &StreamId,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        meta: &Metadata,
        idempotency: Option<&IdempotencyKey>,
    ) -> AppendAnswer {
        let append = Append {
            stream: stream.clone(),
            expected,
            events,
            meta: meta.clone(),
            idempotency: idempotency.cloned(),
        };
        self.submit(vec![append])
            .await
            .pop()
            .unwrap_or(Err(StoreError::WriterStopped))
    }

    /// Queues `appends` together (they go in one batch where the rules above allow) and
    /// waits for their answers, in order.
    pub(crate) async fn submit(&self, appends: Vec<Append>) -> Vec<AppendAnswer> {
        let mut answers = Vec::with_capacity(appends.len());
        let mut pending = Vec::with_capacity(appends.len());
        for append in appends {
            let (reply, answer) = oneshot::channel();
            pending.push(Pending { append, reply });
            answers.push(answer);
        }
        if self.queue.send(pending).is_err() {
            return answers
                .iter()
                .map(|_| Err(StoreError::WriterStopped))
                .collect();
        }
        let mut outcomes = Vec::with_capacity(answers.len());
        for answer in answers {
            outcomes.push(answer.await.unwrap_or(Err(StoreError::WriterStopped)));
        }
        outcomes
    }
}

async fn run(writer: Arc<dyn BatchWriter>, mut receiver: mpsc::UnboundedReceiver<Vec<Pending>>) {
    let mut waiting: VecDeque<Pending> = VecDeque::new();
    loop {
        if waiting.is_empty() {
            match receiver.recv().await {
                Some(group) => waiting.extend(group),
                None => return,
            }
        }
        while waiting.len() < MAX_BATCH
            && let Ok(group) = receiver.try_recv()
        {
            waiting.extend(group);
        }
        let batch = next_batch(&mut waiting);
        write(writer.as_ref(), batch).await;
    }
}

/// Takes the next batch off the front of `waiting`: at most [`MAX_BATCH`] appends, no two of
/// one stream or one key. What is left keeps its order.
fn next_batch(waiting: &mut VecDeque<Pending>) -> Vec<Pending> {
    let mut streams = HashSet::new();
    let mut keys = HashSet::new();
    let mut batch = Vec::new();
    let mut deferred = VecDeque::new();
    while let Some(pending) = waiting.pop_front() {
        let append = &pending.append;
        let key = append.idempotency.as_ref().map(|key| key.key.clone());
        // An append of a stream already deferred stays behind it, so one stream's appends
        // keep their order.
        let free = !streams.contains(append.stream.as_str())
            && key.as_ref().is_none_or(|key| !keys.contains(key));
        if batch.len() < MAX_BATCH && free {
            keys.extend(key);
            streams.insert(append.stream.as_str().to_owned());
            batch.push(pending);
        } else {
            keys.extend(key);
            streams.insert(append.stream.as_str().to_owned());
            deferred.push_back(pending);
        }
    }
    *waiting = deferred;
    batch
}

#[tracing::instrument(name = "group_commit", skip_all, fields(appends = batch.len()))]
async fn write(writer: &dyn BatchWriter, batch: Vec<Pending>) {
    let (appends, replies): (Vec<Append>, Vec<_>) = batch
        .into_iter()
        .map(|pending| (pending.append, pending.reply))
        .unzip();
    let answers = match appends.as_slice() {
        [one] => vec![writer.write_one(one).await],
        _ => match writer.write_batch(&appends).await {
            Ok(answers) => answers,
            Err(error) if whole_batch_can_be_retried(&error) => {
                tracing::debug!(%error, "batch failed as a whole; writing its appends one by one");
                let mut answers = Vec::with_capacity(appends.len());
                for append in &appends {
                    answers.push(writer.write_one(append).await);
                }
                answers
            }
            Err(error) => {
                let message = error.to_string();
                tracing::warn!(%message, "batch failed; its outcome is unknown to its callers");
                appends
                    .iter()
                    .map(|_| Err(StoreError::BatchFailed(message.clone())))
                    .collect()
            }
        },
    };
    let last = answers
        .iter()
        .filter_map(|answer| match answer {
            Ok(AppendOutcome::Appended(result)) => result.last_position(),
            _ => None,
        })
        .max();
    if let Some(last) = last {
        writer.committed(last);
    }
    for (reply, answer) in replies.into_iter().zip(answers) {
        // A caller that stopped waiting has nothing to be told.
        let _ = reply.send(answer);
    }
}

/// The database refused the batch (a constraint, a deadlock, a timeout waiting for a
/// connection): nothing of it was written, so each append can be tried alone. After a lost
/// connection the commit may or may not have happened, and writing again could write twice.
fn whole_batch_can_be_retried(error: &StoreError) -> bool {
    matches!(
        error,
        StoreError::Database(sqlx::Error::Database(_) | sqlx::Error::PoolTimedOut)
    )
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use uuid::Uuid;

    use super::*;

    fn pending(stream: &str, key: Option<&str>) -> Pending {
        let (reply, _) = oneshot::channel();
        Pending {
            append: Append {
                stream: StreamId::new(stream).unwrap(),
                expected: ExpectedVersion::Any,
                events: Vec::new(),
                meta: Metadata {
                    actor: None,
                    causation_id: Uuid::now_v7(),
                    correlation_id: Uuid::now_v7(),
                    recorded_at: Utc::now(),
                },
                idempotency: key.map(|key| IdempotencyKey::new(key, "fingerprint")),
            },
            reply,
        }
    }

    fn streams(batch: &[Pending]) -> Vec<&str> {
        batch.iter().map(|p| p.append.stream.as_str()).collect()
    }

    #[test]
    fn a_batch_holds_one_append_per_stream_and_key_and_the_rest_keeps_its_order() {
        let mut waiting = VecDeque::from([
            pending("a", None),
            pending("b", Some("k")),
            pending("a", None),
            pending("c", Some("k")),
            pending("d", None),
            pending("c", None),
        ]);
        let first = next_batch(&mut waiting);
        assert_eq!(streams(&first), ["a", "b", "d"]);
        let second = next_batch(&mut waiting);
        assert_eq!(streams(&second), ["a", "c"]);
        let third = next_batch(&mut waiting);
        assert_eq!(streams(&third), ["c"]);
        assert!(waiting.is_empty());
    }

    #[test]
    fn a_batch_is_never_larger_than_the_limit() {
        let mut waiting: VecDeque<Pending> = (0..MAX_BATCH + 3)
            .map(|n| pending(&format!("s{n}"), None))
            .collect();
        assert_eq!(next_batch(&mut waiting).len(), MAX_BATCH);
        assert_eq!(next_batch(&mut waiting).len(), 3);
    }
}
