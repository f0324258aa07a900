//! The export for the agency's own reporting: portfolios and tickets as CSV, one header per
//! column in the process documents' words, values as a spreadsheet shows them (labels, not
//! codes; dates as `2026-03-01`; people by name).

use freshet_domain::{Approval, RefreshStatus, RevisionKind, TicketStatus};
use freshet_projections::board::BoardTicket;
use freshet_projections::metrics::CycleMetricsRow;
use freshet_projections::portfolios::PortfolioRow;
use serde::de::DeserializeOwned;

use std::collections::BTreeMap;

use freshet_domain::{PortfolioId, UserId};
use freshet_projections::portfolios::{self, PortfolioFilter};
use freshet_projections::{board, metrics};
use freshet_store::Database;

use crate::error::ImportError;

/// Rows read per query when the whole listing is exported.
const PAGE: u32 = 500;

/// `portfolios.csv`: every portfolio `member` is on the team of (all when `None`: an
/// Admin), by client, with its current cycle's metrics and its people by name.
pub async fn portfolios_sheet(
    db: &Database,
    member: Option<UserId>,
) -> Result<String, ImportError> {
    let names: BTreeMap<String, String> = freshet_accounts::users::list(db)
        .await?
        .into_iter()
        .map(|user| {
            (
                user.id.to_string(),
                format!("{} <{}>", user.name, user.email),
            )
        })
        .collect();
    let mut rows = Vec::new();
    let mut after = None;
    loop {
        let filter = PortfolioFilter {
            member,
            after,
            limit: PAGE,
            offset: 0,
        };
        let page = portfolios::list(db, &filter).await?;
        let full = page.len() >= PAGE as usize;
        after = page
            .last()
            .and_then(|row| row.portfolio_id.parse::<PortfolioId>().ok());
        for row in page {
            let cycle = match row.portfolio_id.parse::<PortfolioId>() {
                Ok(id) => metrics::cycles(db, id)
                    .await?
                    .into_iter()
                    .find(|m| m.cycle == row.cycle),
                Err(_) => None,
            };
            rows.push((row, cycle));
        }
        if !full || after.is_none() {
            break;
        }
    }
    portfolios_csv(&rows, |id| {
        names.get(id).cloned().unwrap_or_else(|| id.to_owned())
    })
}

/// `tickets.csv` of one portfolio: its tickets of every cycle, in Ad Set order.
pub async fn tickets_sheet(db: &Database, portfolio: PortfolioId) -> Result<String, ImportError> {
    tickets_csv(&board::tickets(db, portfolio, None).await?)
}

pub const PORTFOLIO_COLUMNS: [&str; 24] = [
    "Portfolio ID",
    "Client Name",
    "Creative Refresh Status",
    "Creative Refresh Date",
    "Creative Refresh Cadence",
    "Cycle",
    "Deliverable Folder Name",
    "Number of Deliverables In This Ad Set",
    "Tickets Created",
    "Tickets In Progress",
    "Tickets Pending Approval",
    "Tickets Completed",
    "Account Manager",
    "Social Ad Specialist",
    "Copywriter",
    "Graphic Designer",
    "Team Lead",
    "Most Recent Ad Lab Link",
    "Cycle Started",
    "Cycle Days",
    "Days With Client",
    "Review Rounds",
    "Revision Rounds",
    "On Time",
];

pub const TICKET_COLUMNS: [&str; 11] = [
    "Ticket ID",
    "Portfolio ID",
    "Cycle",
    "Ticket name",
    "Deliverable Folder Name",
    "Number of Deliverables In This Ad Set",
    "Ticket status",
    "Copy Approval",
    "Graphic Approval",
    "Needs Revisions",
    "Revision Round",
];

/// A code as stored in a read model (`pending_approval`) to its label.
fn label_of<T: DeserializeOwned>(code: &str, label: impl Fn(T) -> &'static str) -> String {
    serde_json::from_value::<T>(serde_json::Value::String(code.to_owned()))
        .map_or_else(|_| code.to_owned(), |value| label(value).to_owned())
}

fn days(seconds: i64) -> String {
    format!("{:.1}", seconds as f64 / 86_400.0)
}

/// `portfolios` with, for each, its current cycle's metrics if any; `person` names a
/// team member from their id.
pub fn portfolios_csv(
    portfolios: &[(PortfolioRow, Option<CycleMetricsRow>)],
    person: impl Fn(&str) -> String,
) -> Result<String, ImportError> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| ImportError::Write(e.to_string());
    out.write_record(PORTFOLIO_COLUMNS).map_err(failed)?;
    for (row, metrics) in portfolios {
        let status = row
            .status
            .as_deref()
            .map(|code| label_of::<RefreshStatus>(code, RefreshStatus::label))
            .unwrap_or_default();
        let number = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
        let m = metrics.as_ref();
        out.write_record([
            row.portfolio_id.clone(),
            row.client.clone(),
            status,
            row.refresh_date.to_string(),
            format!("{} {}", row.cadence_every, row.cadence_unit),
            row.cycle.to_string(),
            row.ad_set_folder.clone().unwrap_or_default(),
            number(row.deliverables),
            row.tickets_created.to_string(),
            row.tickets_in_progress.to_string(),
            row.tickets_pending.to_string(),
            row.tickets_completed.to_string(),
            person(&row.account_manager),
            person(&row.social_ad_specialist),
            person(&row.copywriter),
            person(&row.designer),
            person(&row.team_lead),
            row.ad_lab_link.clone().unwrap_or_default(),
            m.map(|m| m.started_at.date_naive().to_string())
                .unwrap_or_default(),
            m.map(|m| days(m.cycle_seconds)).unwrap_or_default(),
            m.map(|m| days(m.client_seconds)).unwrap_or_default(),
            number(m.map(|m| m.review_rounds)),
            number(m.map(|m| m.revision_rounds)),
            m.and_then(|m| m.on_time)
                .map(|on_time| if on_time { "Yes" } else { "No" }.to_owned())
                .unwrap_or_default(),
        ])
        .map_err(failed)?;
    }
    finish(out)
}

pub fn tickets_csv(tickets: &[BoardTicket]) -> Result<String, ImportError> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| ImportError::Write(e.to_string());
    out.write_record(TICKET_COLUMNS).map_err(failed)?;
    for t in tickets {
        out.write_record([
            t.ticket_id.clone(),
            t.portfolio_id.clone(),
            t.cycle.to_string(),
            t.title.clone(),
            t.folder.clone(),
            t.deliverables.to_string(),
            label_of::<TicketStatus>(&t.status, TicketStatus::label),
            label_of::<Approval>(&t.copy_approval, Approval::label),
            label_of::<Approval>(&t.graphic_approval, Approval::label),
            t.needs_revisions
                .as_deref()
                .map(|code| label_of::<RevisionKind>(code, RevisionKind::label))
                .unwrap_or_default(),
            t.revision_round.to_string(),
        ])
        .map_err(failed)?;
    }
    finish(out)
}

fn finish(out: csv::Writer<Vec<u8>>) -> Result<String, ImportError> {
    let bytes = out
        .into_inner()
        .map_err(|e| ImportError::Write(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| ImportError::Write(e.to_string()))
}
