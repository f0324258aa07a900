//! Hears every process's token revocations (PostgreSQL `LISTEN` on
//! [`REVOCATIONS_CHANNEL`]), so the token cache of this
//! process forgets a revoked token as soon as the revocation commits. While the connection
//! is down the cache is off ([`TokenCache::set_live`]): every request asks the database.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::task::JoinHandle;

use crate::cache::TokenCache;
use crate::tokens::REVOCATIONS_CHANNEL;

const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The background listener; stopped when its [`crate::Authenticator`] is dropped.
#[derive(Debug)]
pub(crate) struct ListenerTask(JoinHandle<()>);

impl Drop for ListenerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts listening in the background; the cache is used once it listens.
pub(crate) fn spawn(pool: PgPool, cache: Arc<TokenCache>) -> ListenerTask {
    ListenerTask(tokio::spawn(run(pool, cache)))
}

#[tracing::instrument(name = "revocation_listener", skip_all, fields(channel = REVOCATIONS_CHANNEL))]
async fn run(pool: PgPool, cache: Arc<TokenCache>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match listen(&pool).await {
            Ok(mut listener) => {
                backoff = Duration::from_millis(100);
                cache.set_live(true);
                loop {
                    match listener.try_recv().await {
                        Ok(Some(_)) => cache.revoked(),
                        // Lost: revocations may be missed until listening again.
                        Ok(None) => break,
                        Err(sqlx::Error::PoolClosed) => {
                            cache.set_live(false);
                            return;
                        }
                        Err(error) => {
                            tracing::warn!(%error, "revocation listener failed");
                            break;
                        }
                    }
                }
                cache.set_live(false);
            }
            Err(sqlx::Error::PoolClosed) => return,
            Err(error) => {
                tracing::warn!(%error, retry_in_ms = backoff.as_millis(), "cannot listen for revocations");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

async fn listen(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(REVOCATIONS_CHANNEL).await?;
    Ok(listener)
}
