//! The router: every route with its OpenAPI description (utoipa-axum, so the served
//! document and the routes come from one place), and the layers around them.

mod ops;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Freshet",
        description = "The Creative Refresh process: commands, inboxes, history and operations."
    ),
    components(schemas(crate::error::Problem))
)]
struct ApiDoc;

/// Every documented route, with its OpenAPI description.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
}

/// The OpenAPI 3.1 document of every route of [`router`].
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_routes().split_for_parts().1
}

/// The whole HTTP API, ready for `axum::serve`.
pub fn router(state: AppState) -> Router {
    let body_limit = state.options().body_limit_bytes;
    let (routes, _document) = api_routes().split_for_parts();
    routes
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such resource".to_owned())
}
