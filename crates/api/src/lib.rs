#![doc = include_str!("../README.md")]

mod auth;
mod cross_origin;
mod error;
mod limits;
mod routes;
mod server;
mod session_cookie;
mod state;
mod streams;
mod throttle;

pub use auth::{Caller, Credential};
pub use cross_origin::allowed as cross_origin_allowed;
pub use error::{ApiError, PROBLEM_BASE, Problem, domain_status};
pub use routes::{
    CommandResult, EventBody, Position, ProjectionStatus, UNDOCUMENTED_ROUTES, metrics_handle,
    metrics_router, openapi, projection_statuses, readable_portfolio, router, router_with,
    start_rebuild,
};
pub use server::{ServerOptions, serve, serve_with};
pub use session_cookie::SessionCookie;
pub use state::{ApiOptions, AppState};
pub use throttle::{SignInAttempt, SignInThrottle, client_address};
