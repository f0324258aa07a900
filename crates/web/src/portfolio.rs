//! A portfolio and a ticket, as far as the signed-in person may see them (their team's, or
//! every one for an Admin; others are answered like a portfolio that does not exist).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use freshet_api::{ApiError, AppState, readable_portfolio};
use freshet_domain::{Portfolio, PortfolioId, TicketId};
use freshet_projections::inbox::{self, InboxFilter};
use uuid::Uuid;

use crate::Viewer;
use crate::actions::{Action, NoteField};
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

/// An action's form as the page draws it.
struct ActionView {
    slug: &'static str,
    label: &'static str,
    href: String,
    /// A fresh idempotency key: one drawing of the form is one intent.
    key: Uuid,
    /// `none`, `optional` or `required`.
    note: &'static str,
    typed: String,
    problem: Option<String>,
}

/// An action that was just refused: its problem and what was typed.
pub(crate) struct Failed {
    pub action: Action,
    pub problem: String,
    pub typed: String,
}

#[derive(Template)]
#[template(path = "portfolio.html")]
struct PortfolioPage {
    person: Option<crate::page::Person>,
    notice: Option<&'static str>,
    actions: Vec<ActionView>,
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
    person: Option<crate::page::Person>,
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

#[derive(serde::Deserialize)]
pub(crate) struct Done {
    done: Option<String>,
}

pub(crate) async fn portfolio(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Uuid>,
    Query(done): Query<Done>,
) -> Response {
    show(
        &state,
        &viewer,
        id,
        StatusCode::OK,
        done.done.as_deref(),
        None,
    )
    .await
}

/// The portfolio's page: its facts, my tasks, the actions I may take now (one of them
/// perhaps just refused), and its Ad Set.
pub(crate) async fn show(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    status: StatusCode,
    done: Option<&str>,
    failed: Option<Failed>,
) -> Response {
    let (portfolio, tasks) = match load(state, viewer, id).await {
        Ok(found) => found,
        Err(error) => return error_page(&error, viewer.label()),
    };
    let id = portfolio.id.to_string();
    let actions = Action::ALL
        .into_iter()
        .filter(|action| {
            failed
                .as_ref()
                .is_some_and(|failed| failed.action == *action)
                || action.offered(state, viewer, &portfolio)
        })
        .map(|action| {
            let failed = failed.as_ref().filter(|failed| failed.action == action);
            ActionView {
                slug: action.slug(),
                label: action.label(),
                href: format!("{}/actions/{}", path::portfolio(&id), action.slug()),
                key: Uuid::new_v4(),
                note: match action.note() {
                    NoteField::None => "none",
                    NoteField::Optional => "optional",
                    NoteField::Required => "required",
                },
                typed: failed
                    .map(|failed| failed.typed.clone())
                    .unwrap_or_default(),
                problem: failed.map(|failed| failed.problem.clone()),
            }
        })
        .collect();
    let notice = done.and_then(|slug| {
        Action::ALL
            .into_iter()
            .find(|action| action.slug() == slug)
            .map(|_| "Done.")
    });
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
        status,
        &PortfolioPage {
            person: viewer.label(),
            notice,
            actions,
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
