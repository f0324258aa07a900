//! One row per portfolio: client, team, cadence, status, the current Ad Set's progress, the
//! AM's latest Note, the Ad Lab link, and when the scheduler next needs to tick it.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use freshet_domain::{Deadlines, Portfolio, PortfolioId, TicketStatus, UserId, next_trigger_date};
use freshet_follower::DecodedEvent;
use freshet_store::codec::DbUuid;
use freshet_store::{Database, EventStore};
use serde::Serialize;
use sqlx::QueryBuilder;

use crate::fold::{Fold, Tracks};
use crate::ids::IdText;
use crate::projection::{Projection, Target};
use freshet_follower::ProcessorError;
use freshet_store::Tx;
use freshet_store::{on_pool, on_tx};

pub const NAME: &str = "portfolios";
const CHUNK: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PortfolioRow {
    pub portfolio_id: String,
    pub client: String,
    pub account_manager: String,
    pub social_ad_specialist: String,
    pub copywriter: String,
    pub designer: String,
    pub team_lead: String,
    pub cadence_every: i64,
    /// `days`, `weeks` or `months`.
    pub cadence_unit: String,
    pub refresh_date: NaiveDate,
    /// Status code (`creatives_pending_approval`), `None` while empty.
    pub status: Option<String>,
    pub status_label: Option<String>,
    pub cycle: i64,
    pub ad_set_folder: Option<String>,
    /// The Number of Deliverables of the current Ad Set.
    pub deliverables: Option<i64>,
    pub tickets_created: i64,
    pub tickets_in_progress: i64,
    pub tickets_pending: i64,
    pub tickets_completed: i64,
    pub latest_am_note: Option<String>,
    pub ad_lab_link: Option<String>,
    pub next_trigger_on: Option<NaiveDate>,
    pub changed_at: DateTime<Utc>,
}

impl PortfolioRow {
    /// "7 of 9 ready for review": tickets pending approval or completed, of the count.
    pub fn ad_set_progress(&self) -> Option<String> {
        self.deliverables.map(|count| {
            format!(
                "{} of {count} ready for review",
                self.tickets_pending + self.tickets_completed
            )
        })
    }
}

pub(crate) fn code<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(code)) => code,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn row(state: &Portfolio, deadlines: &Deadlines, changed_at: DateTime<Utc>) -> PortfolioRow {
    let set = state.current_ad_set();
    let count = |status| set.map_or(0, |s| i64::from(s.count_with(status)));
    PortfolioRow {
        portfolio_id: state.id.to_string(),
        client: state.client.to_string(),
        account_manager: state.team.account_manager.to_string(),
        social_ad_specialist: state.team.social_ad_specialist.to_string(),
        copywriter: state.team.copywriter.to_string(),
        designer: state.team.designer.to_string(),
        team_lead: state.team.team_lead.to_string(),
        cadence_every: i64::from(state.schedule.cadence.every()),
        cadence_unit: code(&state.schedule.cadence.unit()),
        refresh_date: state.refresh_date(),
        status: state.status().map(|s| code(&s)),
        status_label: state.status().map(|s| s.label().to_owned()),
        cycle: i64::from(state.cycle.number),
        ad_set_folder: set.map(|s| s.folder.to_string()),
        deliverables: set.map(|s| i64::from(s.deliverables.get())),
        tickets_created: set.map_or(0, |s| i64::from(s.created())),
        tickets_in_progress: count(TicketStatus::InProgress),
        tickets_pending: count(TicketStatus::PendingApproval),
        tickets_completed: count(TicketStatus::CompletedDeliverable),
        latest_am_note: state.latest_am_note().map(|n| n.text.to_string()),
        ad_lab_link: state.current_ad_lab_link().map(|l| l.to_string()),
        next_trigger_on: next_trigger_date(state, deadlines),
        changed_at,
    }
}

/// The portfolios projection. `deadlines` decide `next_trigger_on` (use the agency's).
#[derive(Debug)]
pub struct Portfolios {
    store: Arc<dyn EventStore>,
    deadlines: Deadlines,
    fold: Fold,
}

