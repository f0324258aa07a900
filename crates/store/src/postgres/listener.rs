//! Feeds the in-process broadcast from PostgreSQL `LISTEN`, so that commits made by other
//! processes wake this process's followers too.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use crate::error::StoreError;
use crate::event::LogPosition;

/// The channel every commit of appends notifies, with its last [`LogPosition`] as JSON (and
/// every [`announce`](crate::EventStore::announce)).
pub const CHANNEL: &str = "freshet_events";

const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The background listener; stopped when the last store handle drops it.
#[derive(Debug)]
pub(crate) struct ListenerTask(JoinHandle<()>);

impl Drop for ListenerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts listening before returning, so no commit after this call is missed.
pub(crate) async fn start(
    pool: &PgPool,
    sender: broadcast::Sender<LogPosition>,
) -> Result<Arc<ListenerTask>, StoreError> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    let handle = tokio::spawn(run(listener, pool.clone(), sender));
    Ok(Arc::new(ListenerTask(handle)))
}

#[tracing::instrument(name = "event_listener", skip_all, fields(channel = CHANNEL))]
async fn run(mut listener: PgListener, pool: PgPool, sender: broadcast::Sender<LogPosition>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => {
                backoff = Duration::from_millis(100);
                match serde_json::from_str::<LogPosition>(notification.payload()) {
                    Ok(position) => {
                        // No receivers is fine: nobody is following right now.
                        let _ = sender.send(position);
                    }
                    Err(error) => tracing::warn!(%error, "ignoring a malformed notification"),
                }
            }
            Ok(None) => {
                // The connection was lost and re-established: notifications may be missed.
                tracing::info!("listener reconnected");
                wake_followers(&pool, &sender).await;
            }
            Err(sqlx::Error::PoolClosed) => break,
            Err(error) => {
                tracing::warn!(%error, retry_in_ms = backoff.as_millis(), "listener failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                wake_followers(&pool, &sender).await;
            }
        }
    }
}

/// After missed notifications, hint the current head so followers catch up.
async fn wake_followers(pool: &PgPool, sender: &broadcast::Sender<LogPosition>) {
    match super::head(pool).await {
        Ok(head) => {
            let _ = sender.send(head);
        }
        Err(error) => tracing::debug!(%error, "could not read the head after reconnecting"),
    }
}
