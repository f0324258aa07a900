//! The HTTP side of `serve`, on top of `freshet-api`.

use std::sync::Arc;

use anyhow::{Context as _, Result};
use freshet_api::{ApiOptions, AppState, ServerOptions, SessionCookie, metrics_router};
use tokio_util::sync::CancellationToken;

use crate::cli::{Common, ServeArgs};
use crate::core::Core;

pub async fn serve(
    core: &Core,
    common: &Common,
    args: &ServeArgs,
    shutdown: CancellationToken,
) -> Result<()> {
    let limits = &args.limits;
    let public_url = &common.public_url;
    let count = |n: u32| usize::try_from(n).unwrap_or(usize::MAX);
    let options = ApiOptions {
        read_models: core.read_models,
        request_timeout: limits.request_timeout,
        max_concurrent_requests: count(limits.max_concurrent_requests),
        max_streams: count(limits.max_streams),
        max_streams_per_user: count(limits.max_streams_per_user),
        auth_failure_limit: limits.auth_failure_limit,
        auth_failure_window: limits.auth_failure_window,
        trust_forwarded_for: limits.trust_forwarded_for,
        sessions: args.sessions.policy()?,
        // Behind https the cookie is `Secure` (and `__Host-`), so it never travels in clear.
        session_cookie: SessionCookie {
            secure: public_url.is_https(),
        },
        public_origin: Some(public_url.origin()),
        public_url: public_url.clone(),
        sign_in_failure_limit: args.sessions.sign_in_failure_limit,
        sign_in_failure_window: args.sessions.sign_in_failure_window,
        ..ApiOptions::default()
    };
    let state = AppState::new(
        core.service.clone(),
        core.db.clone(),
        Arc::clone(&core.runner),
        options,
    );
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let metrics_listener = tokio::net::TcpListener::bind(args.metrics_listen)
        .await
        .with_context(|| format!("cannot serve metrics on {}", args.metrics_listen))?;
    tracing::info!(
        address = %args.listen,
        metrics = %args.metrics_listen,
        sign_in = %public_url.link("/app/sign-in"),
        "listening; API docs at /docs"
    );
    let metrics = axum::serve(metrics_listener, metrics_router(state.clone()))
        .with_graceful_shutdown(shutdown.clone().cancelled_owned());
    let server = ServerOptions {
        header_read_timeout: limits.header_read_timeout,
        shutdown_grace: limits.shutdown_grace,
    };
    let api = freshet_api::serve_with(
        listener,
        state,
        freshet_web::pages(),
        server,
        shutdown.cancelled_owned(),
    );
    let ((), metrics) = tokio::join!(api, metrics);
    metrics.context("the metrics server failed")
}
