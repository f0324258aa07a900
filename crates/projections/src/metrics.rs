//! B3 cycle metrics: per cycle, cycle time (start → close), time in each status, client
//! time vs agency time, review and revision rounds, and whether it was on time; aggregated
//! per portfolio, per AM and per SAS.
//!
//! Definitions (all from event times, so a rebuild gives the same numbers):
//! - A cycle starts at the first event that makes it underway (kickoff, decision or
//!   handoff) and closes with `CreativesImplemented` (implemented), `RefreshDeclined`
//!   (declined), `CycleCancelled` (cancelled), or a pause or end of the portfolio while it is
//!   underway (set aside). An open cycle's times run to its portfolio's latest event.
//! - Client time: status `Creatives Pending Approval` with no ticket of the Ad Set
//!   `In Progress` (waiting for the client's answer). Agency time: the rest.
//! - On time: implemented on or before the refresh date plus
//!   [`MetricsConfig::on_time_days`] (in the agency's calendar). Declined and open cycles have
//!   no on-time value and do not count in the rate.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Days, NaiveDate, Utc};
use freshet_domain::{AgencyCalendar, Event, Portfolio, RefreshStatus, TicketStatus};
use freshet_follower::DecodedEvent;
use freshet_store::codec::DbUuid;
use freshet_store::{Database, EventStore};
use serde::Serialize;
use sqlx::QueryBuilder;

use crate::fold::{Fold, Tracks};
use crate::ids::IdText;
use crate::portfolios::code;
use crate::projection::{Projection, Target};
use crate::state::Tracked;
use freshet_follower::ProcessorError;
use freshet_store::Tx;
use freshet_store::{on_pool, on_tx};

pub const NAME: &str = "cycle_metrics";
const CHUNK: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsConfig {
    pub calendar: AgencyCalendar,
    /// Days after the refresh date by which implementation counts as on time.
    pub on_time_days: u32,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            calendar: AgencyCalendar::default(),
            on_time_days: 14,
        }
    }
}

/// One cycle's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct CycleMetricsRow {
    pub portfolio_id: String,
    pub cycle: i64,
    pub account_manager: String,
    pub social_ad_specialist: String,
    pub refresh_date: NaiveDate,
    pub started_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// `implemented` or `declined`; `None` while open.
    pub outcome: Option<String>,
    pub cycle_seconds: i64,
    pub client_seconds: i64,
    pub agency_seconds: i64,
    /// JSON object: status code (or `none`) → seconds.
    pub status_seconds: String,
    pub review_rounds: i64,
    pub tickets: i64,
    pub revision_rounds: i64,
    pub max_ticket_revision_rounds: i64,
    pub on_time: Option<bool>,
}

#[derive(Debug, Clone)]
struct Clock {
    cycle: u32,
    refresh_date: NaiveDate,
    am: String,
    sas: String,
    started_at: DateTime<Utc>,
    last_at: DateTime<Utc>,
    bucket: String,
    client: bool,
    status_seconds: BTreeMap<String, i64>,
    client_seconds: i64,
}

/// The open cycle's clock and the rows of cycles closed in this batch.
#[derive(Debug, Clone, Default)]
pub(crate) struct Timeline {
    config: Option<MetricsConfig>,
    current: Option<Clock>,
    closed: Vec<CycleMetricsRow>,
}

impl Timeline {
    pub fn new(config: MetricsConfig) -> Self {
        Self {
            config: Some(config),
            ..Self::default()
        }
    }
}

fn bucket(state: &Portfolio) -> (String, bool) {
    let status = state.status();
    let client = status == Some(RefreshStatus::CreativesPendingApproval)
        && state
            .current_ad_set()
            .is_none_or(|set| set.count_with(TicketStatus::InProgress) == 0);
    (
        status.map_or_else(|| "none".to_owned(), |s| code(&s)),
        client,
    )
}

fn row(
    clock: &Clock,
    state: &Portfolio,
    closed: Option<(DateTime<Utc>, &str, Option<bool>)>,
) -> CycleMetricsRow {
    let tickets = state
        .ad_sets
        .get(&clock.cycle)
        .map(|set| set.tickets.as_slice())
        .unwrap_or_default();
    let cycle_seconds = (clock.last_at - clock.started_at).num_seconds().max(0);
    CycleMetricsRow {
        portfolio_id: state.id.to_string(),
        cycle: i64::from(clock.cycle),
        account_manager: clock.am.clone(),
        social_ad_specialist: clock.sas.clone(),
        refresh_date: clock.refresh_date,
        started_at: clock.started_at,
        closed_at: closed.map(|(at, _, _)| at),
        outcome: closed.map(|(_, outcome, _)| outcome.to_owned()),
        cycle_seconds,
        client_seconds: clock.client_seconds,
        agency_seconds: cycle_seconds - clock.client_seconds,
        status_seconds: serde_json::to_string(&clock.status_seconds).unwrap_or_default(),
        review_rounds: i64::from(state.cycle.review_round),
        tickets: i64::try_from(tickets.len()).unwrap_or(i64::MAX),
        revision_rounds: tickets.iter().map(|t| i64::from(t.revision_round)).sum(),
        max_ticket_revision_rounds: tickets
            .iter()
            .map(|t| i64::from(t.revision_round))
            .max()
            .unwrap_or(0),
        on_time: closed.and_then(|(_, _, on_time)| on_time),
    }
}