impl Portfolios {
    pub fn new(store: Arc<dyn EventStore>, deadlines: Deadlines) -> Self {
        Self {
            store,
            deadlines,
            fold: Fold::own(Tracks::default()),
        }
    }
}

#[async_trait]
impl Projection for Portfolios {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &["portfolios"]
    }

    fn fresh(&self) -> Arc<dyn Projection> {
        Arc::new(Self::new(Arc::clone(&self.store), self.deadlines))
    }

    async fn fresh_sharing(&self, fold: &Fold) -> Arc<dyn Projection> {
        Arc::new(Self {
            store: Arc::clone(&self.store),
            deadlines: self.deadlines,
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
        let rows: Vec<PortfolioRow> = {
            let mut fold = self.fold.lock().await;
            let touched = fold.advance(self.store.as_ref(), events).await?;
            let states = fold.states();
            touched
                .iter()
                .filter_map(|(id, at)| states.get(id).map(|e| row(&e.state, &self.deadlines, *at)))
                .collect()
        };
        for chunk in rows.chunks(CHUNK) {
            on_tx!(tx, conn => {
                let mut sql = QueryBuilder::new(format!(
                    "INSERT INTO {table} (generation, portfolio_id, client, account_manager, \
                     social_ad_specialist, copywriter, designer, team_lead, cadence_every, \
                     cadence_unit, refresh_date, status, status_label, cycle, ad_set_folder, \
                     deliverables, tickets_created, tickets_in_progress, tickets_pending, \
                     tickets_completed, latest_am_note, ad_lab_link, next_trigger_on, changed_at) ",
                    table = target.table("portfolios"),
                ));
                sql.push_values(chunk, |mut b, r| {
                    b.push_bind(target.generation)
                        .push_bind(IdText(&r.portfolio_id))
                        .push_bind(&r.client)
                        .push_bind(IdText(&r.account_manager))
                        .push_bind(IdText(&r.social_ad_specialist))
                        .push_bind(IdText(&r.copywriter))
                        .push_bind(IdText(&r.designer))
                        .push_bind(IdText(&r.team_lead))
                        .push_bind(r.cadence_every)
                        .push_bind(&r.cadence_unit)
                        .push_bind(r.refresh_date)
                        .push_bind(&r.status)
                        .push_bind(&r.status_label)
                        .push_bind(r.cycle)
                        .push_bind(&r.ad_set_folder)
                        .push_bind(r.deliverables)
                        .push_bind(r.tickets_created)
                        .push_bind(r.tickets_in_progress)
                        .push_bind(r.tickets_pending)
                        .push_bind(r.tickets_completed)
                        .push_bind(&r.latest_am_note)
                        .push_bind(&r.ad_lab_link)
                        .push_bind(r.next_trigger_on)
                        .push_bind(r.changed_at);
                });
                sql.push(
                    " ON CONFLICT (generation, portfolio_id) DO UPDATE SET \
                     client = excluded.client, account_manager = excluded.account_manager, \
                     social_ad_specialist = excluded.social_ad_specialist, \
                     copywriter = excluded.copywriter, designer = excluded.designer, \
                     team_lead = excluded.team_lead, cadence_every = excluded.cadence_every, \
                     cadence_unit = excluded.cadence_unit, refresh_date = excluded.refresh_date, \
                     status = excluded.status, status_label = excluded.status_label, \
                     cycle = excluded.cycle, ad_set_folder = excluded.ad_set_folder, \
                     deliverables = excluded.deliverables, \
                     tickets_created = excluded.tickets_created, \
                     tickets_in_progress = excluded.tickets_in_progress, \
                     tickets_pending = excluded.tickets_pending, \
                     tickets_completed = excluded.tickets_completed, \
                     latest_am_note = excluded.latest_am_note, \
                     ad_lab_link = excluded.ad_lab_link, \
                     next_trigger_on = excluded.next_trigger_on, changed_at = excluded.changed_at",
                );
                sql.build().execute(&mut **conn).await?;
            });
        }
        Ok(())
    }
}

/// The columns of [`PortfolioRow`], ids read as text (see [`crate::ids`]).
const COLUMNS: &str = "CAST(portfolio_id AS TEXT) AS portfolio_id, client, \
    CAST(account_manager AS TEXT) AS account_manager, \
    CAST(social_ad_specialist AS TEXT) AS social_ad_specialist, \
    CAST(copywriter AS TEXT) AS copywriter, CAST(designer AS TEXT) AS designer, \
    CAST(team_lead AS TEXT) AS team_lead, cadence_every, cadence_unit, refresh_date, status, status_label, cycle, \
    ad_set_folder, deliverables, tickets_created, tickets_in_progress, tickets_pending, \
    tickets_completed, latest_am_note, ad_lab_link, next_trigger_on, changed_at";
const ACTIVE: &str =
    "generation = (SELECT active FROM projection_generations WHERE name = 'portfolios')";

/// One portfolio of the active generation.
pub async fn get(db: &Database, id: PortfolioId) -> Result<Option<PortfolioRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM portfolios WHERE {ACTIVE} AND portfolio_id = $1");
    let row = on_pool!(db, pool => {
        sqlx::query_as(&sql).bind(DbUuid(id.as_uuid())).fetch_optional(pool).await?
    });
    Ok(row)
}

