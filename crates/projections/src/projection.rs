//! Projections: processors whose rows carry a generation, so they can be rebuilt blue/green.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use async_trait::async_trait;
use freshet_domain::PortfolioId;
use freshet_follower::DecodedEvent;

use crate::fold::Fold;
use crate::generation;
use crate::partition;
use freshet_follower::Processor;
use freshet_follower::ProcessorError;
use freshet_store::Tx;
use freshet_store::codec::DbUuid;

/// A read model built from the log. Every table it writes has a `generation` column first in
/// its key and a `portfolio_id` column; queries read the active generation only.
#[async_trait]
pub trait Projection: Send + Sync + std::fmt::Debug {
    /// Stable name: checkpoint key and `projection_generations` key.
    fn name(&self) -> &'static str;

    /// The tables holding its rows.
    fn tables(&self) -> &'static [&'static str];

    /// A new instance with empty in-memory state, for a rebuild.
    fn fresh(&self) -> Arc<dyn Projection>;

    /// A new instance folding its state in `fold`, shared with the other projections a
    /// rebuild fills together (each portfolio's state is then folded once per page for all).
    async fn fresh_sharing(&self, fold: &Fold) -> Arc<dyn Projection>;

    /// Applies `events` (global order) to the rows of `target`'s generation.
    async fn apply(
        &self,
        tx: &mut Tx,
        target: Target,
        events: &[DecodedEvent],
    ) -> Result<(), ProcessorError>;
}

/// Where a batch's rows go: a generation, in the shared tables or, while a rebuild fills it
/// on PostgreSQL, in the generation's own detached tables ([`crate::partition`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub generation: i64,
    detached: bool,
}

impl Target {
    /// `generation`'s rows, written through the shared tables.
    pub fn shared(generation: i64) -> Self {
        Self {
            generation,
            detached: false,
        }
    }

    /// `generation`'s rows, written into its own tables before they are attached.
    pub(crate) fn detached(generation: i64) -> Self {
        Self {
            generation,
            detached: true,
        }
    }

    /// The table to write `table`'s rows into.
    pub fn table(&self, table: &str) -> String {
        if self.detached {
            partition::table_of(table, self.generation)
        } else {
            table.to_owned()
        }
    }
}

/// Deletes the rows of `generation` (only `portfolio`'s, if given) from every table.
pub(crate) async fn delete_rows(
    tx: &mut Tx,
    projection: &dyn Projection,
    generation: i64,
    portfolio: Option<PortfolioId>,
) -> Result<(), sqlx::Error> {
    for table in projection.tables() {
        let sql = match portfolio {
            Some(_) => format!("DELETE FROM {table} WHERE generation = $1 AND portfolio_id = $2"),
            None => format!("DELETE FROM {table} WHERE generation = $1"),
        };
        let id = portfolio.map(|p| DbUuid(p.as_uuid()));
        freshet_store::on_tx!(tx, conn => {
            sqlx::query(&sql).bind(generation).bind(id).execute(&mut **conn).await?;
        });
    }
    Ok(())
}

/// The live copy of a projection: writes into the active generation under its own name.
#[derive(Debug, Clone)]
pub struct Live(pub Arc<dyn Projection>);

#[async_trait]
impl Processor for Live {
    fn name(&self) -> &str {
        self.0.name()
    }

    async fn handle(&self, tx: &mut Tx, events: &[DecodedEvent]) -> Result<(), ProcessorError> {
        let generation = generation::active_in(tx, self.0.name()).await?;
        self.0.apply(tx, Target::shared(generation), events).await
    }
}

/// A copy being rebuilt: writes into `generation` (through the shared tables) under the
/// checkpoint `<name>@g<N>`.
#[derive(Debug, Clone)]
pub(crate) struct Building {
    pub projection: Arc<dyn Projection>,
    pub generation: i64,
    pub name: String,
}

impl Building {
    pub fn new(projection: Arc<dyn Projection>, generation: i64) -> Self {
        let name = format!("{}@g{generation}", projection.name());
        Self {
            projection,
            generation,
            name,
        }
    }
}

#[async_trait]
impl Processor for Building {
    fn name(&self) -> &str {
        &self.name
    }

    async fn handle(&self, tx: &mut Tx, events: &[DecodedEvent]) -> Result<(), ProcessorError> {
        self.projection
            .apply(tx, Target::shared(self.generation), events)
            .await
    }
}

/// A hash of a row as written, kept next to the folded state so that a page rewrites only
/// the rows it changed (the inbox's tasks, the board's tickets).
pub(crate) fn hash_of(row: &impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    row.hash(&mut hasher);
    hasher.finish()
}
