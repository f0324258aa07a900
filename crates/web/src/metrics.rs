//! Cycle metrics (B3) as charts, with the numbers in tables too: one portfolio's cycles
//! (its team, or Admins: cycle time, client and agency time, time in each status, revision
//! rounds, on-time rate), or closed cycles summed up per portfolio, Account Manager or
//! Social Ad Specialist (Admins, as the API's `GET /metrics/cycles`). From the metrics read
//! model.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use freshet_api::{ApiError, AppState, readable_portfolio};
use freshet_domain::{PortfolioId, RefreshStatus};
use freshet_projections::metrics::{self, CycleMetricsRow, GroupBy, MetricsSummary};
use freshet_projections::portfolios::{self, PortfolioFilter};
use serde::Deserialize;
use uuid::Uuid;

use crate::Viewer;
use crate::chart::Chart;
use crate::listing::status_code;
use crate::page::{error_page, render};
use crate::people::Names;

/// Rows of a summary shown (the first by key).
const MOST_ROWS: usize = 50;
const DAY: f64 = 86_400.0;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct MetricsQuery {
    /// `portfolio`, `am` or `sas`: what a summary is per.
    #[serde(default)]
    by: String,
    /// One portfolio's cycles.
    #[serde(default)]
    portfolio: String,
}

/// A line of a table: its name and its numbers as text.
struct TableRow {
    name: String,
    cells: Vec<String>,
}

struct Table {
    caption: String,
    headings: Vec<&'static str>,
    rows: Vec<TableRow>,
}

#[derive(Template)]
#[template(path = "metrics.html")]
struct MetricsPage {
    person: Option<crate::page::Person>,
    heading: String,
    admin: bool,
    groupings: Vec<(&'static str, &'static str, bool)>,
    /// The viewer's portfolios to pick one from.
    portfolios: Vec<(String, String, bool)>,
    on_time: Option<String>,
    charts: Vec<Chart>,
    tables: Vec<Table>,
    empty: bool,
}

fn days(seconds: f64) -> String {
    format!("{:.1} days", seconds / DAY)
}

fn rate(on_time: i64, implemented: i64) -> Option<String> {
    (implemented > 0).then(|| {
        #[allow(clippy::cast_precision_loss)]
        let percent = on_time as f64 * 100.0 / implemented as f64;
        format!("{percent:.0}% on time ({on_time} of {implemented} implemented)")
    })
}

