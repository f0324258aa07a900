//! The runner: drives any [`Processor`] from its checkpoint through the global log, one
//! transaction per page of events, waking on store hints and polling.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use freshet_store::{Database, EventStore, LogPosition, Tx};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::checkpoint;
use crate::decode::{DecodedEvent, decode_all};
use crate::error::{FollowError, Timeout};
use crate::processor::Processor;

/// How the runner pages and waits.
#[derive(Debug, Clone, Copy)]
pub struct RunnerConfig {
    /// Events per page and per transaction.
    pub batch_size: usize,
    /// How often to look for new events without a hint (after a lost notification, or
    /// events written by another process on SQLite).
    pub poll_interval: Duration,
    /// Pause after a failed batch before trying it again.
    pub retry_delay: Duration,
    /// Events per page while a rebuild fills a new generation: nobody waits for those rows,
    /// so larger transactions are only cheaper.
    pub rebuild_batch_size: usize,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            batch_size: 2_000,
            poll_interval: Duration::from_secs(1),
            retry_delay: Duration::from_secs(1),
            rebuild_batch_size: 20_000,
        }
    }
}

/// The positions processors of this process have committed, one watch channel per name.
#[derive(Debug, Clone, Default)]
pub struct Positions {
    senders: Arc<Mutex<HashMap<String, watch::Sender<LogPosition>>>>,
}

impl Positions {
    fn sender(&self, name: &str) -> watch::Sender<LogPosition> {
        let mut senders = self.senders.lock().unwrap_or_else(PoisonError::into_inner);
        senders
            .entry(name.to_owned())
            .or_insert_with(|| watch::channel(LogPosition::START).0)
            .clone()
    }

    /// Follows the committed position of `name` in this process.
    pub fn subscribe(&self, name: &str) -> watch::Receiver<LogPosition> {
        self.sender(name).subscribe()
    }

    /// The latest committed position of `name` known in this process.
    pub fn current(&self, name: &str) -> LogPosition {
        *self.sender(name).borrow()
    }

    /// Announces that `name` committed `position` (the runner does after each page; a
    /// rebuild after it switched generations).
    pub fn publish(&self, name: &str, position: LogPosition) {
        self.sender(name).send_if_modified(|current| {
            let moved = position > *current;
            if moved {
                *current = position;
            }
            moved
        });
    }
}

/// What one transaction of [`Runner::apply`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Applied(LogPosition),
    /// The checkpoint was not where we read from (another runner, a rebuild switching over);
    /// nothing was written. Continue from here.
    Moved(LogPosition),
    /// Another catch-up of the same processor holds the checkpoint right now; nothing was
    /// written. Try again shortly.
    Busy,
}

/// How long a catch-up waits before trying a checkpoint another catch-up holds.
const BUSY_RETRY: Duration = Duration::from_millis(25);

/// Drives processors; cheap to clone.
#[derive(Debug, Clone)]
pub struct Runner {
    db: Database,
    store: Arc<dyn EventStore>,
    config: RunnerConfig,
    positions: Positions,
}

