//! A ticket's page: its status and approvals, my tasks on it, the actions I may take on it
//! now, its Notes thread (R21: questions between the Creative Team and the SAS) and its
//! review and revision history.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use freshet_api::{ApiError, AppState};
use freshet_domain::{PortfolioId, TicketId};
use freshet_mail::links::path;
use uuid::Uuid;

use crate::Viewer;
use crate::actions::{ActionView, Failed, Scope, Target, Typed, done_notice, forms};
use crate::page::{error_page, render};
use crate::portfolio::{Done, TaskItem, load_with_record, task_items};
use crate::record::{NoteLine, ReviewLine};

#[derive(Template)]
#[template(path = "ticket.html")]
struct TicketPage {
    person: Option<crate::page::Person>,
    notice: Option<&'static str>,
    client: String,
    portfolio_href: String,
    title: String,
    status: &'static str,
    copy: &'static str,
    graphics: &'static str,
    needs_revisions: Option<&'static str>,
    revision_round: u32,
    folder: String,
    deliverables: String,
    withdrawn: bool,
    tasks: Vec<TaskItem>,
    actions: Vec<ActionView>,
    notes: Vec<NoteLine>,
    review: Vec<ReviewLine>,
}

pub(crate) async fn ticket(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, ticket)): Path<(Uuid, Uuid)>,
    Query(done): Query<Done>,
) -> Response {
    let notice = done_notice(done.done.as_deref());
    let (id, ticket) = (PortfolioId::from_uuid(id), TicketId::from_uuid(ticket));
    show_ticket(&state, &viewer, id, ticket, StatusCode::OK, notice, None).await
}

/// The ticket's page with `status`, perhaps a notice, perhaps an action just refused.
pub(crate) async fn show_ticket(
    state: &AppState,
    viewer: &Viewer,
    id: PortfolioId,
    ticket_id: TicketId,
    status: StatusCode,
    notice: Option<&'static str>,
    failed: Option<Failed>,
) -> Response {
    let (portfolio, tasks, record) = match load_with_record(state, viewer, id).await {
        Ok(loaded) => loaded,
        Err(error) => return error_page(&error, viewer.label()),
    };
    let found = portfolio.ad_sets.values().find_map(|set| {
        let live = set.tickets.iter().find(|t| t.id == ticket_id);
        let withdrawn = set.withdrawn.iter().find(|t| t.id == ticket_id);
        live.map(|t| (set, t, false))
            .or_else(|| withdrawn.map(|t| (set, t, true)))
    });
    let Some((set, ticket, withdrawn)) = found else {
        let missing = ApiError::NotFound(format!("no ticket {ticket_id} in this portfolio"));
        return error_page(&missing, viewer.label());
    };
    let ticket_key = ticket_id.to_string();
    let tasks = tasks
        .into_iter()
        .filter(|task| task.ticket_id.as_deref() == Some(ticket_key.as_str()))
        .collect();
    let failed = failed.as_ref();
    let target = Target {
        ticket: Some(ticket_id),
        task: None,
    };
    let page = TicketPage {
        person: viewer.label(),
        notice,
        client: portfolio.client.to_string(),
        portfolio_href: path::portfolio(id),
        title: ticket.title.to_string(),
        status: ticket.status.label(),
        copy: ticket.copy.label(),
        graphics: ticket.graphic.label(),
        needs_revisions: ticket.needs_revisions.map(|kind| kind.label()),
        revision_round: ticket.revision_round,
        folder: set.folder.to_string(),
        deliverables: set.deliverables.to_string(),
        withdrawn,
        tasks: task_items(state, viewer, &portfolio, tasks, failed),
        actions: forms(
            state,
            viewer,
            &portfolio,
            Scope::Ticket,
            target,
            failed,
            &Typed {
                title: ticket.title.to_string(),
                ..Typed::default()
            },
        ),
        notes: record.ticket_notes(ticket_id),
        review: record.ticket_review(ticket_id),
    };
    render(status, &page)
}
