//! A portfolio's coming date triggers, and what they would be if it were rescheduled (a
//! what-if, decided with the service's context and changing nothing).

use axum::Json;
use axum::extract::State;
use chrono::NaiveDate;
use freshet_domain::PortfolioId;
use freshet_domain::preview::{UpcomingTrigger, preview_reschedule, upcoming};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::routes::extract::{ApiPath, ApiQuery};
use crate::routes::read::readable_portfolio;
use crate::routes::values::{CadenceBody, CadenceUnitBody, sane_date};
use crate::state::AppState;

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CalendarParams {
    /// What-if: a new cadence (with `cadence_unit` and `refresh_date`): at most 2000 days,
    /// 260 weeks or 60 months.
    #[param(minimum = 1, maximum = 2000)]
    pub cadence_every: Option<u16>,
    pub cadence_unit: Option<CadenceUnitBody>,
    /// 2000-01-01 to 2200-12-31.
    #[param(pattern = r"^(2[01][0-9]{2}|2200)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    pub refresh_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CalendarView {
    pub portfolio_id: Uuid,
    /// True when this is a what-if preview; nothing was changed.
    pub preview: bool,
    #[schema(value_type = Vec<Object>)]
    pub upcoming: Vec<UpcomingTrigger>,
    /// Why nothing is upcoming: `{"state": "paused", "since": "2027-03-01"}`, `ended`, or
    /// `active`.
    #[schema(value_type = Object)]
    pub lifecycle: freshet_domain::state::Lifecycle,
}

/// The portfolio's coming date triggers, or with a cadence and date, what they would be if
/// it were rescheduled (nothing is changed).
#[utoipa::path(get, path = "/portfolios/{id}/calendar", tag = "queries",
    params(("id" = Uuid, Path), CalendarParams),
    responses((status = 200, body = CalendarView), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn calendar(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<CalendarParams>,
) -> Result<Json<CalendarView>, ApiError> {
    let id = PortfolioId::from_uuid(id);
    let portfolio = readable_portfolio(&state, &caller, id).await?;
    let config = state.service().config();
    let (preview, upcoming) = match (
        params.cadence_every,
        params.cadence_unit,
        params.refresh_date,
    ) {
        (None, None, None) => (false, upcoming(&portfolio, &config.deadlines)),
        (Some(every), Some(unit), Some(date)) => {
            let cadence = CadenceBody { every, unit }.parse()?;
            let date = sane_date(date, "refresh date")?;
            let context = state.service().context(caller.actor());
            (
                true,
                preview_reschedule(&portfolio, cadence, date, &context)?,
            )
        }
        _ => {
            return Err(ApiError::malformed(
                "invalid-query",
                "a what-if needs cadence_every, cadence_unit and refresh_date together",
            ));
        }
    };
    Ok(Json(CalendarView {
        portfolio_id: id.as_uuid(),
        preview,
        upcoming,
        lifecycle: portfolio.lifecycle,
    }))
}