/// One portfolio's cycles: charts and tables.
fn cycle_view(rows: &[CycleMetricsRow]) -> (Vec<Chart>, Vec<Table>, Option<String>) {
    #[allow(clippy::cast_precision_loss)]
    let seconds = |value: i64| value as f64;
    let label = |row: &CycleMetricsRow| format!("Cycle {}", row.cycle);
    let cycle_time = Chart::new(
        "cycle-time",
        "Cycle time per cycle, in days",
        rows.iter()
            .map(|row| {
                let value = seconds(row.cycle_seconds);
                (label(row), value, days(value), "")
            })
            .collect(),
    );
    let split = Chart::new(
        "client-agency",
        "Client time and agency time per cycle, in days",
        rows.iter()
            .flat_map(|row| {
                let client = seconds(row.client_seconds);
                let agency = seconds(row.agency_seconds);
                [
                    (
                        format!("{} client", label(row)),
                        client,
                        days(client),
                        "client",
                    ),
                    (
                        format!("{} agency", label(row)),
                        agency,
                        days(agency),
                        "agency",
                    ),
                ]
            })
            .collect(),
    );
    let revisions = Chart::new(
        "revisions",
        "Revision rounds per cycle",
        rows.iter()
            .map(|row| {
                #[allow(clippy::cast_precision_loss)]
                let value = row.revision_rounds as f64;
                (label(row), value, row.revision_rounds.to_string(), "")
            })
            .collect(),
    );
    // Time in each status, summed over the cycles.
    let mut per_status: BTreeMap<String, i64> = BTreeMap::new();
    for row in rows {
        let spent: BTreeMap<String, i64> =
            serde_json::from_str(&row.status_seconds).unwrap_or_default();
        for (status, seconds) in spent {
            *per_status.entry(status).or_default() += seconds;
        }
    }
    let status_label = |code: &str| {
        RefreshStatus::ALL
            .into_iter()
            .find(|status| status_code(*status) == code)
            .map_or("Between cycles", RefreshStatus::label)
    };
    let statuses = Chart::new(
        "statuses",
        "Time in each status, all cycles, in days",
        per_status
            .iter()
            .map(|(code, spent)| {
                let value = seconds(*spent);
                (status_label(code).to_owned(), value, days(value), "")
            })
            .collect(),
    );
    let implemented = rows
        .iter()
        .filter(|row| row.outcome.as_deref() == Some("implemented"))
        .count();
    let on_time = rows.iter().filter(|row| row.on_time == Some(true)).count();
    let on_time = rate(
        i64::try_from(on_time).unwrap_or(0),
        i64::try_from(implemented).unwrap_or(0),
    );
    let cycles = Table {
        caption: "Every cycle".to_owned(),
        headings: vec![
            "Cycle time",
            "Client time",
            "Agency time",
            "Revision rounds",
            "Outcome",
            "On time",
        ],
        rows: rows
            .iter()
            .map(|row| TableRow {
                name: label(row),
                cells: vec![
                    days(seconds(row.cycle_seconds)),
                    days(seconds(row.client_seconds)),
                    days(seconds(row.agency_seconds)),
                    row.revision_rounds.to_string(),
                    row.outcome.clone().unwrap_or_else(|| "open".to_owned()),
                    match row.on_time {
                        Some(true) => "yes".to_owned(),
                        Some(false) => "no".to_owned(),
                        None => "—".to_owned(),
                    },
                ],
            })
            .collect(),
    };
    let status_table = Table {
        caption: "Time in each status".to_owned(),
        headings: vec!["Time"],
        rows: per_status
            .iter()
            .map(|(code, spent)| TableRow {
                name: status_label(code).to_owned(),
                cells: vec![days(seconds(*spent))],
            })
            .collect(),
    };
    (
        vec![cycle_time, split, statuses, revisions],
        vec![cycles, status_table],
        on_time,
    )
}

/// Closed cycles per portfolio, AM or SAS: charts and a table.
fn summary_view(rows: &[(String, MetricsSummary)]) -> (Vec<Chart>, Vec<Table>) {
    let bars = |value: fn(&MetricsSummary) -> f64, text: fn(&MetricsSummary) -> String| {
        rows.iter()
            .map(|(name, row)| (name.clone(), value(row), text(row), ""))
            .collect()
    };
    let cycle_time = Chart::new(
        "cycle-time",
        "Average cycle time, in days",
        bars(
            |row| row.avg_cycle_seconds,
            |row| days(row.avg_cycle_seconds),
        ),
    );
    let split = Chart::new(
        "client-agency",
        "Average client time and agency time, in days",
        rows.iter()
            .flat_map(|(name, row)| {
                [
                    (
                        format!("{name} client"),
                        row.avg_client_seconds,
                        days(row.avg_client_seconds),
                        "client",
                    ),
                    (
                        format!("{name} agency"),
                        row.avg_agency_seconds,
                        days(row.avg_agency_seconds),
                        "agency",
                    ),
                ]
            })
            .collect(),
    );
    #[allow(clippy::cast_precision_loss)]
    let revisions = Chart::new(
        "revisions",
        "Revision rounds, all closed cycles",
        bars(
            |row| row.revision_rounds as f64,
            |row| row.revision_rounds.to_string(),
        ),
    );
    let on_time = Chart::new(
        "on-time",
        "On-time rate of implemented cycles, in percent",
        bars(
            |row| row.on_time_rate.unwrap_or(0.0) * 100.0,
            |row| {
                row.on_time_rate.map_or_else(
                    || "none implemented".to_owned(),
                    |r| format!("{:.0}%", r * 100.0),
                )
            },
        ),
    );
    let table = Table {
        caption: "Closed cycles".to_owned(),
        headings: vec![
            "Cycles",
            "Average cycle time",
            "Average client time",
            "Average agency time",
            "Revision rounds",
            "On-time rate",
        ],
        rows: rows
            .iter()
            .map(|(name, row)| TableRow {
                name: name.clone(),
                cells: vec![
                    row.cycles.to_string(),
                    days(row.avg_cycle_seconds),
                    days(row.avg_client_seconds),
                    days(row.avg_agency_seconds),
                    row.revision_rounds.to_string(),
                    rate(row.on_time, row.implemented).unwrap_or_else(|| "—".to_owned()),
                ],
            })
            .collect(),
    };
    (vec![cycle_time, split, revisions, on_time], vec![table])
}

