//! The Admin pages under `/app/admin/`: people (invite, invite again, deactivate),
//! portfolios (create, team, schedule, pause, resume, end, cancel a cycle), the projections
//! (status and rebuild) and the email outbox (failed messages and their retry).
//!
//! Only Admins reach them: anyone else gets the same page as an address that does not
//! exist, so the pages do not even tell that they are there. Domain commands go through
//! the same `CommandService` as the API, as the signed-in Admin (B4), each form with an
//! idempotency key made when the page was drawn (posted twice, done once, B5).

mod outbox;
mod people;
mod portfolio;
mod projections;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::{get, post};
use freshet_api::{ApiError, AppState};
use freshet_domain::{Command, PortfolioId};
use freshet_service::CommandRequest;
use uuid::Uuid;

use crate::Viewer;
use crate::page::{self, error_page};

/// The Admin pages' routes, to merge into the app's.
pub(crate) fn pages() -> Router<AppState> {
    Router::new()
        .route("/app/admin", get(to_people))
        .route("/app/admin/", get(to_people))
        .route("/app/admin/people", get(people::page).post(people::invite))
        .route(
            "/app/admin/people/{id}/invitation",
            post(people::invite_again),
        )
        .route(
            "/app/admin/people/{id}/deactivate",
            get(people::confirm_deactivation).post(people::deactivate),
        )
        .route("/app/admin/portfolios", get(portfolio::list))
        .route(
            "/app/admin/portfolios/new",
            get(portfolio::new_form).post(portfolio::create),
        )
        .route("/app/admin/portfolios/{id}", get(portfolio::page))
        .route("/app/admin/portfolios/{id}/{action}", post(portfolio::act))
        .route("/app/admin/projections", get(projections::page))
        .route(
            "/app/admin/projections/{name}/rebuild",
            post(projections::rebuild),
        )
        .route("/app/admin/outbox", get(outbox::page))
        .route("/app/admin/outbox/{id}/retry", post(outbox::retry))
}

/// The Admin pages' first page (for an Admin only: to anyone else, no such address).
async fn to_people(_: Admin) -> axum::response::Redirect {
    axum::response::Redirect::to("/app/admin/people")
}

/// A signed-in Admin. Anyone else signed in gets the page of an address that does not
/// exist; someone signed out goes to the sign-in page, as for every page.
pub(crate) struct Admin(pub Viewer);

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let viewer = Viewer::from_request_parts(parts, state).await?;
        if viewer.0.is_admin() {
            Ok(Self(viewer))
        } else {
            Err(page::not_found().await)
        }
    }
}

/// What a page was redirected with after a form did its thing (`?done=invited`).
#[derive(serde::Deserialize)]
pub(crate) struct Done {
    pub done: Option<String>,
}

/// Why a form did not do its thing: a sentence to show next to it (the page is drawn
/// again with what was typed), or a page of its own (not found, a server error).
pub(crate) enum Refusal {
    Sentence(String),
    Page(Box<Response>),
}

impl Refusal {
    /// The error as the person should see it: its problem's sentence next to the form,
    /// unless the thing is gone or the server failed.
    fn of(error: ApiError, admin: &Admin) -> Self {
        let status = error.classify().0;
        if status.is_server_error() || status == StatusCode::NOT_FOUND {
            Refusal::Page(Box::new(error_page(&error, admin.0.label())))
        } else {
            Refusal::Sentence(page::sentence(&error.problem().detail))
        }
    }

    /// A value that did not parse: its sentence.
    fn invalid(error: impl Into<ApiError>) -> Self {
        Refusal::Sentence(page::sentence(&error.into().problem().detail))
    }
}

/// Runs `command` on `portfolio` as the Admin, through the same service as the API, with
/// the form's idempotency key (the same form posted twice counts once, B5).
async fn run(
    state: &AppState,
    admin: &Admin,
    portfolio: PortfolioId,
    command: Command,
    key: Uuid,
) -> Result<(), Refusal> {
    let request = CommandRequest::new(portfolio, command, admin.0.0.actor())
        .with_idempotency_key(format!("web:{key}"));
    match state.service().execute(request).await {
        Ok(outcome) => {
            // Read-your-writes: the lists the Admin goes back to show the change.
            if let Some(position) = outcome.result.last_position() {
                state
                    .read_side_caught_up(&crate::actions::PAGES_READ, position)
                    .await;
            }
            Ok(())
        }
        Err(error) => Err(Refusal::of(ApiError::from(error), admin)),
    }
}

/// "Dec 7, 2026, 02:40 UTC": when something happened, to the minute.
fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%b %-d, %Y, %H:%M UTC").to_string()
}
