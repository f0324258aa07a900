//! Group commit: the appends of one process go to the database together.
//!
//! Each append waits in a queue; one writer task takes everything queued while the batches
//! before were in flight and writes it in one transaction (so an idle store adds no wait, and
//! a busy one pays one commit for many appends). A few batches may be in flight at once (the
//! backend says how many), never two holding one stream or one key. Every append keeps its own expected-version
//! check and idempotency outcome: a conflict or a refused key fails that append alone. A
//! batch that fails as a whole (a database error) is written again one append at a time, so
//! one bad append cannot fail the others. Nothing is answered before its commit.
//!
//! A batch never holds two appends of one stream, or two uses of one idempotency key: the
//! later one waits for the next batch. Each append is then judged against the stream as it
//! was stored before its batch, which lets the backend judge the whole batch set by set.

use std::collections::{HashMap, HashSet, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use async_trait::async_trait;
use futures::FutureExt;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

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
    /// Writes `appends` in one transaction (a backend may write in later transactions of
    /// their own the appends that one left, such as a conflict to be answered); one answer
    /// per append, in order, or how the batch failed as a whole.
    async fn write_batch(&self, appends: &[Append]) -> Result<Vec<AppendAnswer>, BatchFailure>;

    /// Writes one append in its own transaction.
    async fn write_one(&self, append: &Append) -> AppendAnswer;

    /// Called after the commit of a batch that wrote events, with the last one's position.
    fn committed(&self, last: LogPosition);
}

/// How a batch failed as a whole.
#[derive(Debug)]
pub(crate) enum BatchFailure {
    /// The database refused it (a constraint, a deadlock) and nothing of it was written:
    /// each append is written again alone, so one bad append cannot fail the others.
    RolledBack(StoreError),
    /// No connection could be had (none free in time, or the server refused a new one):
    /// nothing was sent, and every append fails as a database that cannot be reached.
    NoConnection,
    /// The connection failed, or the server ended the session, while the batch was written:
    /// it may or may not have been committed, so writing it again could write it twice.
    Unknown(StoreError),
}

impl From<sqlx::Error> for BatchFailure {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolTimedOut => Self::NoConnection,
            sqlx::Error::Database(error) if !ends_the_session(error.as_ref()) => {
                Self::RolledBack(sqlx::Error::Database(error).into())
            }
            error => Self::Unknown(error.into()),
        }
    }
}