/// The portfolios of `ids` that the active generation has, in any order, a few queries for
/// all of them (not one each).
pub async fn get_many(
    db: &Database,
    ids: &[PortfolioId],
) -> Result<Vec<PortfolioRow>, sqlx::Error> {
    // Well below the bound parameters a statement may have on either backend.
    const PER_QUERY: usize = 500;
    let mut rows = Vec::with_capacity(ids.len());
    for ids in ids.chunks(PER_QUERY) {
        let found: Vec<PortfolioRow> = on_pool!(db, pool => {
            select_ids(ids).build_query_as().fetch_all(pool).await?
        });
        rows.extend(found);
    }
    Ok(rows)
}

fn select_ids<'a, DB: sqlx::Database>(ids: &[PortfolioId]) -> QueryBuilder<'a, DB>
where
    DbUuid: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let mut query = QueryBuilder::new(format!(
        "SELECT {COLUMNS} FROM portfolios WHERE {ACTIVE} AND portfolio_id IN ("
    ));
    let mut list = query.separated(", ");
    for id in ids {
        list.push_bind(DbUuid(id.as_uuid()));
    }
    query.push(")");
    query
}

/// Which portfolios to list: all, or those whose team includes `member`, by client.
#[derive(Debug, Clone, Copy, Default)]
pub struct PortfolioFilter {
    pub member: Option<UserId>,
    /// Keyset paging: the portfolios after this one in the listing's order.
    pub after: Option<PortfolioId>,
    pub limit: u32,
    pub offset: u32,
}

/// Portfolios of the active generation by client, filtered and paged in SQL.
pub async fn list(
    db: &Database,
    filter: &PortfolioFilter,
) -> Result<Vec<PortfolioRow>, sqlx::Error> {
    search(db, filter, &PortfolioSearch::default()).await
}

/// What a person looking for portfolios may narrow the listing by, beyond
/// [`PortfolioFilter`]. Unset fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortfolioSearch {
    /// The Creative Refresh Status code (`creatives_pending_approval`).
    /// `no_refresh_requested` also matches a portfolio without one (between cycles), as the
    /// pages show both alike.
    pub status: Option<String>,
    pub account_manager: Option<UserId>,
    pub social_ad_specialist: Option<UserId>,
    pub team_lead: Option<UserId>,
    /// The Creative Refresh Date on or after this day.
    pub refresh_from: Option<NaiveDate>,
    /// The Creative Refresh Date on or before this day.
    pub refresh_to: Option<NaiveDate>,
    /// Part of the client's name, in any case.
    pub client: Option<String>,
}

/// [`list`], narrowed by `search`.
pub async fn search(
    db: &Database,
    filter: &PortfolioFilter,
    search: &PortfolioSearch,
) -> Result<Vec<PortfolioRow>, sqlx::Error> {
    let rows = on_pool!(db, pool => {
        select_matching("", filter, search).build_query_as::<PortfolioRow>().fetch_all(pool).await?
    });
    Ok(rows)
}

