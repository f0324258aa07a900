//! Operations: liveness, readiness, Prometheus metrics.

use std::sync::OnceLock;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

/// Alive: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Ready: the database answers, migrations are applied, projections are within their lag
/// bound (`ApiOptions::ready_max_lag_events`, `ready_max_lag`).
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Health), (status = 503, body = crate::Problem)))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    state
        .store()
        .head()
        .await
        .map_err(|e| ApiError::NotReady(format!("the database does not answer: {e}")))?;
    // The store's migrator knows every migration this binary expects.
    let pending =
        state.db().pending_migrations().await.map_err(|e| {
            ApiError::NotReady(format!("the applied migrations cannot be read: {e}"))
        })?;
    if let Some(newest) = pending.last() {
        return Err(ApiError::NotReady(format!(
            "the database is not migrated ({} migration(s) pending, up to {newest}): run \
             `freshet migrate`",
            pending.len()
        )));
    }
    let options = state.options();
    let lags = super::admin::projection_lags(&state)
        .await
        .map_err(|_| ApiError::NotReady("the projections' checkpoints cannot be read".into()))?;
    for lag in lags {
        if lag.events_behind > options.ready_max_lag_events
            || lag.seconds_behind > options.ready_max_lag.as_secs_f64()
        {
            let cause = lag.failure.map_or_else(String::new, |failure| {
                format!(
                    ": its batch has failed {} times since {} ({})",
                    failure.failures, failure.since, failure.last_error
                )
            });
            return Err(ApiError::NotReady(format!(
                "projection {} is {} events ({:.0} s) behind{cause}",
                lag.name, lag.events_behind, lag.seconds_behind
            )));
        }
    }
    Ok(Json(Health { status: "ready" }))
}

static PROMETHEUS: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the Prometheus recorder once per process (the first router does it).
pub(crate) fn install_metrics() {
    metrics_handle();
}

/// The process's Prometheus recorder, installed on first use; `None` if another recorder
/// was installed first.
pub fn metrics_handle() -> Option<PrometheusHandle> {
    PROMETHEUS
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("duration_seconds".to_owned()),
                    &[
                        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                        10.0,
                    ],
                )
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => Some(handle),
                Err(error) => {
                    tracing::warn!(error = %error, "could not install the Prometheus recorder");
                    None
                }
            }
        })
        .clone()
}

/// Prometheus metrics: request latency by route and status, commands by outcome,
/// projection lag and failed batches in a row, outbox backlog.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let Some(handle) = metrics_handle() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "metrics are not recorded").into_response();
    };
    if let Ok(lags) = super::admin::projection_lags(&state).await {
        for lag in lags {
            metrics::gauge!("freshet_projection_lag_events", "projection" => lag.name.clone())
                .set(lag.events_behind as f64);
            metrics::gauge!("freshet_projection_lag_seconds", "projection" => lag.name.clone())
                .set(lag.seconds_behind);
            // Failed attempts in a row of a batch that cannot apply; 0 while batches apply.
            let failures = lag.failure.map_or(0, |failure| failure.failures);
            metrics::gauge!("freshet_projection_batch_failures", "projection" => lag.name)
                .set(failures as f64);
        }
    }
    if let Ok(counts) = state.outbox().counts().await {
        for status in [
            freshet_mail::MessageStatus::Pending,
            freshet_mail::MessageStatus::Sending,
            freshet_mail::MessageStatus::Failed,
        ] {
            let count = counts
                .iter()
                .find(|(s, _)| *s == status)
                .map_or(0, |(_, n)| *n);
            metrics::gauge!("freshet_outbox_backlog", "status" => status.as_str())
                .set(count as f64);
        }
    }
    let mut response = handle.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}
