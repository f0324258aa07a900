//! The router: every route with its OpenAPI description (utoipa-axum, so the served
//! document and the routes come from one place), and the layers around them.

mod admin;
mod command;
mod events;
mod export;
mod extract;
mod inbox;
mod invitations;
mod metrics;
mod ops;
mod outbox;
mod portfolios;
mod read;
mod tickets;
mod values;

pub use admin::{ProjectionStatus, projection_statuses, start_rebuild};
pub use command::{CommandResult, EventBody, Position};
pub use ops::metrics_handle;
pub use read::readable_portfolio;

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_scalar::{Scalar, Servable};

use crate::error::ApiError;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Freshet",
        description = "The Creative Refresh process: commands, inboxes, history and operations. \
                       Errors are RFC 9457 problem documents."
    ),
    // Schemas the routes' parameters name by `$ref` (utoipa does not collect them itself).
    components(schemas(crate::error::Problem, extract::Consistency, metrics::GroupByParam,
        values::CadenceUnitBody)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Routes served but not part of the API document (the document itself and its viewer).
/// `/metrics` is served apart, by [`metrics_router`].
pub const UNDOCUMENTED_ROUTES: [&str; 2] = ["/openapi.json", "/docs"];

/// Every documented route, with its OpenAPI description.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(
            portfolios::create_portfolio,
            portfolios::list_portfolios
        ))
        .routes(routes!(portfolios::change_team))
        .routes(routes!(portfolios::reschedule))
        .routes(routes!(portfolios::tick))
        .routes(routes!(portfolios::log_portfolio_note))
        .routes(routes!(portfolios::decline))
        .routes(routes!(portfolios::request_refresh))
        .routes(routes!(tickets::create_ticket))
        .routes(routes!(tickets::clone_ticket))
        .routes(routes!(tickets::edit_ticket))
        .routes(routes!(portfolios::deliverables_submitted))
        .routes(routes!(tickets::submit_copy))
        .routes(routes!(tickets::submit_graphics))
        .routes(routes!(tickets::approve_copy))
        .routes(routes!(tickets::approve_graphics))
        .routes(routes!(portfolios::update_ad_lab_link))
        .routes(routes!(tickets::log_ticket_note))
        .routes(routes!(tickets::request_revisions))
        .routes(routes!(tickets::complete_deliverable))
        .routes(routes!(portfolios::sign_off))
        .routes(routes!(portfolios::implemented))
        .routes(routes!(inbox::complete_task))
        .routes(routes!(portfolios::pause))
        .routes(routes!(portfolios::resume))
        .routes(routes!(portfolios::end_portfolio))
        .routes(routes!(portfolios::cancel_cycle))
        .routes(routes!(portfolios::correct_deliverable_count))
        .routes(routes!(tickets::withdraw_ticket))
        .routes(routes!(tickets::send_back_copy))
        .routes(routes!(tickets::send_back_graphics))
        .routes(routes!(inbox::my_inbox))
        .routes(routes!(events::inbox_events))
        .routes(routes!(inbox::inbox_query))
        .routes(routes!(inbox::alerts))
        .routes(routes!(portfolios::get_portfolio))
        .routes(routes!(portfolios::portfolio_as_of))
        .routes(routes!(portfolios::history))
        .routes(routes!(export::portfolios_csv))
        .routes(routes!(export::tickets_csv))
        .routes(routes!(portfolios::calendar))
        .routes(routes!(metrics::cycle_metrics))
        .routes(routes!(outbox::outbox))
        .routes(routes!(admin::me))
        .routes(routes!(admin::add_user, admin::list_users))
        .routes(routes!(admin::issue_token, admin::list_tokens))
        .routes(routes!(admin::deactivate_user))
        .routes(routes!(invitations::invite))
        .routes(routes!(invitations::invite_again))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(admin::projections))
        .routes(routes!(admin::rebuild))
}

/// The OpenAPI 3.1 document of every route of [`router`] (with the default options).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut document = api_routes().split_for_parts().1;
    finish(&mut document, &crate::ApiOptions::default());
    document
}

/// What the annotations cannot say: the error responses' shape, this server's limits, and
/// parameters that are never `null`.
fn finish(document: &mut utoipa::openapi::OpenApi, options: &crate::ApiOptions) {
    use utoipa::openapi::schema::{Schema, SchemaType, Type};
    use utoipa::openapi::{Content, RefOr, Response as Documented, path::ParameterIn, schema::Ref};
    for item in document.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for operation in operations.into_iter().flatten() {
            // Whatever asks for a token answers 429 to an address whose tokens kept failing.
            let responses = &mut operation.responses.responses;
            if responses.contains_key("401") && !responses.contains_key("429") {
                responses.insert(
                    "429".to_owned(),
                    RefOr::T(Documented::new(
                        "too many failed authentications from this address; see Retry-After",
                    )),
                );
            }
            // Every error response (4XX, 5XX) is what [`ApiError`] answers: a problem
            // document, `application/problem+json` with the `Problem` schema.
            for (status, response) in &mut operation.responses.responses {
                let (true, RefOr::T(Documented { content, .. })) =
                    (status.starts_with(['4', '5']), response)
                else {
                    continue;
                };
                content.clear();
                content.insert(
                    "application/problem+json".to_owned(),
                    Content::new(Some(Ref::from_schema_name("Problem"))),
                );
            }
            for parameter in operation.parameters.iter_mut().flatten() {
                let Some(RefOr::T(Schema::Object(schema))) = &mut parameter.schema else {
                    continue;
                };
                // A query parameter or a header is absent or text, never JSON's `null`
                // (a client would send the text `null`).
                if let SchemaType::Array(types) = &schema.schema_type {
                    let types: Vec<Type> = types
                        .iter()
                        .filter(|t| **t != Type::Null)
                        .cloned()
                        .collect();
                    schema.schema_type = match types.as_slice() {
                        [one] => SchemaType::Type(one.clone()),
                        _ => SchemaType::Array(types),
                    };
                }
                // Every `limit` is bounded by this server's page size.
                if parameter.name == "limit" && parameter.parameter_in == ParameterIn::Query {
                    schema.maximum = Some(utoipa::Number::UInt(options.max_page_size as usize));
                }
            }
        }
    }
}

