#![doc = include_str!("../README.md")]

pub mod audit;
pub mod board;
mod error;
mod fold;
pub mod generation;
mod ids;
pub mod inbox;
pub mod metrics;
mod partition;
pub mod portfolios;
mod projection;
pub mod rebuild;
mod state;

use std::sync::Arc;

use freshet_domain::Deadlines;
use freshet_store::EventStore;

pub use error::ProjectionError;
pub use fold::Fold;
pub use projection::{Live, Projection, Target};
pub use rebuild::{RebuildProgress, RebuildReport, rebuild, rebuild_portfolio, rebuild_together};

/// The names of every projection, e.g. for `wait_for` on all of them.
pub const PROJECTION_NAMES: [&str; 4] = [inbox::NAME, portfolios::NAME, board::NAME, metrics::NAME];

/// Configuration of the read models.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadModelConfig {
    /// Gate deadlines, for `portfolios.next_trigger_on` (use the agency's).
    pub deadlines: Deadlines,
    pub metrics: metrics::MetricsConfig,
}

/// Every projection, ready to run (`Live`) or rebuild.
pub fn all_projections(
    store: &Arc<dyn EventStore>,
    config: ReadModelConfig,
) -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(inbox::Inbox::new(Arc::clone(store))),
        Arc::new(portfolios::Portfolios::new(
            Arc::clone(store),
            config.deadlines,
        )),
        Arc::new(board::Board::new(Arc::clone(store))),
        Arc::new(metrics::CycleMetrics::new(
            Arc::clone(store),
            config.metrics,
        )),
    ]
}

/// The projection called `name` among `projections`.
pub fn find_projection(
    projections: &[Arc<dyn Projection>],
    name: &str,
) -> Result<Arc<dyn Projection>, ProjectionError> {
    projections
        .iter()
        .find(|p| p.name() == name)
        .cloned()
        .ok_or_else(|| ProjectionError::UnknownProjection {
            name: name.to_owned(),
        })
}
