//! The actions a person takes from a page: one form each, offered only when the domain
//! would accept it from this person now (the same `decide` the command will run, B4), and
//! sent through the same `CommandService` as the API. Each form carries an idempotency key
//! made when the page was drawn, so a form posted twice (a double click, a resent POST)
//! does the thing once (B5). A refusal shows the problem's sentence next to the form, with
//! what the person typed kept.

mod catalog;
mod form;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use freshet_api::{ApiError, AppState};
use freshet_domain::{PortfolioId, TaskId, TicketId};
use freshet_mail::links::path;
use freshet_service::CommandRequest;
use serde::Deserialize;
use uuid::Uuid;

use crate::Viewer;
use crate::page::{error_page, sentence};
use crate::portfolio::show_portfolio;
use crate::ticket::show_ticket;

pub(crate) use catalog::{Action, Scope, Target, Typed};
pub(crate) use form::{ActionView, Failed, Origin, forms, offered};

/// The read models the pages an action leads to read (My work, the portfolios list).
pub(crate) const PAGES_READ: [&str; 2] = [
    freshet_projections::inbox::NAME,
    freshet_projections::portfolios::NAME,
];

/// What an action's form posts.
#[derive(Deserialize)]
pub(crate) struct ActionForm {
    /// Made when the page was drawn: the same form posted twice counts once.
    key: Uuid,
    ticket: Option<Uuid>,
    task: Option<Uuid>,
    /// `work` when posted from My work, which is where the person goes back to.
    from: Option<String>,
    #[serde(flatten)]
    typed: Typed,
}

pub(crate) async fn act(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, slug)): Path<(Uuid, String)>,
    Form(form): Form<ActionForm>,
) -> Response {
    let Some(action) = Action::parse(&slug) else {
        let unknown = ApiError::NotFound(format!("there is no action \"{slug}\""));
        return error_page(&unknown, viewer.label());
    };
    let portfolio = PortfolioId::from_uuid(id);
    let target = Target {
        ticket: form.ticket.map(TicketId::from_uuid),
        task: form.task.map(TaskId::from_uuid),
    };
    let refuse = |problem: String| Failed {
        action,
        target,
        problem: sentence(&problem),
        typed: form.typed.clone(),
    };
    // A ticket this action creates is named by the form's key: a resent form names the
    // same ticket, so the service sees the same request and answers it once.
    let command = match action.command(target, &form.typed, TicketId::from_uuid(form.key)) {
        Ok(command) => command,
        Err(problem) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return refused(&state, &viewer, portfolio, refuse(problem), status).await;
        }
    };
    let request = CommandRequest::new(portfolio, command, viewer.0.actor())
        .with_idempotency_key(format!("web:{}", form.key));
    match state.service().execute(request).await {
        Ok(outcome) => {
            // Read-your-writes: the page this leads to shows the change (within the
            // server's consistency timeout; past it, the page's live updates catch up).
            if let Some(position) = outcome.result.last_position() {
                state.read_side_caught_up(&PAGES_READ, position).await;
            }
            let page = match (form.from.as_deref(), action.scope(), target.ticket) {
                (Some("work"), _, _) => "/app/".to_owned(),
                (_, Scope::Ticket, Some(ticket)) => path::ticket(portfolio, ticket),
                _ => path::portfolio(portfolio),
            };
            Redirect::to(&format!("{page}?done={}", action.slug())).into_response()
        }
        Err(error) => {
            let error = ApiError::from(error);
            let status = error.classify().0;
            if status.is_server_error() || status == StatusCode::NOT_FOUND {
                return error_page(&error, viewer.label());
            }
            let problem = refuse(error.problem().detail);
            refused(&state, &viewer, portfolio, problem, status).await
        }
    }
}

/// The page the action belongs to again, with the problem next to its form and what was
/// typed kept.
async fn refused(
    state: &AppState,
    viewer: &Viewer,
    portfolio: PortfolioId,
    failed: Failed,
    status: StatusCode,
) -> Response {
    match (failed.action.scope(), failed.target.ticket) {
        (Scope::Ticket, Some(ticket)) => {
            show_ticket(state, viewer, portfolio, ticket, status, None, Some(failed)).await
        }
        _ => show_portfolio(state, viewer, portfolio, status, None, Some(failed)).await,
    }
}

/// The sentence a page shows after `?done=<slug>`.
pub(crate) fn done_notice(done: Option<&str>) -> Option<&'static str> {
    done.and_then(Action::parse).map(|action| match action {
        Action::CompleteTask => "Task done.",
        Action::Note | Action::TicketNote => "Note logged.",
        _ => "Done.",
    })
}