impl Tracked for Timeline {
    fn before(&mut self, state: Option<&Portfolio>, event: &DecodedEvent) {
        let (Some(state), Some(clock)) = (state, self.current.as_mut()) else {
            return;
        };
        let at = event.record.recorded_at;
        let elapsed = (at - clock.last_at).num_seconds().max(0);
        *clock
            .status_seconds
            .entry(clock.bucket.clone())
            .or_default() += elapsed;
        if clock.client {
            clock.client_seconds += elapsed;
        }
        clock.last_at = at;
        let config = self.config.unwrap_or_default();
        let closed = match &event.event {
            Event::RefreshDeclined { .. } => Some(("declined", None)),
            Event::CycleCancelled { .. } => Some(("cancelled", None)),
            // A pause or an end sets the open cycle aside: it closes as such.
            Event::PortfolioPaused { .. } | Event::PortfolioEnded { .. }
                if state.cycle.is_underway() =>
            {
                Some(("set_aside", None))
            }
            Event::CreativesImplemented { .. } => {
                let deadline = clock
                    .refresh_date
                    .checked_add_days(Days::new(config.on_time_days.into()))
                    .unwrap_or(NaiveDate::MAX);
                Some(("implemented", Some(config.calendar.today(at) <= deadline)))
            }
            _ => None,
        };
        if let Some((outcome, on_time)) = closed {
            let row = row(clock, state, Some((at, outcome, on_time)));
            self.closed.push(row);
            self.current = None;
        }
    }

    fn after(&mut self, state: &Portfolio, event: &DecodedEvent) {
        if self.current.is_none() && state.cycle.is_underway() {
            let at = event.record.recorded_at;
            self.current = Some(Clock {
                cycle: state.cycle.number,
                refresh_date: state.refresh_date(),
                am: state.team.account_manager.to_string(),
                sas: state.team.social_ad_specialist.to_string(),
                started_at: at,
                last_at: at,
                bucket: String::new(),
                client: false,
                status_seconds: BTreeMap::new(),
                client_seconds: 0,
            });
        }
        if let Some(clock) = self.current.as_mut() {
            (clock.bucket, clock.client) = bucket(state);
            clock.am = state.team.account_manager.to_string();
            clock.sas = state.team.social_ad_specialist.to_string();
        }
    }

    fn discard_pending(&mut self) {
        self.closed.clear();
    }
}

/// The cycle metrics projection.
#[derive(Debug)]
pub struct CycleMetrics {
    store: Arc<dyn EventStore>,
    config: MetricsConfig,
    fold: Fold,
}

impl CycleMetrics {
    pub fn new(store: Arc<dyn EventStore>, config: MetricsConfig) -> Self {
        Self {
            store,
            config,
            fold: Fold::own(Tracks::timeline(config)),
        }
    }
}

#[async_trait]
impl Projection for CycleMetrics {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &["cycle_metrics"]
    }

    fn fresh(&self) -> Arc<dyn Projection> {
        Arc::new(Self::new(Arc::clone(&self.store), self.config))
    }

    async fn fresh_sharing(&self, fold: &Fold) -> Arc<dyn Projection> {
        fold.track_timeline(self.config).await;
        Arc::new(Self {
            store: Arc::clone(&self.store),
            config: self.config,
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
            let Some(timeline) = entry.tracked.timeline.as_mut() else {
                continue;
            };
            rows.append(&mut timeline.closed);
            if let Some(clock) = &timeline.current {
                rows.push(row(clock, &entry.state, None));
            }
        }
        // Other projections sharing the fold build their rows while these are written.
        drop(fold);
        for chunk in rows.chunks(CHUNK) {
            on_tx!(tx, conn => {
                let mut sql = QueryBuilder::new(format!(
                    "INSERT INTO {table} (generation, portfolio_id, cycle, account_manager, \
                     social_ad_specialist, refresh_date, started_at, closed_at, outcome, \
                     cycle_seconds, client_seconds, agency_seconds, status_seconds, \
                     review_rounds, tickets, revision_rounds, max_ticket_revision_rounds, \
                     on_time) ",
                    table = target.table("cycle_metrics"),
                ));
                sql.push_values(chunk, |mut b, r| {
                    b.push_bind(target.generation)
                        .push_bind(IdText(&r.portfolio_id))
                        .push_bind(r.cycle)
                        .push_bind(IdText(&r.account_manager))
                        .push_bind(IdText(&r.social_ad_specialist))
                        .push_bind(r.refresh_date)
                        .push_bind(r.started_at)
                        .push_bind(r.closed_at)
                        .push_bind(&r.outcome)
                        .push_bind(r.cycle_seconds)
                        .push_bind(r.client_seconds)
                        .push_bind(r.agency_seconds)
                        .push_bind(&r.status_seconds)
                        .push_bind(r.review_rounds)
                        .push_bind(r.tickets)
                        .push_bind(r.revision_rounds)
                        .push_bind(r.max_ticket_revision_rounds)
                        .push_bind(r.on_time);
                });
                sql.push(
                    " ON CONFLICT (generation, portfolio_id, cycle) DO UPDATE SET \
                     account_manager = excluded.account_manager, \
                     social_ad_specialist = excluded.social_ad_specialist, \
                     refresh_date = excluded.refresh_date, started_at = excluded.started_at, \
                     closed_at = excluded.closed_at, outcome = excluded.outcome, \
                     cycle_seconds = excluded.cycle_seconds, \
                     client_seconds = excluded.client_seconds, \
                     agency_seconds = excluded.agency_seconds, \
                     status_seconds = excluded.status_seconds, \
                     review_rounds = excluded.review_rounds, tickets = excluded.tickets, \
                     revision_rounds = excluded.revision_rounds, \
                     max_ticket_revision_rounds = excluded.max_ticket_revision_rounds, \
                     on_time = excluded.on_time",
                );
                sql.build().execute(&mut **conn).await?;
            });
        }
        Ok(())
    }
}

