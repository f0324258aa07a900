#![doc = include_str!("../README.md")]

mod page;
mod passwords;
mod paths;
mod portfolio;
mod settings;
mod sign_in;
mod tasks;
mod viewer;
mod work;

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue};
use axum::routing::{get, post};
use freshet_api::AppState;

pub use viewer::Viewer;

/// Where the pages live: every page path starts with it.
pub const PREFIX: &str = "/app";

/// The pages, to merge into the API's router (`freshet_api::router_with`).
pub fn pages() -> Router<AppState> {
    let pages = Router::new()
        .route("/", get(work::my_work))
        .route("/sign-in", get(sign_in::form).post(sign_in::sign_in))
        .route("/sign-out", post(sign_in::sign_out))
        .route(
            "/invitation/{secret}",
            get(passwords::invitation_form).post(passwords::accept_invitation),
        )
        .route(
            "/password-reset",
            get(passwords::reset_request_form).post(passwords::request_reset),
        )
        .route(
            "/password-reset/{secret}",
            get(passwords::reset_form).post(passwords::reset),
        )
        .route("/settings", get(settings::page))
        .route("/settings/password", post(settings::change_password))
        .route("/settings/digest", post(settings::set_digest))
        .route("/portfolios/{id}", get(portfolio::portfolio))
        .route("/portfolios/{id}/tickets/{ticket}", get(portfolio::ticket))
        .route("/static/app.css", get(stylesheet))
        .fallback(page::not_found)
        .layer(axum::middleware::map_response(page::security_headers));
    Router::new()
        .nest(PREFIX, pages)
        .route(PREFIX, get(|| async { axum::response::Redirect::permanent("/app/") }))
}

async fn stylesheet() -> ([(HeaderName, HeaderValue); 2], &'static str) {
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8")),
            (CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
        ],
        include_str!("../static/app.css"),
    )
}
