//! Recently used portfolio states, so a command folds only the events it has not seen.
//! Streams are append-only, so a cached (version, state) is always a true prefix of the
//! stream: the service reads the events after it and never trusts the cache for more.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use freshet_domain::{Portfolio, PortfolioId};

#[derive(Clone, Debug)]
pub(crate) struct StateCache {
    entries: Arc<Mutex<HashMap<PortfolioId, (i64, Portfolio)>>>,
    capacity: usize,
}

impl Default for StateCache {
    fn default() -> Self {
        Self::with_capacity(10_000)
    }
}

impl StateCache {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: Arc::default(),
            capacity: capacity.max(1),
        }
    }

    pub(crate) fn get(&self, portfolio: PortfolioId) -> Option<(i64, Portfolio)> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(&portfolio).cloned()
    }

    pub(crate) fn contains(&self, portfolio: PortfolioId) -> bool {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.contains_key(&portfolio)
    }

    /// Keeps `state` as the portfolio at `version`, unless a newer one is already known.
    pub(crate) fn remember(&self, portfolio: PortfolioId, version: i64, state: Portfolio) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries
            .get(&portfolio)
            .is_some_and(|(known, _)| *known >= version)
        {
            return;
        }
        if entries.len() >= self.capacity && !entries.contains_key(&portfolio) {
            // Any victim will do: a miss costs one full read of a stream.
            if let Some(victim) = entries.keys().next().copied() {
                entries.remove(&victim);
            }
        }
        entries.insert(portfolio, (version, state));
    }
}