/// A PostgreSQL error of severity FATAL or PANIC: the server ended the session, and it may
/// do so after the commit (a session ended while it waited for a synchronous standby has
/// committed locally). Any other database error fails the statement, which then rolled back.
fn ends_the_session(error: &(dyn sqlx::error::DatabaseError + 'static)) -> bool {
    use sqlx::postgres::{PgDatabaseError, PgSeverity};
    error
        .try_downcast_ref::<PgDatabaseError>()
        .is_some_and(|error| matches!(error.severity(), PgSeverity::Fatal | PgSeverity::Panic))
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
    /// Starts the writer task, with at most `in_flight` batches written at once; it ends
    /// when the last clone of the queue is dropped.
    pub(crate) fn start(writer: Arc<dyn BatchWriter>, in_flight: usize) -> Self {
        let (queue, receiver) = mpsc::unbounded_channel();
        tokio::spawn(run(writer, in_flight.max(1), receiver));
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

async fn run(
    writer: Arc<dyn BatchWriter>,
    in_flight_at_most: usize,
    mut receiver: mpsc::UnboundedReceiver<Vec<Pending>>,
) {
    let mut waiting = Waiting::default();
    let mut in_flight = JoinSet::new();
    // The streams and keys of each batch in flight: the next batches leave them out, so one
    // stream's appends are written in order and one key is never claimed twice at once.
    let mut busy: HashMap<tokio::task::Id, (Vec<StreamId>, Vec<String>)> = HashMap::new();
    let mut open = true;
    loop {
        while let Ok(group) = receiver.try_recv() {
            waiting.extend(group);
        }
        while in_flight.len() < in_flight_at_most {
            let batch = waiting.next_batch(&busy);
            if batch.is_empty() {
                break;
            }
            let streams = batch.iter().map(|p| p.append.stream.clone()).collect();
            let keys = batch
                .iter()
                .filter_map(|p| p.append.idempotency.as_ref().map(|k| k.key.clone()))
                .collect();
            let task = in_flight.spawn(write_and_answer(Arc::clone(&writer), batch));
            busy.insert(task.id(), (streams, keys));
        }
        if !open && waiting.is_empty() && in_flight.is_empty() {
            return;
        }
        tokio::select! {
            group = receiver.recv(), if open => match group {
                Some(group) => waiting.extend(group),
                None => open = false,
            },
            Some(done) = in_flight.join_next_with_id() => {
                let id = match done {
                    Ok((id, ())) => id,
                    Err(error) => error.id(),
                };
                busy.remove(&id);
            }
            // Nothing can arrive and nothing is in flight: the loop above returned already.
            else => return,
        }
    }
}

async fn write_and_answer(writer: Arc<dyn BatchWriter>, batch: Vec<Pending>) {
    // A caller that stopped waiting (a cancelled request) is not written for: it could not
    // learn the outcome, and it may already be retrying.
    let (appends, replies): (Vec<Append>, Vec<_>) = batch
        .into_iter()
        .filter(|pending| !pending.reply.is_closed())
        .map(|pending| (pending.append, pending.reply))
        .unzip();
    if appends.is_empty() {
        return;
    }
    let answers = AssertUnwindSafe(write(writer.as_ref(), &appends))
        .catch_unwind()
        .await
        .unwrap_or_else(|_| {
            tracing::error!("the store's writer panicked writing a batch");
            failed_all(&appends, "the writer panicked while writing it")
        });
    for (reply, answer) in replies.into_iter().zip(answers) {
        // A caller that stopped waiting has nothing to be told.
        let _ = reply.send(answer);
    }
}

/// The appends not written yet: one queue per stream, so one stream's appends keep their
/// order and a long queue of one stream never holds the others back.
#[derive(Default)]
struct Waiting {
    /// Streams with appends waiting, the longest waiting first.
    order: VecDeque<StreamId>,
    streams: HashMap<StreamId, VecDeque<Pending>>,
}

impl Waiting {
    fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    fn extend(&mut self, group: Vec<Pending>) {
        for pending in group {
            let queue = self
                .streams
                .entry(pending.append.stream.clone())
                .or_default();
            if queue.is_empty() {
                self.order.push_back(pending.append.stream.clone());
            }
            queue.push_back(pending);
        }
    }

    /// The next batch: the first append of each stream, the longest waiting first, at most
    /// [`MAX_BATCH`], leaving out the streams and keys of the batches in flight (`busy`) and
    /// a second use of one key (the later waits for the next batch).
    fn next_batch<T>(&mut self, busy: &HashMap<T, (Vec<StreamId>, Vec<String>)>) -> Vec<Pending> {
        let busy_streams: HashSet<&StreamId> = busy.values().flat_map(|(s, _)| s).collect();
        let mut keys: HashSet<String> = busy.values().flat_map(|(_, k)| k.clone()).collect();
        let mut batch = Vec::new();
        let mut still_waiting = VecDeque::with_capacity(self.order.len());
        while let Some(stream) = self.order.pop_front() {
            let Some(queue) = self.streams.get_mut(&stream) else {
                continue;
            };
            let key = queue
                .front()
                .and_then(|pending| pending.append.idempotency.as_ref())
                .map(|key| key.key.as_str());
            let taken = batch.len() < MAX_BATCH
                && !busy_streams.contains(&stream)
                && key.is_none_or(|key| !keys.contains(key));
            if taken && let Some(pending) = queue.pop_front() {
                keys.extend(pending.append.idempotency.as_ref().map(|k| k.key.clone()));
                batch.push(pending);
            }
            if queue.is_empty() {
                self.streams.remove(&stream);
            } else {
                still_waiting.push_back(stream);
            }
        }
        self.order = still_waiting;
        batch
    }
}

#[tracing::instrument(name = "group_commit", skip_all, fields(appends = appends.len()))]
async fn write(writer: &dyn BatchWriter, appends: &[Append]) -> Vec<AppendAnswer> {
    let answers = match appends {
        [one] => vec![writer.write_one(one).await],
        _ => match writer.write_batch(appends).await {
            Ok(answers) => answers,
            Err(BatchFailure::RolledBack(error)) => {
                tracing::debug!(%error, "batch failed as a whole; writing its appends one by one");
                let mut answers = Vec::with_capacity(appends.len());
                for append in appends {
                    answers.push(writer.write_one(append).await);
                }
                answers
            }
            Err(BatchFailure::NoConnection) => appends
                .iter()
                .map(|_| Err(StoreError::Database(sqlx::Error::PoolTimedOut)))
                .collect(),
            Err(BatchFailure::Unknown(error)) => {
                tracing::warn!(%error, "batch failed; its outcome is unknown to its callers");
                failed_all(appends, &error.to_string())
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
    answers
}

fn failed_all(appends: &[Append], why: &str) -> Vec<AppendAnswer> {
    appends
        .iter()
        .map(|_| Err(StoreError::BatchFailed(why.to_owned())))
        .collect()
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

    fn idle() -> HashMap<u8, (Vec<StreamId>, Vec<String>)> {
        HashMap::new()
    }

    #[test]
    fn the_streams_and_keys_of_a_batch_in_flight_wait() {
        let mut waiting = waiting(vec![
            pending("a", None),
            pending("b", None),
            pending("c", Some("k")),
        ]);
        let busy = HashMap::from([(1_u8, (vec![StreamId::new("a").unwrap()], vec!["k".into()]))]);
        assert_eq!(streams(&waiting.next_batch(&busy)), ["b"]);
        assert_eq!(streams(&waiting.next_batch(&idle())), ["a", "c"]);
    }

    fn waiting(group: Vec<Pending>) -> Waiting {
        let mut waiting = Waiting::default();
        waiting.extend(group);
        waiting
    }

    #[test]
    fn a_batch_holds_one_append_per_stream_and_key_and_each_stream_keeps_its_order() {
        let mut waiting = waiting(vec![
            pending("a", None),
            pending("b", Some("k")),
            pending("a", None),
            pending("c", Some("k")),
            pending("d", None),
            pending("c", None),
        ]);
        assert_eq!(streams(&waiting.next_batch(&idle())), ["a", "b", "d"]);
        assert_eq!(streams(&waiting.next_batch(&idle())), ["a", "c"]);
        assert_eq!(streams(&waiting.next_batch(&idle())), ["c"]);
        assert!(waiting.is_empty());
    }

    #[test]
    fn a_long_queue_of_one_stream_does_not_hold_the_others_back() {
        let mut waiting = waiting((0..1_000).map(|_| pending("busy", None)).collect());
        waiting.next_batch(&idle());
        waiting.extend(vec![pending("other", None)]);
        assert_eq!(streams(&waiting.next_batch(&idle())), ["busy", "other"]);
    }

    #[test]
    fn a_batch_is_never_larger_than_the_limit() {
        let mut waiting = waiting(
            (0..MAX_BATCH + 3)
                .map(|n| pending(&format!("s{n}"), None))
                .collect(),
        );
        assert_eq!(waiting.next_batch(&idle()).len(), MAX_BATCH);
        assert_eq!(waiting.next_batch(&idle()).len(), 3);
    }
}
