//! The Ad Set board: every ticket with its status, approvals, Needs Revisions, revision
//! round and notes count.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use freshet_domain::{PortfolioId, TicketId};
use freshet_follower::DecodedEvent;
use freshet_store::codec::DbUuid;
use freshet_store::{Database, EventStore};
use serde::Serialize;
use sqlx::QueryBuilder;

use crate::fold::{Fold, Tracks};
use crate::ids::IdText;
use crate::portfolios::code;
use crate::projection::{Projection, Target, hash_of};
use freshet_follower::ProcessorError;
use freshet_store::Tx;
use freshet_store::{on_pool, on_tx};

pub const NAME: &str = "ad_set_board";
/// The board status of a ticket withdrawn from its Ad Set or voided with its cycle.
pub const WITHDRAWN: &str = "withdrawn";
const CHUNK: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, sqlx::FromRow)]
pub struct BoardTicket {
    pub ticket_id: String,
    pub portfolio_id: String,
    pub cycle: i64,
    /// Position in the Ad Set, from 0.
    pub ordinal: i64,
    pub folder: String,
    pub deliverables: i64,
    pub title: String,
    pub status: String,
    pub copy_approval: String,
    pub graphic_approval: String,
    pub needs_revisions: Option<String>,
    pub revision_round: i64,
    pub notes_count: i64,
}

/// A hash of each of a portfolio's tickets' rows as last written, so a page rewrites only
/// the tickets it changed, not every ticket of every cycle of each portfolio it touched.
/// (Reset with the state whenever the state is reloaded, e.g. after a rollback: every row is
/// then written again.)
#[derive(Debug, Clone, Default)]
pub(crate) struct TicketsWritten(HashMap<TicketId, u64>);

/// The Ad Set board projection.
#[derive(Debug)]
pub struct Board {
    store: Arc<dyn EventStore>,
    fold: Fold,
}

impl Board {
    pub fn new(store: Arc<dyn EventStore>) -> Self {
        Self {
            store,
            fold: Fold::own(Tracks::tickets()),
        }
    }
}

#[async_trait]
impl Projection for Board {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &["ad_set_tickets"]
    }

    fn fresh(&self) -> Arc<dyn Projection> {
        Arc::new(Self::new(Arc::clone(&self.store)))
    }

    async fn fresh_sharing(&self, fold: &Fold) -> Arc<dyn Projection> {
        fold.track_tickets().await;
        Arc::new(Self {
            store: Arc::clone(&self.store),
            fold: fold.clone(),
        })
    }

    #[tracing::instrument(
        skip_all,
        fields(projection = NAME, generation = target.generation, events = events.len()),
        err
    )]
    async fn apply(
        &self,
        tx: &mut Tx,
        target: Target,
        events: &[DecodedEvent],
    ) -> Result<(), ProcessorError> {
        let mut fold = self.fold.lock().await;
        let touched = fold.advance(self.store.as_ref(), events).await?;
        let states = fold.states();
        let mut rows = Vec::new();
        for id in touched.into_keys() {
            let Some(entry) = states.get_mut(&id) else {
                continue;
            };
            // A fold that did not track the board's tickets from the start writes every row.
            let written = entry
                .tracked
                .tickets
                .get_or_insert_with(TicketsWritten::default);
            for (cycle, set) in &entry.state.ad_sets {
                // Withdrawn tickets, and every ticket of a cancelled cycle, stay on the board
                // as `withdrawn`, after the live ones.
                let live = set.tickets.iter().map(|t| (t, set.cancelled));
                let withdrawn = set.withdrawn.iter().map(|t| (t, true));
                for (ordinal, (t, void)) in live.chain(withdrawn).enumerate() {
                    let row = BoardTicket {
                        ticket_id: t.id.to_string(),
                        portfolio_id: id.to_string(),
                        cycle: i64::from(*cycle),
                        ordinal: i64::try_from(ordinal).unwrap_or(i64::MAX),
                        folder: set.folder.to_string(),
                        deliverables: i64::from(set.deliverables.get()),
                        title: t.title.to_string(),
                        status: if void {
                            WITHDRAWN.to_owned()
                        } else {
                            code(&t.status)
                        },
                        copy_approval: code(&t.copy),
                        graphic_approval: code(&t.graphic),
                        needs_revisions: t.needs_revisions.map(|k| code(&k)),
                        revision_round: i64::from(t.revision_round),
                        notes_count: i64::from(t.notes),
                    };
                    let hash = hash_of(&row);
                    if written.0.insert(t.id, hash) != Some(hash) {
                        rows.push(row);
                    }
                }
            }
        }
        // Other projections sharing the fold build their rows while these are written.
        drop(fold);
        for chunk in rows.chunks(CHUNK) {
            on_tx!(tx, conn => {
                let mut sql = QueryBuilder::new(format!(
                    "INSERT INTO {table} (generation, ticket_id, portfolio_id, cycle, \
                     ordinal, folder, deliverables, title, status, copy_approval, \
                     graphic_approval, needs_revisions, revision_round, notes_count) ",
                    table = target.table("ad_set_tickets"),
                ));
                sql.push_values(chunk, |mut b, r| {
                    b.push_bind(target.generation)
                        .push_bind(IdText(&r.ticket_id))
                        .push_bind(IdText(&r.portfolio_id))
                        .push_bind(r.cycle)
                        .push_bind(r.ordinal)
                        .push_bind(&r.folder)
                        .push_bind(r.deliverables)
                        .push_bind(&r.title)
                        .push_bind(&r.status)
                        .push_bind(&r.copy_approval)
                        .push_bind(&r.graphic_approval)
                        .push_bind(&r.needs_revisions)
                        .push_bind(r.revision_round)
                        .push_bind(r.notes_count);
                });
                // Ticket ids are unique within a portfolio only (clients may choose them).
                sql.push(
                    " ON CONFLICT (generation, portfolio_id, ticket_id) DO UPDATE SET title = excluded.title, \
                     folder = excluded.folder, deliverables = excluded.deliverables, \
                     ordinal = excluded.ordinal, status = excluded.status, copy_approval = excluded.copy_approval, \
                     graphic_approval = excluded.graphic_approval, \
                     needs_revisions = excluded.needs_revisions, \
                     revision_round = excluded.revision_round, notes_count = excluded.notes_count",
                );
                sql.build().execute(&mut **conn).await?;
            });
        }
        Ok(())
    }
}

/// The tickets of `portfolio` (one cycle, or all), in Ad Set order.
pub async fn tickets(
    db: &Database,
    portfolio: PortfolioId,
    cycle: Option<u32>,
) -> Result<Vec<BoardTicket>, sqlx::Error> {
    let sql = "SELECT CAST(ticket_id AS TEXT) AS ticket_id, \
               CAST(portfolio_id AS TEXT) AS portfolio_id, cycle, ordinal, folder, deliverables, title, \
               status, copy_approval, graphic_approval, needs_revisions, revision_round, \
               notes_count FROM ad_set_tickets WHERE generation = \
               (SELECT active FROM projection_generations WHERE name = 'ad_set_board') \
               AND portfolio_id = $1 AND ($2 IS NULL OR cycle = $2) ORDER BY cycle, ordinal";
    let rows = on_pool!(db, pool => {
        sqlx::query_as(sql)
            .bind(DbUuid(portfolio.as_uuid()))
            .bind(cycle.map(i64::from))
            .fetch_all(pool)
            .await?
    });
    Ok(rows)
}