/// The query of [`list`], after `prefix` (e.g. `EXPLAIN ` to check its plan).
pub fn select<'a, DB: sqlx::Database>(
    prefix: &str,
    filter: &PortfolioFilter,
) -> QueryBuilder<'a, DB>
where
    DbUuid: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    NaiveDate: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    select_matching(prefix, filter, &PortfolioSearch::default())
}

/// `%part%` for `LIKE … ESCAPE '\'`, lower case, with the pattern's own characters
/// escaped so a client named "100% Natural" is found by "100%".
fn contains_pattern(part: &str) -> String {
    let mut pattern = String::from("%");
    for c in part.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The query of [`search`], after `prefix`.
pub fn select_matching<'a, DB: sqlx::Database>(
    prefix: &str,
    filter: &PortfolioFilter,
    search: &PortfolioSearch,
) -> QueryBuilder<'a, DB>
where
    DbUuid: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    NaiveDate: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let mut sql = QueryBuilder::new(prefix);
    sql.push(format!("SELECT {COLUMNS} FROM portfolios WHERE {ACTIVE}"));
    if let Some(member) = filter.member {
        // One indexed equality per role (migration 0060), so the planner can combine them.
        sql.push(" AND (");
        for (i, column) in TEAM_COLUMNS.iter().enumerate() {
            if i > 0 {
                sql.push(" OR ");
            }
            sql.push(format!("{column} = "))
                .push_bind(DbUuid(member.as_uuid()));
        }
        sql.push(")");
    }
    if let Some(code) = &search.status {
        sql.push(" AND (status = ").push_bind(code.clone());
        if code == "no_refresh_requested" {
            sql.push(" OR status IS NULL");
        }
        sql.push(")");
    }
    for (column, person) in [
        ("account_manager", search.account_manager),
        ("social_ad_specialist", search.social_ad_specialist),
        ("team_lead", search.team_lead),
    ] {
        if let Some(person) = person {
            sql.push(format!(" AND {column} = "))
                .push_bind(DbUuid(person.as_uuid()));
        }
    }
    if let Some(from) = search.refresh_from {
        sql.push(" AND refresh_date >= ").push_bind(from);
    }
    if let Some(to) = search.refresh_to {
        sql.push(" AND refresh_date <= ").push_bind(to);
    }
    if let Some(part) = search.client.as_deref().filter(|part| !part.is_empty()) {
        sql.push(" AND LOWER(client) LIKE ")
            .push_bind(contains_pattern(part))
            .push(" ESCAPE '\\'");
    }
    if let Some(after) = filter.after {
        sql.push(
            " AND (client, portfolio_id) > (SELECT client, portfolio_id FROM portfolios AS cursor \
             WHERE cursor.generation = portfolios.generation AND cursor.portfolio_id = ",
        )
        .push_bind(DbUuid(after.as_uuid()))
        .push(")");
    }
    sql.push(" ORDER BY portfolios.client, portfolios.portfolio_id LIMIT ")
        .push_bind(i64::from(filter.limit.max(1)))
        .push(" OFFSET ")
        .push_bind(i64::from(filter.offset));
    sql
}

const TEAM_COLUMNS: [&str; 5] = [
    "account_manager",
    "social_ad_specialist",
    "copywriter",
    "designer",
    "team_lead",
];

/// The portfolios the scheduler must tick on `today`: `next_trigger_on <= today`.
pub async fn due_for_trigger(
    db: &Database,
    today: NaiveDate,
) -> Result<Vec<PortfolioId>, sqlx::Error> {
    let sql = format!(
        "SELECT portfolio_id FROM portfolios WHERE {ACTIVE} AND next_trigger_on <= $1 \
         ORDER BY next_trigger_on, portfolio_id"
    );
    let ids: Vec<DbUuid> = on_pool!(db, pool => {
        sqlx::query_scalar(&sql).bind(today).fetch_all(pool).await?
    });
    Ok(ids
        .into_iter()
        .map(|id| PortfolioId::from_uuid(id.0))
        .collect())
}
