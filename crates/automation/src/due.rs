//! Where the scheduler learns which portfolios are due: the portfolio read model keeps
//! `next_trigger_on` (the domain's `next_trigger_date`) indexed for exactly this question.

use async_trait::async_trait;
use chrono::NaiveDate;
use freshet_domain::PortfolioId;
use freshet_projections::portfolios;
use freshet_store::Database;

use crate::scheduler::{DuePortfolios, DueSourceError};

/// The portfolios whose `next_trigger_on` has come, from the `portfolios` read model. A
/// projection that lags behind only delays a trigger to the next tick: the tick itself is
/// decided on the portfolio's full history.
#[derive(Debug, Clone)]
pub struct ReadModelDue {
    db: Database,
}

impl ReadModelDue {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl DuePortfolios for ReadModelDue {
    async fn due_on(&self, today: NaiveDate) -> Result<Vec<PortfolioId>, DueSourceError> {
        portfolios::due_for_trigger(&self.db, today)
            .await
            .map_err(|error| DueSourceError(Box::new(error)))
    }
}
