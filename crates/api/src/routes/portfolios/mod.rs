//! Portfolios: the listing, one portfolio with its Ad Set board, as it stood at an instant
//! and its history (B2), its calendar; and the commands on it ([`commands`]). A portfolio
//! is readable by the people on its current team, and by Admins.

mod calendar;
mod commands;

pub use calendar::*;
pub use commands::*;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use freshet_domain::{Portfolio, PortfolioId};
use freshet_projections::{audit, board, portfolios};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::{ApiPath, ApiQuery, Consistency, version_tag};
use super::read::{next_cursor, page, readable_portfolio, settle};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Page size: 1 to the server's maximum (500 unless configured otherwise).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// Rows to skip (any `u32`).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4294967295_i64)]
    pub offset: Option<u32>,
    /// The `next` of the previous page.
    pub after: Option<Uuid>,
    #[serde(default)]
    pub consistency: Consistency,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PortfolioPage {
    /// Rows of the `portfolios` read model.
    #[schema(value_type = Vec<Object>)]
    pub portfolios: Vec<portfolios::PortfolioRow>,
    pub limit: u32,
    pub offset: u32,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<Uuid>,
}

/// Portfolios by client: all for Admins, those whose team includes the caller for others.
#[utoipa::path(get, path = "/portfolios", tag = "queries", params(ListParams),
    responses((status = 200, body = PortfolioPage), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn list_portfolios(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<PortfolioPage>, ApiError> {
    let limit = page(&state, params.limit)?;
    let offset = params.offset.unwrap_or(0);
    settle(&state, params.consistency).await?;
    let filter = portfolios::PortfolioFilter {
        member: (!caller.is_admin()).then(|| caller.id()),
        after: params.after.map(PortfolioId::from_uuid),
        limit,
        offset,
    };
    let rows = portfolios::list(state.db(), &filter).await?;
    let next = next_cursor(&rows, limit, |row| row.portfolio_id.parse().ok());
    Ok(Json(PortfolioPage {
        portfolios: rows,
        limit,
        offset,
        next,
    }))
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PortfolioParams {
    /// Show the portfolio as it stood at this instant (RFC 3339), from its history (B2).
    pub as_of: Option<DateTime<Utc>>,
    #[serde(default)]
    pub consistency: Consistency,
}

/// A portfolio: its read-model row and its Ad Set board (current cycle).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PortfolioView {
    pub portfolio_id: Uuid,
    /// The stream version (also the `ETag`, for `If-Match` on commands).
    pub version: i64,
    #[schema(value_type = Object)]
    pub summary: Option<portfolios::PortfolioRow>,
    #[schema(value_type = Vec<Object>)]
    pub board: Vec<board::BoardTicket>,
}

/// The portfolio's state as it stood at an instant (B2).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PortfolioAsOf {
    pub portfolio_id: Uuid,
    pub as_of: DateTime<Utc>,
    #[schema(value_type = Object)]
    pub state: Portfolio,
}

/// What `GET /portfolios/{id}` answers: the portfolio now, or with `as_of`, as it stood then.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum PortfolioAnswer {
    Now(PortfolioView),
    AsOf(PortfolioAsOf),
}

fn with_etag(version: i64, response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    if let Ok(tag) = HeaderValue::from_str(&version_tag(version)) {
        response.headers_mut().insert(header::ETAG, tag);
    }
    response
}

async fn as_of_response(
    state: &AppState,
    id: PortfolioId,
    instant: DateTime<Utc>,
) -> Result<Response, ApiError> {
    let past = audit::portfolio_as_of(state.store().as_ref(), id, instant)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("portfolio {id} did not exist at {instant}")))?;
    Ok(Json(PortfolioAsOf {
        portfolio_id: id.as_uuid(),
        as_of: instant,
        state: past,
    })
    .into_response())
}

/// A portfolio with its Ad Set board; with `as_of`, its state at that instant (B2).
#[utoipa::path(get, path = "/portfolios/{id}", tag = "queries",
    params(("id" = Uuid, Path), PortfolioParams),
    responses((status = 200, body = PortfolioAnswer), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn get_portfolio(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<PortfolioParams>,
) -> Result<Response, ApiError> {
    let id = PortfolioId::from_uuid(id);
    readable_portfolio(&state, &caller, id).await?;
    if let Some(instant) = params.as_of {
        return as_of_response(&state, id, instant).await;
    }
    settle(&state, params.consistency).await?;
    let stream = freshet_store::StreamId::new(id.stream_name()).map_err(ApiError::internal)?;
    let version = state.store().stream_version(&stream).await?;
    let summary = portfolios::get(state.db(), id).await?;
    let cycle = summary
        .as_ref()
        .and_then(|row| u32::try_from(row.cycle).ok());
    let board = match cycle {
        Some(cycle) => board::tickets(state.db(), id, Some(cycle)).await?,
        None => Vec::new(),
    };
    Ok(with_etag(
        version,
        Json(PortfolioView {
            portfolio_id: id.as_uuid(),
            version,
            summary,
            board,
        }),
    ))
}

/// The portfolio as it stood at `instant` (RFC 3339) (B2).
#[utoipa::path(get, path = "/portfolios/{id}/as-of/{instant}", tag = "queries",
    params(("id" = Uuid, Path), ("instant" = DateTime<Utc>, Path, description = "RFC 3339")),
    responses((status = 200, body = PortfolioAsOf), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn portfolio_as_of(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, instant)): ApiPath<(Uuid, String)>,
) -> Result<Response, ApiError> {
    let id = PortfolioId::from_uuid(id);
    let instant = DateTime::parse_from_rfc3339(&instant)
        .map_err(|error| {
            ApiError::malformed(
                "invalid-path",
                format!("\"{instant}\" is not an RFC 3339 instant: {error}"),
            )
        })?
        .with_timezone(&Utc);
    readable_portfolio(&state, &caller, id).await?;
    as_of_response(&state, id, instant).await
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryView {
    pub portfolio_id: Uuid,
    /// The changes of this page: version, position, event type and data, actor, time, cause.
    #[schema(value_type = Vec<Object>)]
    pub entries: Vec<audit::AuditEntry>,
    pub limit: u32,
    /// Pass as `after` for the next page (the last version of this one); absent at the end.
    pub next: Option<i64>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryParams {
    /// Page size: 1 to the server's maximum (500 unless configured otherwise).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next` of the previous page: the changes after this stream version.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4294967295_i64)]
    pub after: Option<u32>,
}

/// The changes of the portfolio with who, when and why (B2), oldest first, a page at a time.
#[utoipa::path(get, path = "/portfolios/{id}/history", tag = "queries",
    params(("id" = Uuid, Path), HistoryParams),
    responses((status = 200, body = HistoryView), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<HistoryParams>,
) -> Result<Json<HistoryView>, ApiError> {
    let id = PortfolioId::from_uuid(id);
    readable_portfolio(&state, &caller, id).await?;
    let limit = page(&state, params.limit)?;
    let after = i64::from(params.after.unwrap_or(0));
    let entries = audit::history(state.store().as_ref(), id, after, limit).await?;
    let full = entries.len() >= usize::try_from(limit).unwrap_or(usize::MAX);
    let next = entries.last().map(|e| e.version).filter(|_| full);
    Ok(Json(HistoryView {
        portfolio_id: id.as_uuid(),
        entries,
        limit,
        next,
    }))
}
