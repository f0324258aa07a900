#![doc = include_str!("../README.md")]

mod auth;
mod error;
mod limits;
mod routes;
mod server;
mod state;
mod streams;
mod throttle;

pub use auth::Caller;
pub use error::{ApiError, PROBLEM_BASE, Problem, domain_status};
pub use routes::{
    CommandResult, EventBody, Position, UNDOCUMENTED_ROUTES, metrics_handle, metrics_router,
    openapi, router,
};
pub use server::{ServerOptions, serve};
pub use state::{ApiOptions, AppState};
