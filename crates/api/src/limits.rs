//! Time and concurrency limits around every request: at most
//! [`ApiOptions::max_concurrent_requests`](crate::ApiOptions) at once (one more is refused
//! with a 503 at once rather than queued, so a client's retry finds a less busy process) and
//! at most [`ApiOptions::request_timeout`](crate::ApiOptions) each, until the response's
//! first byte (an event stream is limited by its own caps, see `streams`). Liveness
//! (`/healthz`) is never refused, so an orchestrator does not restart a process for being
//! busy; `/metrics` has a listener of its own, outside these limits.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

const NEVER_REFUSED: [&str; 1] = ["/healthz"];

pub(crate) async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if NEVER_REFUSED.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let Ok(_permit) = Arc::clone(state.requests()).try_acquire_owned() else {
        return ApiError::Overloaded.into_response();
    };
    let timeout = state.options().request_timeout;
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout {
            seconds: timeout.as_secs_f64(),
        }
        .into_response(),
    }
}
