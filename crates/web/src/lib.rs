#![doc = include_str!("../README.md")]

mod actions;
mod admin;
mod alerts;
mod calendar;
mod chart;
mod feed;
mod history;
mod listing;
mod metrics;
mod page;
mod passwords;
mod people;
mod portfolio;
mod record;
mod settings;
mod sign_in;
mod tasks;
mod ticket;
mod viewer;
mod work;

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue};
use axum::response::Redirect;
use axum::routing::{any, get, post};
use freshet_api::AppState;

pub use viewer::Viewer;

/// The pages, every one under `/app/`, to serve beside the API (`freshet_api::router_with`).
pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/app", get(|| async { Redirect::permanent("/app/") }))
        .route("/app/", get(work::my_work))
        .route("/app/sign-in", get(sign_in::form).post(sign_in::sign_in))
        .route("/app/sign-out", post(sign_in::sign_out))
        .route(
            "/app/invitation/{secret}",
            get(passwords::invitation_form).post(passwords::accept_invitation),
        )
        .route(
            "/app/password-reset",
            get(passwords::reset_request_form).post(passwords::request_reset),
        )
        .route(
            "/app/password-reset/{secret}",
            get(passwords::reset_form).post(passwords::reset),
        )
        .route("/app/settings", get(settings::page))
        .route("/app/settings/password", post(settings::change_password))
        .route("/app/settings/digest", post(settings::set_digest))
        .route("/app/portfolios/{id}", get(portfolio::portfolio))
        .route("/app/portfolios/{id}/actions/{action}", post(actions::act))
        .route("/app/portfolios/{id}/tickets/{ticket}", get(ticket::ticket))
        .route("/app/portfolios", get(listing::list))
        .route("/app/portfolios/{id}/history", get(history::history))
        .route("/app/portfolios/{id}/calendar", get(calendar::calendar))
        .route("/app/alerts", get(alerts::alerts))
        .route("/app/metrics", get(metrics::metrics))
        .route("/app/settings/calendar", post(settings::new_feed))
        .route("/app/settings/calendar/stop", post(settings::stop_feed))
        // The secret is the credential: no session needed (see `feed`).
        .route("/app/calendar/{file}", get(feed::feed))
        .merge(admin::pages())
        .route("/app/static/app.css", get(stylesheet))
        .route("/app/static/live.js", get(live_script))
        // Any other address under /app is a page that does not exist, answered as a page.
        .route("/app/{*rest}", any(page::not_found))
        .layer(axum::middleware::map_response(page::security_headers))
}

async fn stylesheet() -> ([(HeaderName, HeaderValue); 2], &'static str) {
    asset("text/css; charset=utf-8", include_str!("../static/app.css"))
}

/// The page's own small script: live updates of the person's tasks.
async fn live_script() -> ([(HeaderName, HeaderValue); 2], &'static str) {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../static/live.js"),
    )
}

fn asset(
    content_type: &'static str,
    body: &'static str,
) -> ([(HeaderName, HeaderValue); 2], &'static str) {
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        body,
    )
}
