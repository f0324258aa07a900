//! The export for the agency's own reporting: the portfolios, and one portfolio's tickets,
//! as CSV a spreadsheet opens (`freshet-hubspot`'s `spreadsheet` writes the columns). Read
//! like `GET /portfolios`: a caller sees their team's portfolios, an Admin all.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use freshet_domain::PortfolioId;
use freshet_hubspot::{ImportError, spreadsheet};
use uuid::Uuid;

use super::extract::{ApiPath, ApiQuery, Consistency};
use super::read::{readable_portfolio, settle};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    #[serde(default)]
    pub consistency: Consistency,
}

fn csv(name: &str, body: Result<String, ImportError>) -> Result<Response, ApiError> {
    let body = body.map_err(|error| match error {
        ImportError::Database(error) => ApiError::from(error),
        ImportError::Accounts(error) => ApiError::from(error),
        other => ApiError::internal(other),
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// Every portfolio the caller may read, one row each: status, dates, team, the current Ad
/// Set's counts and the current cycle's metrics (B3), in the process documents' words.
#[utoipa::path(get, path = "/portfolios.csv", tag = "queries", params(ExportParams),
    responses((status = 200, description = "One row per portfolio, by client", content_type = "text/csv", body = String),
        (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn portfolios_csv(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ExportParams>,
) -> Result<Response, ApiError> {
    settle(&state, params.consistency).await?;
    let member = (!caller.is_admin()).then(|| caller.id());
    csv(
        "portfolios.csv",
        spreadsheet::portfolios_sheet(state.db(), member).await,
    )
}

/// The portfolio's tickets of every cycle, in Ad Set order, with their statuses and
/// approvals.
#[utoipa::path(get, path = "/portfolios/{id}/tickets.csv", tag = "queries",
    params(("id" = Uuid, Path), ExportParams),
    responses((status = 200, description = "One row per ticket", content_type = "text/csv", body = String),
        (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn tickets_csv(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<ExportParams>,
) -> Result<Response, ApiError> {
    let id = PortfolioId::from_uuid(id);
    readable_portfolio(&state, &caller, id).await?;
    settle(&state, params.consistency).await?;
    csv(
        "tickets.csv",
        spreadsheet::tickets_sheet(state.db(), id).await,
    )
}