pub(crate) async fn metrics(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<MetricsQuery>,
) -> Response {
    match page(&state, &viewer, &query).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(error) => error_page(&error, viewer.label()),
    }
}

async fn page(
    state: &AppState,
    viewer: &Viewer,
    query: &MetricsQuery,
) -> Result<MetricsPage, ApiError> {
    let admin = viewer.0.is_admin();
    let mine = portfolios::list(
        state.db(),
        &PortfolioFilter {
            member: (!admin).then(|| viewer.0.id()),
            limit: 500,
            ..PortfolioFilter::default()
        },
    )
    .await?;
    let portfolios = mine
        .iter()
        .map(|row| {
            (
                row.portfolio_id.clone(),
                row.client.clone(),
                row.portfolio_id == query.portfolio,
            )
        })
        .collect();
    let group = match query.by.as_str() {
        "" if query.portfolio.is_empty() && admin => Some(GroupBy::Portfolio),
        "" => None,
        "portfolio" => Some(GroupBy::Portfolio),
        "am" => Some(GroupBy::AccountManager),
        "sas" => Some(GroupBy::SocialAdSpecialist),
        other => {
            return Err(ApiError::malformed(
                "invalid-query",
                format!("metrics are per portfolio, am or sas, not \"{other}\""),
            ));
        }
    };
    let groupings = [
        ("portfolio", "Per portfolio"),
        ("am", "Per Account Manager"),
        ("sas", "Per Social Ad Specialist"),
    ]
    .map(|(code, text)| (code, text, group.is_some() && query.by.as_str() == code))
    .into();
    let mut view = MetricsPage {
        person: viewer.label(),
        heading: "Metrics".to_owned(),
        admin,
        groupings,
        portfolios,
        on_time: None,
        charts: Vec::new(),
        tables: Vec::new(),
        empty: false,
    };
    if !query.portfolio.is_empty() {
        let id: Uuid = query.portfolio.parse().map_err(|_| {
            ApiError::malformed("invalid-query", "choose a portfolio from the list")
        })?;
        let id = PortfolioId::from_uuid(id);
        let portfolio = readable_portfolio(state, &viewer.0, id).await?;
        let rows = metrics::cycles(state.db(), id).await?;
        view.heading = format!("Metrics of {}", portfolio.client);
        view.empty = rows.is_empty();
        let (charts, tables, on_time) = cycle_view(&rows);
        (view.charts, view.tables, view.on_time) = (charts, tables, on_time);
    } else if let Some(group) = group {
        viewer.0.require_admin("see metrics across portfolios")?;
        let names = Names::load(state).await?;
        let clients: BTreeMap<&str, &str> = mine
            .iter()
            .map(|row| (row.portfolio_id.as_str(), row.client.as_str()))
            .collect();
        let rows: Vec<(String, MetricsSummary)> = metrics::summary(state.db(), group)
            .await?
            .into_iter()
            .take(MOST_ROWS)
            .map(|row| {
                let name = match group {
                    GroupBy::Portfolio => clients
                        .get(row.key.as_str())
                        .map_or_else(|| row.key.clone(), |client| (*client).to_owned()),
                    _ => names.of(&row.key),
                };
                (name, row)
            })
            .collect();
        view.empty = rows.is_empty();
        (view.charts, view.tables) = summary_view(&rows);
        view.heading = match group {
            GroupBy::Portfolio => "Metrics per portfolio",
            GroupBy::AccountManager => "Metrics per Account Manager",
            GroupBy::SocialAdSpecialist => "Metrics per Social Ad Specialist",
        }
        .to_owned();
    }
    Ok(view)
}