/// The whole HTTP API, ready for `axum::serve`.
pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// The whole HTTP API and `pages` (the web app's routes, which share the state, the
/// limits, the cross-site check and the tracing), ready for `axum::serve`.
pub fn router_with(state: AppState, pages: Router<AppState>) -> Router {
    let body_limit = state.options().body_limit_bytes;
    let limits = middleware::from_fn_with_state(state.clone(), crate::limits::limit);
    let state_for_origin = state.clone();
    let (routes, mut document) = api_routes().split_for_parts();
    finish(&mut document, state.options());
    let document_json = document.clone();
    let routes = routes
        .merge(pages)
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let document = document_json.clone();
                async move { axum::Json(document) }
            }),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state);
    let docs: Router = Scalar::with_url("/docs", document).into();
    ops::install_metrics();
    routes
        .merge(docs)
        .layer(middleware::from_fn_with_state(
            state_for_origin,
            crate::cross_origin::protect,
        ))
        .layer(limits)
        .layer(middleware::from_fn(observe))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http().make_span_with(|request: &Request| {
                        let request_id = request
                            .headers()
                            .get("x-request-id")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("");
                        tracing::info_span!(
                            "http.request",
                            http.method = %request.method(),
                            http.path = %loggable_path(request.uri().path()),
                            request.id = %request_id,
                        )
                    }),
                )
                .layer(PropagateRequestIdLayer::x_request_id()),
        )
}

/// Prometheus metrics on a listener of their own (`FRESHET_METRICS_LISTEN`, loopback by
/// default), so that what the metrics reveal and cost is never open to API clients.
pub fn metrics_router(state: AppState) -> Router {
    ops::install_metrics();
    Router::new()
        .route("/metrics", axum::routing::get(ops::metrics))
        .fallback(not_found)
        .with_state(state)
}

/// A request's path as the log may keep it: a segment holding a secret (a one-time link's
/// `fl_…`, a calendar feed's `fc_…`, or a token or session someone pasted into an address)
/// is replaced, so a live invitation or reset link or a feed's address never lands in the
/// logs.
fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    let secret = |segment: &str| {
        ["fc_", "fl_", "fr_", "fs_"]
            .iter()
            .any(|p| segment.starts_with(p))
    };
    if !path.split('/').any(secret) {
        return std::borrow::Cow::Borrowed(path);
    }
    let kept: Vec<&str> = path
        .split('/')
        .map(|segment| if secret(segment) { "{secret}" } else { segment })
        .collect();
    std::borrow::Cow::Owned(kept.join("/"))
}

/// Request latency by route and status (Prometheus histogram).
async fn observe(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = method_label(request.method());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let elapsed: Duration = started.elapsed();
    ::metrics::histogram!(
        "freshet_http_request_duration_seconds",
        "method" => method,
        "route" => route,
        "status" => response.status().as_u16().to_string()
    )
    .record(elapsed.as_secs_f64());
    response
}

/// The `method` label of a request: a standard method's name, or `other`, so made-up
/// methods (anyone may send `FOO1`, `FOO2`, ...) cannot each add a series.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::TRACE,
        Method::CONNECT,
    ]
    .iter()
    .find(|known| *known == method)
    .map_or("other", Method::as_str)
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such resource".to_owned())
}

async fn method_not_allowed() -> Response {
    let problem = crate::error::Problem {
        problem_type: format!("{}method-not-allowed", crate::error::PROBLEM_BASE),
        title: "Method not allowed".to_owned(),
        status: StatusCode::METHOD_NOT_ALLOWED.as_u16(),
        detail: "this resource does not accept that method".to_owned(),
        code: "method-not-allowed".to_owned(),
    };
    crate::error::problem_response(&problem)
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn secrets_in_a_path_never_reach_the_log() {
        let link = format!("/app/invitation/fl_{}", "a".repeat(64));
        assert_eq!(loggable_path(&link), "/app/invitation/{secret}");
        let reset = format!("/app/password-reset/fl_{}", "b".repeat(64));
        assert_eq!(loggable_path(&reset), "/app/password-reset/{secret}");
        let feed = format!("/app/calendar/fc_{}", "c".repeat(64));
        assert_eq!(loggable_path(&feed), "/app/calendar/{secret}");
        assert_eq!(loggable_path("/portfolios/1/notes"), "/portfolios/1/notes");
    }
}
