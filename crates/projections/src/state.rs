//! Per-portfolio domain state kept in memory by a projection between batches, folded event
//! by event, and reloaded from the portfolio's stream whenever it is not exactly one event
//! behind the batch (first use, a rolled-back batch, a checkpoint that moved).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use freshet_domain::{Portfolio, PortfolioId};
use freshet_follower::{DecodedEvent, decode};
use freshet_store::{EventStore, RecordedEvent};

use freshet_follower::ProcessorError;

/// Extra per-portfolio state a projection folds next to the domain state.
pub(crate) trait Tracked: Clone + Send {
    /// Called before the domain state folds `event`.
    fn before(&mut self, _state: Option<&Portfolio>, _event: &DecodedEvent) {}
    /// Called after the domain state folded `event`.
    fn after(&mut self, _state: &Portfolio, _event: &DecodedEvent) {}
    /// Forgets output collected while replaying history that is already in the rows.
    fn discard_pending(&mut self) {}
}

impl Tracked for () {}

#[derive(Debug)]
pub(crate) struct Entry<T> {
    pub state: Portfolio,
    pub version: i64,
    pub tracked: T,
}

/// The portfolio a stream holds, if it is a portfolio stream.
pub(crate) fn portfolio_of(record: &RecordedEvent) -> Option<PortfolioId> {
    PortfolioId::from_stream_name(record.stream_id.as_str())
}

#[derive(Debug)]
pub(crate) struct States<T> {
    entries: HashMap<PortfolioId, Entry<T>>,
    /// What a new portfolio's tracked state starts as (carries configuration).
    seed: T,
}

impl<T: Tracked + Default> Default for States<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T: Tracked> States<T> {
    pub fn new(seed: T) -> Self {
        Self {
            entries: HashMap::new(),
            seed,
        }
    }

    /// Makes every portfolio of `events` be exactly at the version before its first event in
    /// the batch, reloading from the store where it is not.
    pub async fn prepare(
        &mut self,
        store: &dyn EventStore,
        events: &[DecodedEvent],
    ) -> Result<(), ProcessorError> {
        let mut firsts: HashMap<PortfolioId, &DecodedEvent> = HashMap::new();
        for event in events {
            if let Some(id) = portfolio_of(&event.record) {
                firsts.entry(id).or_insert(event);
            }
        }
        for (id, first) in firsts {
            let wanted = first.record.version - 1;
            if self.entries.get(&id).map(|e| e.version) == Some(wanted) {
                continue;
            }
            self.entries.remove(&id);
            if wanted == 0 {
                continue;
            }
            let history = store.read_stream(&first.record.stream_id, 1).await?;
            for record in history.into_iter().take_while(|r| r.version <= wanted) {
                let event = decode(&record)?;
                self.apply(&DecodedEvent { record, event })?;
            }
            if let Some(entry) = self.entries.get_mut(&id) {
                entry.tracked.discard_pending();
            }
        }
        Ok(())
    }

    /// Brings every portfolio of the batch up to date: `prepare`, then each event folded in.
    /// Returns the portfolios the batch touched, with the time of their last event.
    pub async fn advance(
        &mut self,
        store: &dyn EventStore,
        events: &[DecodedEvent],
    ) -> Result<BTreeMap<PortfolioId, DateTime<Utc>>, ProcessorError> {
        self.prepare(store, events).await?;
        let mut touched = BTreeMap::new();
        for event in events {
            if let Some(id) = self.apply(event)? {
                touched.insert(id, event.record.recorded_at);
            }
        }
        Ok(touched)
    }

    /// Folds one event; returns its portfolio, or `None` for events of other streams.
    pub fn apply(&mut self, event: &DecodedEvent) -> Result<Option<PortfolioId>, ProcessorError> {
        let Some(id) = portfolio_of(&event.record) else {
            return Ok(None);
        };
        let mut entry = self.entries.remove(&id);
        let mut tracked = match entry.as_mut() {
            Some(e) => std::mem::replace(&mut e.tracked, self.seed.clone()),
            None => self.seed.clone(),
        };
        tracked.before(entry.as_ref().map(|e| &e.state), event);
        let state = Portfolio::evolve(entry.map(|e| e.state), &event.event).map_err(|source| {
            ProcessorError::History {
                stream: event.record.stream_id.to_string(),
                source,
            }
        })?;
        tracked.after(&state, event);
        self.entries.insert(
            id,
            Entry {
                state,
                version: event.record.version,
                tracked,
            },
        );
        Ok(Some(id))
    }

    /// What a new portfolio's tracked state starts as, to track more before the first page.
    pub fn seed_mut(&mut self) -> &mut T {
        &mut self.seed
    }

    pub fn get(&self, id: &PortfolioId) -> Option<&Entry<T>> {
        self.entries.get(id)
    }

    pub fn get_mut(&mut self, id: &PortfolioId) -> Option<&mut Entry<T>> {
        self.entries.get_mut(id)
    }
}