impl Runner {
    pub fn new(db: Database, store: Arc<dyn EventStore>, config: RunnerConfig) -> Self {
        Self {
            db,
            store,
            config,
            positions: Positions::default(),
        }
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    pub fn store(&self) -> &Arc<dyn EventStore> {
        &self.store
    }

    pub fn config(&self) -> &RunnerConfig {
        &self.config
    }

    pub fn positions(&self) -> &Positions {
        &self.positions
    }

    /// Applies every event currently readable after `processor`'s checkpoint, page by page;
    /// returns how many events it applied.
    #[tracing::instrument(skip_all, fields(projection = processor.name()), err)]
    pub async fn catch_up(&self, processor: &dyn Processor) -> Result<u64, FollowError> {
        let mut after = checkpoint::load(&self.db, processor.name()).await?;
        let mut applied = 0;
        loop {
            let records = self.store.read_all(after, self.config.batch_size).await?;
            if records.is_empty() {
                return Ok(applied);
            }
            let events = decode_all(records)?;
            match self.apply(processor, after, &events).await? {
                Step::Applied(last) => {
                    applied += events.len() as u64;
                    after = last;
                }
                Step::Moved(current) => after = current,
                Step::Busy => {
                    tokio::time::sleep(BUSY_RETRY).await;
                    after = checkpoint::load(&self.db, processor.name()).await?;
                }
            }
        }
    }

    /// Applies at most one page after `processor`'s checkpoint; returns how many events.
    pub async fn catch_up_once(&self, processor: &dyn Processor) -> Result<u64, FollowError> {
        let mut after = checkpoint::load(&self.db, processor.name()).await?;
        loop {
            let records = self.store.read_all(after, self.config.batch_size).await?;
            if records.is_empty() {
                return Ok(0);
            }
            let events = decode_all(records)?;
            match self.apply(processor, after, &events).await? {
                Step::Applied(_) => return Ok(events.len() as u64),
                Step::Moved(current) => after = current,
                Step::Busy => {
                    tokio::time::sleep(BUSY_RETRY).await;
                    after = checkpoint::load(&self.db, processor.name()).await?;
                }
            }
        }
    }

    /// One transaction: check the checkpoint is still `after`, handle, save, commit. What
    /// `catch_up` does per page; a rebuild calls it with pages it reads itself.
    #[tracing::instrument(
        skip_all,
        fields(projection = processor.name(), events = events.len(), after = %after),
        err
    )]
    pub async fn apply(
        &self,
        processor: &dyn Processor,
        after: LogPosition,
        events: &[DecodedEvent],
    ) -> Result<Step, FollowError> {
        let Some(last) = events.last() else {
            return Ok(Step::Applied(after));
        };
        let name = processor.name();
        let _turn = freshet_store::writer_turn(&self.db).await;
        let mut tx = Tx::begin(&self.db).await?;
        let Some(current) = checkpoint::try_lock(&mut tx, name).await? else {
            tx.rollback().await?;
            return Ok(Step::Busy);
        };
        if current != after {
            tx.rollback().await?;
            return Ok(Step::Moved(current));
        }
        processor
            .handle(&mut tx, events)
            .await
            .map_err(|source| FollowError::Processor {
                name: name.to_owned(),
                after,
                source,
            })?;
        let position = last.record.position;
        checkpoint::save(&mut tx, name, position, Some(last.record.recorded_at)).await?;
        tx.commit().await?;
        self.positions.publish(name, position);
        Ok(Step::Applied(position))
    }

    /// Follows the log forever: catches up, then waits for a store hint or the poll
    /// interval. A failed batch is retried after `retry_delay` until it applies; each failure
    /// is recorded in its checkpoint row ([`checkpoint::Failure`]: `/admin/projections`,
    /// `/readyz`, metrics) and the first of a streak is logged as an error. On PostgreSQL it
    /// first takes the processor's advisory lock, so one instance per name is active.
    #[tracing::instrument(skip_all, fields(projection = %processor.name()))]
    pub async fn run(&self, processor: Arc<dyn Processor>) -> Infallible {
        let name = processor.name().to_owned();
        let _exclusive = self.exclusive(&name).await;
        let mut hints = self.store.subscribe();
        // Failed attempts in a row.
        let mut streak: u64 = 0;
        loop {
            // Each catch-up runs on its own task: aborting `run` (or dropping its future)
            // lets the batch in flight finish or roll back cleanly instead of leaving a
            // half-used connection (on SQLite, one that still holds the write lock).
            let batch = {
                let runner = self.clone();
                let processor = Arc::clone(&processor);
                tokio::spawn(async move { runner.catch_up(processor.as_ref()).await })
            };
            let outcome = match batch.await {
                Ok(outcome) => outcome.map_err(|error| with_causes(&error)),
                Err(join) => Err(format!("the batch task failed: {join}")),
            };
            match outcome {
                Err(error) => {
                    streak += 1;
                    self.report_failure(&name, &error, streak).await;
                    tokio::time::sleep(self.config.retry_delay).await;
                    continue;
                }
                Ok(_) if streak > 0 => {
                    tracing::info!(projection = %name, failures = streak, "processor batch applied again");
                    streak = 0;
                    if let Err(error) = checkpoint::clear_failure(&self.db, &name).await {
                        tracing::warn!(error = %error, "could not clear the recorded failure");
                    }
                }
                Ok(_) => {}
            }
            tokio::select! {
                hint = hints.recv() => {
                    if let Err(broadcast::error::RecvError::Closed) = hint {
                        hints = self.store.subscribe();
                    }
                }
                () = tokio::time::sleep(self.config.poll_interval) => {}
            }
        }
    }

    /// Records a failed batch in `name`'s checkpoint row; logs the first of a streak as an
    /// error (the rest at debug level: the row and the metrics count them).
    async fn report_failure(&self, name: &str, error: &str, streak: u64) {
        if streak == 1 {
            tracing::error!(
                projection = %name,
                error = %error,
                "processor batch cannot apply; retrying it until it does"
            );
        } else {
            tracing::debug!(projection = %name, failures = streak, error = %error, "processor batch failed again");
        }
        let recorded = checkpoint::record_failure(&self.db, name, error, chrono::Utc::now()).await;
        if let Err(record) = recorded {
            tracing::warn!(error = %record, "could not record the failed batch");
        }
    }

    /// Starts [`Runner::run`] on its own task; abort the handle to stop it (a batch already
    /// in flight still commits or rolls back as a whole).
    pub fn spawn(&self, processor: Arc<dyn Processor>) -> JoinHandle<()> {
        let runner = self.clone();
        tokio::spawn(async move {
            let _never = runner.run(processor).await;
        })
    }

    /// Holds `pg_advisory_lock` for `name` on a dedicated connection (waiting, polling, while
    /// another process holds it). SQLite runs in one process: nothing to hold.
    /// The connection is detached from the pool: dropping it (also when the task is aborted)
    /// closes the session, which releases the lock; a pooled one would keep it.
    async fn exclusive(&self, name: &str) -> Option<sqlx::PgConnection> {
        let Database::Postgres(pool) = &self.db else {
            return None;
        };
        loop {
            let attempt = async {
                let mut conn = pool.acquire().await?.detach();
                let locked: bool = sqlx::query_scalar(
                    "SELECT pg_try_advisory_lock(hashtext('freshet.processor'), hashtext($1))",
                )
                .bind(name)
                .fetch_one(&mut conn)
                .await?;
                Ok::<_, sqlx::Error>(locked.then_some(conn))
            };
            match attempt.await {
                Ok(Some(conn)) => return Some(conn),
                Ok(None) => tracing::debug!("another instance is active; waiting"),
                Err(error) => tracing::warn!(error = %error, "could not take the processor lock"),
            }
            tokio::time::sleep(self.config.poll_interval).await;
        }
    }

    /// Read-your-writes: returns once every processor of `names` has committed `position`
    /// (or later). Watches this process's runners, and polls the `checkpoints` table for
    /// runners in other processes.
    pub async fn wait_for(
        &self,
        names: &[&str],
        position: LogPosition,
        timeout: Duration,
    ) -> Result<(), Timeout> {
        const POLL: Duration = Duration::from_millis(50);
        let deadline = Instant::now() + timeout;
        loop {
            let mut behind = Vec::new();
            for name in names {
                if self.positions.current(name) >= position {
                    continue;
                }
                match checkpoint::load(&self.db, name).await {
                    Ok(saved) if saved >= position => self.positions.publish(name, saved),
                    _ => behind.push(*name),
                }
            }
            let Some(first) = behind.first() else {
                return Ok(());
            };
            let now = Instant::now();
            if now >= deadline {
                return Err(Timeout {
                    position,
                    timeout,
                    behind: behind.iter().map(|name| (*name).to_owned()).collect(),
                });
            }
            let mut changes = self.positions.subscribe(first);
            let wait = POLL.min(deadline - now);
            tokio::select! {
                _ = changes.changed() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }
}

/// `error` and each of its causes, `: `-separated (what the checkpoint row shows).
fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
