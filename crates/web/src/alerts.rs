//! Stall alerts (B1) for Team Leads and Admins: every gate whose deadline passed, how late,
//! and whose move it is. How late counts from the day the alert was raised (the scheduler
//! ticks daily, so that is the day after the missed deadline). An Admin sees every open alert; a Team Lead those of the teams they
//! lead (the alerts the domain put in their inbox). Anyone else is answered like a page
//! that does not exist.

use std::collections::{BTreeSet, HashMap};

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use freshet_api::{ApiError, AppState};
use freshet_domain::{PortfolioId, Role, StallGate};
use freshet_projections::inbox::{self, InboxFilter};
use freshet_projections::portfolios::{self, PortfolioRow};

use crate::Viewer;
use crate::listing::sees_alerts;
use crate::page::{Message, error_page, render};
use crate::people::Names;
use freshet_mail::links::path;

/// More open alerts than a page lists.
const MOST_ALERTS: u32 = 500;

struct Alert {
    client: String,
    href: String,
    gate: &'static str,
    since: String,
    late: String,
    /// The role and person who must act.
    move_of: String,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    person: Option<crate::page::Person>,
    alerts: Vec<Alert>,
}

/// The gate of a stall alert's kind code (`stall_alert:client_review`).
fn gate(kind: &str) -> Option<StallGate> {
    let code = kind.strip_prefix("stall_alert:")?;
    serde_json::from_value(serde_json::Value::String(code.to_owned())).ok()
}

/// The person of `role` on the portfolio's team.
fn member(row: &PortfolioRow, role: Role) -> &str {
    match role {
        Role::AccountManager => &row.account_manager,
        Role::SocialAdSpecialist => &row.social_ad_specialist,
        Role::Copywriter => &row.copywriter,
        Role::Designer => &row.designer,
        Role::TeamLead => &row.team_lead,
    }
}

pub(crate) async fn alerts(State(state): State<AppState>, viewer: Viewer) -> Response {
    match sees_alerts(&state, &viewer).await {
        Ok(true) => {}
        Ok(false) => {
            return Message {
                person: viewer.label(),
                heading: "Not found",
                text: "There is no page at this address.".into(),
                link: Some(("/app/", "Go to My work")),
            }
            .page(StatusCode::NOT_FOUND);
        }
        Err(error) => return error_page(&error, viewer.label()),
    }
    match list(&state, &viewer).await {
        Ok(alerts) => render(
            StatusCode::OK,
            &AlertsPage {
                person: viewer.label(),
                alerts,
            },
        ),
        Err(error) => error_page(&error, viewer.label()),
    }
}

async fn list(state: &AppState, viewer: &Viewer) -> Result<Vec<Alert>, ApiError> {
    let filter = InboxFilter {
        assignee: (!viewer.0.is_admin()).then(|| viewer.0.id()),
        open: Some(true),
        alerts_only: true,
        limit: MOST_ALERTS,
        ..InboxFilter::default()
    };
    let tasks = inbox::list(state.db(), &filter).await?;
    let names = Names::load(state).await?;
    let today = state.today();
    // The responsible person's alert and the Team Lead's are one stalled gate.
    let mut seen = BTreeSet::new();
    let tasks: Vec<_> = tasks
        .into_iter()
        .filter(|task| {
            seen.insert((
                task.portfolio_id.clone(),
                task.kind.clone(),
                task.cycle,
                task.round,
            ))
        })
        .filter_map(|task| Some((gate(&task.kind)?, task)))
        .collect();
    let ids = tasks
        .iter()
        .map(|(_, task)| task.portfolio_id.parse::<PortfolioId>())
        .collect::<Result<BTreeSet<_>, _>>()
        .map_err(|_| ApiError::internal("a portfolio id in the inbox is not one"))?;
    let ids: Vec<_> = ids.into_iter().collect();
    // By id as text: the read models give every id the same text form (`ids`).
    let rows: HashMap<String, PortfolioRow> = portfolios::get_many(state.db(), &ids)
        .await?
        .into_iter()
        .map(|row| (row.portfolio_id.clone(), row))
        .collect();
    let mut alerts = Vec::new();
    for (gate, task) in tasks {
        let role = gate.responsible();
        let move_of = match rows.get(&task.portfolio_id) {
            Some(row) => format!("{} ({role})", names.of(member(row, role))),
            None => role.to_string(),
        };
        let days = task.due_on.map_or(0, |due| (today - due).num_days().max(0));
        alerts.push(Alert {
            client: task.client.clone(),
            href: path::portfolio(&task.portfolio_id),
            gate: gate.describe(),
            since: task
                .due_on
                .map_or_else(String::new, |due| due.format("%a, %b %-d, %Y").to_string()),
            late: match days {
                0 => "Raised today".to_owned(),
                1 => "1 day".to_owned(),
                days => format!("{days} days"),
            },
            move_of,
        });
    }
    Ok(alerts)
}