const ACTIVE: &str =
    "generation = (SELECT active FROM projection_generations WHERE name = 'cycle_metrics')";
/// The columns of [`CycleMetricsRow`], ids read as text (see [`crate::ids`]).
const COLUMNS: &str = "CAST(portfolio_id AS TEXT) AS portfolio_id, cycle, \
    CAST(account_manager AS TEXT) AS account_manager, \
    CAST(social_ad_specialist AS TEXT) AS social_ad_specialist, refresh_date, started_at, \
    closed_at, outcome, cycle_seconds, client_seconds, agency_seconds, status_seconds, \
    review_rounds, tickets, revision_rounds, max_ticket_revision_rounds, on_time";

/// Every cycle of `portfolio`, in order.
pub async fn cycles(
    db: &Database,
    portfolio: freshet_domain::PortfolioId,
) -> Result<Vec<CycleMetricsRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM cycle_metrics WHERE {ACTIVE} AND portfolio_id = $1 ORDER BY cycle"
    );
    let rows = on_pool!(db, pool => {
        sqlx::query_as(&sql).bind(DbUuid(portfolio.as_uuid())).fetch_all(pool).await?
    });
    Ok(rows)
}

/// What to aggregate closed cycles by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Portfolio,
    AccountManager,
    SocialAdSpecialist,
}

/// Closed cycles aggregated per portfolio, AM or SAS.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct MetricsSummary {
    /// The portfolio id or the user id.
    pub key: String,
    pub cycles: i64,
    pub implemented: i64,
    pub avg_cycle_seconds: f64,
    pub avg_client_seconds: f64,
    pub avg_agency_seconds: f64,
    pub revision_rounds: i64,
    pub on_time: i64,
    /// On-time cycles of those implemented; `None` if none were.
    pub on_time_rate: Option<f64>,
}

/// Aggregates closed cycles by `group`.
pub async fn summary(db: &Database, group: GroupBy) -> Result<Vec<MetricsSummary>, sqlx::Error> {
    let key = match group {
        GroupBy::Portfolio => "portfolio_id",
        GroupBy::AccountManager => "account_manager",
        GroupBy::SocialAdSpecialist => "social_ad_specialist",
    };
    let sql = format!(
        "SELECT CAST({key} AS TEXT) AS key, COUNT(*) AS cycles, \
         CAST(SUM(CASE WHEN outcome = 'implemented' THEN 1 ELSE 0 END) AS BIGINT) AS implemented, \
         CAST(AVG(cycle_seconds) AS DOUBLE PRECISION) AS avg_cycle_seconds, \
         CAST(AVG(client_seconds) AS DOUBLE PRECISION) AS avg_client_seconds, \
         CAST(AVG(agency_seconds) AS DOUBLE PRECISION) AS avg_agency_seconds, \
         CAST(SUM(revision_rounds) AS BIGINT) AS revision_rounds, \
         CAST(SUM(CASE WHEN on_time THEN 1 ELSE 0 END) AS BIGINT) AS on_time, \
         CAST(NULL AS DOUBLE PRECISION) AS on_time_rate \
         FROM cycle_metrics WHERE {ACTIVE} AND closed_at IS NOT NULL \
         GROUP BY {key} ORDER BY {key}"
    );
    let mut rows: Vec<MetricsSummary> = on_pool!(db, pool => {
        sqlx::query_as(&sql).fetch_all(pool).await?
    });
    for row in &mut rows {
        row.on_time_rate =
            (row.implemented > 0).then(|| row.on_time as f64 / row.implemented as f64);
    }
    Ok(rows)
}
