//! The HTTP side of `serve`, on top of `freshet-api`.

use std::sync::Arc;

use anyhow::{Context as _, Result};
use freshet_api::{ApiOptions, AppState, ServerOptions, metrics_router};
use tokio_util::sync::CancellationToken;

use crate::cli::ServeArgs;
use crate::core::Core;

pub async fn serve(core: &Core, args: &ServeArgs, shutdown: CancellationToken) -> Result<()> {
    let limits = &args.limits;
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
    tracing::info!(address = %args.listen, metrics = %args.metrics_listen, "API listening; docs at /docs");
    let metrics = axum::serve(metrics_listener, metrics_router(state.clone()))
        .with_graceful_shutdown(shutdown.clone().cancelled_owned());
    let server = ServerOptions {
        header_read_timeout: limits.header_read_timeout,
        shutdown_grace: limits.shutdown_grace,
    };
    let api = freshet_api::serve(listener, state, server, shutdown.cancelled_owned());
    let ((), metrics) = tokio::join!(api, metrics);
    metrics.context("the metrics server failed")
}
