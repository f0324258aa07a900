//! Forgetting idempotency keys once they expire (B5): a worker task deletes them now and then,
//! a batch per statement so no transaction is long.

use std::future::Future;
use std::time::Duration;

use crate::error::ServiceError;
use crate::service::{CommandService, key_cutoff};

/// Keys deleted per statement.
const BATCH: u32 = 1_000;

impl CommandService {
    /// Deletes every idempotency key older than the configured time to live; answers how many.
    #[tracing::instrument(skip_all, fields(deleted), err(Display))]
    pub async fn delete_expired_idempotency_keys(&self) -> Result<u64, ServiceError> {
        let cutoff = key_cutoff(self.clock().now(), self.config().idempotency_ttl);
        let mut deleted = 0;
        loop {
            let batch = self
                .store()
                .delete_expired_idempotency_keys(cutoff, BATCH)
                .await?;
            deleted += batch;
            if batch < u64::from(BATCH) {
                break;
            }
        }
        tracing::Span::current().record("deleted", deleted);
        Ok(deleted)
    }

    /// Deletes the expired keys every `interval` until `shutdown` completes.
    pub async fn run_idempotency_key_expiry(
        &self,
        interval: Duration,
        shutdown: impl Future<Output = ()>,
    ) {
        let mut timer = tokio::time::interval(interval);
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                _ = timer.tick() => {
                    if let Err(error) = self.delete_expired_idempotency_keys().await {
                        tracing::warn!(%error, "deleting expired idempotency keys failed");
                    }
                }
            }
        }
    }
}
