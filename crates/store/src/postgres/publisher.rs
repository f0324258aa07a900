//! Tells other processes about this process's commits: `NOTIFY`, sent after the commit, by
//! one background task that coalesces bursts into one notification of the latest position.
//!
//! Not inside the append: a transaction that notifies holds a database-wide lock from its
//! commit until its WAL is flushed, so notifying appends commit one at a time. A process that
//! dies between a commit and its notification leaves other processes' followers to find the
//! events at their next poll.

use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::listener::CHANNEL;
use crate::event::LogPosition;

/// The handle appenders publish through; stops the task when the last store handle drops.
#[derive(Debug)]
pub(crate) struct Publisher {
    latest: watch::Sender<LogPosition>,
    task: JoinHandle<()>,
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Publisher {
    pub(crate) fn start(pool: PgPool) -> Arc<Self> {
        let (latest, receiver) = watch::channel(LogPosition::START);
        let task = tokio::spawn(run(pool, receiver));
        Arc::new(Self { latest, task })
    }

    /// Queues a notification of `position` (committed); returns at once.
    pub(crate) fn publish(&self, position: LogPosition) {
        self.latest.send_if_modified(|latest| {
            let newer = position > *latest;
            if newer {
                *latest = position;
            }
            newer
        });
    }
}

#[tracing::instrument(name = "event_publisher", skip_all, fields(channel = CHANNEL))]
async fn run(pool: PgPool, mut latest: watch::Receiver<LogPosition>) {
    while latest.changed().await.is_ok() {
        let position = *latest.borrow_and_update();
        match notify(&pool, position).await {
            Ok(_) => {}
            Err(sqlx::Error::PoolClosed) => break,
            // Other processes' followers still poll; the next commit notifies again.
            Err(error) => tracing::warn!(%error, "could not notify other processes"),
        }
    }
}

/// Sends one notification of `position` on [`CHANNEL`], to every process listening (this
/// one too).
pub(crate) async fn notify(pool: &PgPool, position: LogPosition) -> Result<(), sqlx::Error> {
    let payload =
        serde_json::to_string(&position).map_err(|error| sqlx::Error::Encode(error.into()))?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(payload)
        .execute(pool)
        .await?;
    Ok(())
}
