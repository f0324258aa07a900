//! One command at a time per portfolio within a process.
//!
//! Commands on one portfolio are serialized by the store anyway (one stream, one version);
//! letting them race only turns the losers into conflicts, re-reads and retries, and under a
//! burst some lose many times in a row. Queuing them here costs nothing: each still decides
//! on the newest state, and only writers in other processes can still conflict.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use freshet_domain::PortfolioId;
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

#[derive(Debug, Clone, Default)]
pub(crate) struct Turns {
    portfolios: Arc<Mutex<HashMap<PortfolioId, Arc<AsyncMutex<()>>>>>,
}

/// The right to run a command on one portfolio; the next one's turn comes when it drops.
#[derive(Debug)]
pub(crate) struct Turn {
    turns: Turns,
    portfolio: PortfolioId,
    guard: Option<OwnedMutexGuard<()>>,
}

impl Turns {
    /// Waits until no other command of this process runs on `portfolio`.
    pub(crate) async fn take(&self, portfolio: PortfolioId) -> Turn {
        let lock = {
            let mut portfolios = self.lock();
            Arc::clone(portfolios.entry(portfolio).or_default())
        };
        Turn {
            turns: self.clone(),
            portfolio,
            guard: Some(lock.lock_owned().await),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PortfolioId, Arc<AsyncMutex<()>>>> {
        self.portfolios
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut portfolios = self.turns.lock();
        // Nobody else holds or waits for it (waiters hold a clone): forget the portfolio.
        if portfolios
            .get(&self.portfolio)
            .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            portfolios.remove(&self.portfolio);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use uuid::Uuid;

    use super::*;

    #[tokio::test]
    async fn commands_on_one_portfolio_take_turns_and_the_map_empties() {
        let turns = Turns::default();
        let portfolio = PortfolioId::from_uuid(Uuid::now_v7());
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (turns, inside, most) = (turns.clone(), inside.clone(), most.clone());
                tokio::spawn(async move {
                    let _turn = turns.take(portfolio).await;
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    inside.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 1, "two commands ran at once");
        assert_eq!(turns.len(), 0, "a finished portfolio stays in the map");
    }

    #[tokio::test]
    async fn other_portfolios_do_not_wait() {
        let turns = Turns::default();
        let first = turns.take(PortfolioId::from_uuid(Uuid::now_v7())).await;
        let other = tokio::time::timeout(
            Duration::from_secs(1),
            turns.take(PortfolioId::from_uuid(Uuid::now_v7())),
        )
        .await;
        assert!(other.is_ok(), "another portfolio waited for the first");
        drop(first);
    }
}
