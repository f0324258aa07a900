//! Cycle metrics (B3): one portfolio's cycles (its team, or Admins), or a summary per
//! portfolio, Account Manager or Social Ad Specialist (Admins).

use axum::Json;
use axum::extract::State;
use freshet_domain::PortfolioId;
use freshet_projections::metrics::{self, GroupBy};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::{ApiQuery, Consistency};
use super::read::{readable_portfolio, settle};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

#[derive(Debug, Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum GroupByParam {
    Portfolio,
    Am,
    Sas,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CycleParams {
    /// Aggregate closed cycles (Admins).
    pub group_by: Option<GroupByParam>,
    /// Every cycle of one portfolio (its team, or Admins).
    pub portfolio: Option<Uuid>,
    #[serde(default)]
    pub consistency: Consistency,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CycleMetricsView {
    #[schema(value_type = Vec<Object>)]
    pub cycles: Vec<metrics::CycleMetricsRow>,
    #[schema(value_type = Vec<Object>)]
    pub summary: Vec<metrics::MetricsSummary>,
}

/// Cycle metrics (B3): one portfolio's cycles, or a summary per portfolio, AM or SAS.
#[utoipa::path(get, path = "/metrics/cycles", tag = "queries", params(CycleParams),
    responses((status = 200, body = CycleMetricsView), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn cycle_metrics(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<CycleParams>,
) -> Result<Json<CycleMetricsView>, ApiError> {
    settle(&state, params.consistency).await?;
    let cycles = match params.portfolio {
        Some(id) => {
            let id = PortfolioId::from_uuid(id);
            readable_portfolio(&state, &caller, id).await?;
            metrics::cycles(state.db(), id).await?
        }
        None => Vec::new(),
    };
    let summary = match (params.group_by, params.portfolio) {
        (Some(group), _) => {
            caller.require_admin("see metrics across portfolios")?;
            let group = match group {
                GroupByParam::Portfolio => GroupBy::Portfolio,
                GroupByParam::Am => GroupBy::AccountManager,
                GroupByParam::Sas => GroupBy::SocialAdSpecialist,
            };
            metrics::summary(state.db(), group).await?
        }
        (None, Some(_)) => Vec::new(),
        (None, None) => {
            caller.require_admin("see metrics across portfolios")?;
            metrics::summary(state.db(), GroupBy::Portfolio).await?
        }
    };
    Ok(Json(CycleMetricsView { cycles, summary }))
}
