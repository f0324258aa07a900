//! The per-portfolio states a projection folds: its own, or one fold shared by the
//! projections a rebuild fills together, so each portfolio's state is folded once per page
//! for all of them instead of once per projection.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use freshet_domain::{Portfolio, PortfolioId};
use freshet_follower::{DecodedEvent, ProcessorError};
use freshet_store::{EventStore, LogPosition};
use tokio::sync::{Mutex, MutexGuard};

use crate::board::TicketsWritten;
use crate::inbox::TaskLog;
use crate::metrics::{MetricsConfig, Timeline};
use crate::state::{States, Tracked};

/// What the projections track next to the domain state, each part only where a projection
/// of the fold needs it (the inbox its tasks, the cycle metrics their timeline, the board
/// the tickets it wrote).
#[derive(Debug, Clone, Default)]
pub(crate) struct Tracks {
    pub tasks: Option<TaskLog>,
    pub timeline: Option<Timeline>,
    pub tickets: Option<TicketsWritten>,
}

impl Tracks {
    pub fn tasks() -> Self {
        Self {
            tasks: Some(TaskLog::default()),
            ..Self::default()
        }
    }

    pub fn timeline(config: MetricsConfig) -> Self {
        Self {
            timeline: Some(Timeline::new(config)),
            ..Self::default()
        }
    }

    pub fn tickets() -> Self {
        Self {
            tickets: Some(TicketsWritten::default()),
            ..Self::default()
        }
    }
}

impl Tracked for Tracks {
    fn before(&mut self, state: Option<&Portfolio>, event: &DecodedEvent) {
        if let Some(tasks) = &mut self.tasks {
            tasks.before(state, event);
        }
        if let Some(timeline) = &mut self.timeline {
            timeline.before(state, event);
        }
    }

    fn after(&mut self, state: &Portfolio, event: &DecodedEvent) {
        if let Some(tasks) = &mut self.tasks {
            tasks.after(state, event);
        }
        if let Some(timeline) = &mut self.timeline {
            timeline.after(state, event);
        }
    }

    fn discard_pending(&mut self) {
        if let Some(tasks) = &mut self.tasks {
            tasks.discard_pending();
        }
        if let Some(timeline) = &mut self.timeline {
            timeline.discard_pending();
        }
    }
}

/// The portfolios a page touched, with the time of their last event.
pub(crate) type Touched = BTreeMap<PortfolioId, DateTime<Utc>>;

/// Per-portfolio states folded for one projection, or shared by several (see the module
/// doc). Opaque outside this crate: a rebuild makes one with [`Fold::shared`] and hands it
/// to `Projection::fresh_sharing`.
#[derive(Debug, Clone)]
pub struct Fold {
    inner: Arc<Mutex<Folded>>,
    shared: bool,
}

#[derive(Debug)]
pub(crate) struct Folded {
    pub states: States<Tracks>,
    /// The page last folded and what it touched, so the other projections sharing the fold
    /// take it as it is instead of folding it again.
    last: Option<(Page, Touched)>,
}

/// A page of events, as the fold recognizes it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Page {
    first: LogPosition,
    last: LogPosition,
    len: usize,
}

impl Page {
    fn of(events: &[DecodedEvent]) -> Option<Self> {
        Some(Self {
            first: events.first()?.record.position,
            last: events.last()?.record.position,
            len: events.len(),
        })
    }
}

impl Fold {
    /// A projection's own fold, tracking `seed`'s parts.
    pub(crate) fn own(seed: Tracks) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Folded {
                states: States::new(seed),
                last: None,
            })),
            shared: false,
        }
    }

    /// One fold for the projections a rebuild fills together, page by page in step: the
    /// first of them to apply a page folds it, the others take it as folded. Use it only for
    /// pages every sharer applies, in the same order, once.
    pub fn shared() -> Self {
        Self {
            shared: true,
            ..Self::own(Tracks::default())
        }
    }

    /// Locks the fold, for one projection's page (fold it, then build its rows).
    pub(crate) async fn lock(&self) -> FoldGuard<'_> {
        FoldGuard {
            folded: self.inner.lock().await,
            shared: self.shared,
        }
    }

    /// Makes the fold track the inbox's tasks too (before any page is folded).
    pub(crate) async fn track_tasks(&self) {
        let mut folded = self.inner.lock().await;
        let seed = folded.states.seed_mut();
        seed.tasks.get_or_insert_with(TaskLog::default);
    }

    /// Makes the fold track the tickets the board wrote too (before any page is folded).
    pub(crate) async fn track_tickets(&self) {
        let mut folded = self.inner.lock().await;
        let seed = folded.states.seed_mut();
        seed.tickets.get_or_insert_with(TicketsWritten::default);
    }

    /// Makes the fold track the cycle metrics' timeline too (before any page is folded).
    pub(crate) async fn track_timeline(&self, config: MetricsConfig) {
        let mut folded = self.inner.lock().await;
        let seed = folded.states.seed_mut();
        seed.timeline.get_or_insert_with(|| Timeline::new(config));
    }
}

/// A locked [`Fold`].
#[derive(Debug)]
pub(crate) struct FoldGuard<'a> {
    folded: MutexGuard<'a, Folded>,
    shared: bool,
}

impl FoldGuard<'_> {
    /// Brings every portfolio of the page up to date (`States::advance`), or, in a shared
    /// fold that already folded this page, leaves it as it is. Returns what it touched.
    pub async fn advance(
        &mut self,
        store: &dyn EventStore,
        events: &[DecodedEvent],
    ) -> Result<Touched, ProcessorError> {
        let page = Page::of(events);
        if let (true, Some((last, touched))) = (self.shared, &self.folded.last)
            && Some(*last) == page
        {
            return Ok(touched.clone());
        }
        let touched = self.folded.states.advance(store, events).await?;
        if self.shared {
            self.folded.last = page.map(|page| (page, touched.clone()));
        }
        Ok(touched)
    }

    pub fn states(&mut self) -> &mut States<Tracks> {
        &mut self.folded.states
    }
}
