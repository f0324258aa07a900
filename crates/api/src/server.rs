//! Serving the router on a listener: HTTP/1.1 connections with a header-read timeout (a
//! client that opens connections and never finishes its request headers holds nothing for
//! long), and a graceful shutdown that ends within a bounded time: open event streams are
//! told to end at once, in-flight requests finish, and whatever is still open after the
//! grace period is dropped.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::state::AppState;

/// How the server treats connections. `Default` gives production values.
#[derive(Debug, Clone, Copy)]
pub struct ServerOptions {
    /// A connection whose request headers are not complete this long after it opened (or
    /// after its previous response) is closed.
    pub header_read_timeout: Duration,
    /// After the shutdown signal, how long in-flight requests may take before every
    /// connection is dropped.
    pub shutdown_grace: Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// Serves [`crate::router`] of `state` on `listener` until `shutdown` completes, then shuts
/// down gracefully (see the module documentation); returns once every connection is closed
/// or the grace period is over.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    options: ServerOptions,
    shutdown: impl Future<Output = ()>,
) {
    serve_with(listener, state, Router::new(), options, shutdown).await;
}

/// [`serve`], with `pages` (the web app's routes) beside the API ([`crate::router_with`]).
pub async fn serve_with(
    listener: TcpListener,
    state: AppState,
    pages: Router<AppState>,
    options: ServerOptions,
    shutdown: impl Future<Output = ()>,
) {
    let router = crate::router_with(state.clone(), pages);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, remote) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors, a connection reset before it was accepted, ...:
                // pause a moment instead of spinning on the same error.
                tracing::warn!(%error, "could not accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // The peer's address, for what is counted per address (see `throttle`).
        let service = TowerToHyperService::new(router.clone().map_request(
            move |request: hyper::Request<Incoming>| {
                let mut request = request.map(axum::body::Body::new);
                request.extensions_mut().insert(ConnectInfo(remote));
                request
            },
        ));
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    // Streams end now: their connections can then close like the others.
    state.shutdown().cancel();
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("every connection closed"),
        () = tokio::time::sleep(options.shutdown_grace) => {
            tracing::warn!(grace = ?options.shutdown_grace, "connections still open after the grace period: dropped");
        }
    }
}
