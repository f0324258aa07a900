//! A portfolio and a ticket, as far as the signed-in person may see them (their team's, or
//! every one for an Admin; others are answered like a portfolio that does not exist).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use freshet_api::{ApiError, AppState, readable_portfolio};
use freshet_domain::{Portfolio, PortfolioId, TicketId};
use freshet_projections::inbox::{self, InboxFilter};
use uuid::Uuid;

use crate::Viewer;
use crate::page::{error_page, render};
use crate::tasks::TaskLine;
use freshet_mail::links::path;

struct TicketRow {
    title: String,
    status: &'static str,
    copy: &'static str,
    graphics: &'static str,
    href: String,
}

#[derive(Template)]
#[template(path = "portfolio.html")]
struct PortfolioPage {
    person: Option<String>,
    client: String,
    status: &'static str,
    refresh_date: String,
    cadence: String,
    am_note: Option<String>,
    ad_lab_link: Option<String>,
    tasks: Vec<TaskLine>,
    tickets: Vec<TicketRow>,
}

#[derive(Template)]
#[template(path = "ticket.html")]
struct TicketPage {
    person: Option<String>,
    client: String,
    portfolio_href: String,
    title: String,
    status: &'static str,
    copy: &'static str,
    graphics: &'static str,
    needs_revisions: Option<&'static str>,
    tasks: Vec<TaskLine>,
}

async fn load(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
) -> Result<(Portfolio, Vec<TaskLine>), ApiError> {
    let id = PortfolioId::from_uuid(id);
    let portfolio = readable_portfolio(state, &viewer.0, id).await?;
    let filter = InboxFilter {
        assignee: Some(viewer.0.id()),
        portfolio: Some(id),
        open: Some(true),
        limit: 500,
        ..InboxFilter::default()
    };
    let today = state.today();
    let tasks = inbox::list(state.db(), &filter)
        .await?
        .iter()
        .map(|task| TaskLine::new(task, today))
        .collect();
    Ok((portfolio, tasks))
}

pub(crate) async fn portfolio(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Uuid>,
) -> Response {
    let (portfolio, tasks) = match load(&state, &viewer, id).await {
        Ok(found) => found,
        Err(error) => return error_page(&error, viewer.label()),
    };
    let id = portfolio.id.to_string();
    let tickets = portfolio
        .ad_sets
        .get(&portfolio.cycle.number)
        .map(|set| {
            set.tickets
                .iter()
                .map(|ticket| TicketRow {
                    title: ticket.title.to_string(),
                    status: ticket.status.label(),
                    copy: ticket.copy.label(),
                    graphics: ticket.graphic.label(),
                    href: path::ticket(&id, ticket.id),
                })
                .collect()
        })
        .unwrap_or_default();
    render(
        StatusCode::OK,
        &PortfolioPage {
            person: viewer.label(),
            client: portfolio.client.to_string(),
            status: portfolio
                .cycle
                .status
                .map_or("No Refresh Requested", |status| status.label()),
            refresh_date: portfolio
                .refresh_date()
                .format("%A, %B %-d, %Y")
                .to_string(),
            cadence: portfolio.schedule.cadence.to_string(),
            am_note: portfolio.am_note.as_ref().map(|note| note.text.to_string()),
            ad_lab_link: portfolio.ad_lab_link.as_ref().map(ToString::to_string),
            tasks,
            tickets,
        },
    )
}

pub(crate) async fn ticket(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, ticket)): Path<(Uuid, Uuid)>,
) -> Response {
    let (portfolio, tasks) = match load(&state, &viewer, id).await {
        Ok(found) => found,
        Err(error) => return error_page(&error, viewer.label()),
    };
    let ticket_id = TicketId::from_uuid(ticket);
    let found = portfolio
        .ad_sets
        .values()
        .flat_map(|set| set.tickets.iter().chain(&set.withdrawn))
        .find(|ticket| ticket.id == ticket_id);
    let Some(ticket) = found else {
        let missing = ApiError::NotFound(format!("no ticket {ticket_id} in this portfolio"));
        return error_page(&missing, viewer.label());
    };
    let title = ticket.title.to_string();
    let ticket_key = ticket_id.to_string();
    let tasks = tasks
        .into_iter()
        .filter(|task| task.ticket_id.as_deref() == Some(ticket_key.as_str()))
        .collect();
    render(
        StatusCode::OK,
        &TicketPage {
            person: viewer.label(),
            client: portfolio.client.to_string(),
            portfolio_href: path::portfolio(portfolio.id),
            title,
            status: ticket.status.label(),
            copy: ticket.copy.label(),
            graphics: ticket.graphic.label(),
            needs_revisions: ticket.needs_revisions.map(|kind| kind.label()),
            tasks,
        },
    )
}
