//! The read side: inboxes, portfolios with their Ad Set board, audit history (B2), the
//! calendar and its what-if preview, cycle metrics (B3), stall alerts (B1), the outbox.
//!
//! Who may read what:
//! - everyone reads their own inbox and the outbox rows addressed to them;
//! - a portfolio (its view, board, history, calendar, tasks, cycle metrics) is readable by the
//!   people on its current team;
//! - Admins read everything, including the metrics summaries and other people's inboxes.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use freshet_domain::preview::{UpcomingTrigger, preview_reschedule, upcoming};
use freshet_domain::{Portfolio, PortfolioId, Role, TaskId, UserId};
use freshet_projections::inbox::{InboxFilter, InboxTask};
use freshet_projections::metrics::GroupBy;
use freshet_projections::{audit, board, inbox, metrics, portfolios};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::commands::{CadenceBody, CadenceUnitBody, sane_date};
use super::extract::{ApiPath, ApiQuery, Consistency, version_tag};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// With `consistency=strong`, waits (bounded) until every projection has everything that
/// was committed before this request.
pub(crate) async fn settle(state: &AppState, consistency: Consistency) -> Result<(), ApiError> {
    if consistency != Consistency::Strong {
        return Ok(());
    }
    let head = state.store().head().await?;
    if let Err(timeout) = state
        .runner()
        .wait_for(
            &freshet_projections::PROJECTION_NAMES,
            head,
            state.options().consistency_timeout,
        )
        .await
    {
        tracing::warn!(error = %timeout, "the read side did not catch up in time");
    }
    Ok(())
}

/// The portfolio as it stands, if `caller` may read it (404 unknown, 403 not on the team).
pub(crate) async fn readable_portfolio(
    state: &AppState,
    caller: &Caller,
    id: PortfolioId,
) -> Result<Portfolio, ApiError> {
    let portfolio = state
        .service()
        .portfolio(id)
        .await?
        .ok_or(ApiError::Domain(
            freshet_domain::DomainError::PortfolioNotFound,
        ))?;
    // Answered like a portfolio that does not exist (see `error::visible`).
    if !caller.is_admin() && !portfolio.team.includes(caller.id()) {
        return Err(ApiError::Domain(freshet_domain::DomainError::NotOnTeam));
    }
    Ok(portfolio)
}

// ---- inbox -------------------------------------------------------------------------------

/// One task of an inbox.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TaskView {
    pub task_id: String,
    pub portfolio_id: String,
    pub client: String,
    pub assignee: String,
    /// `am`, `sas`, `copywriter`, `designer` or `team_lead`.
    pub role: String,
    pub kind: String,
    pub title: String,
    pub ticket_id: Option<String>,
    pub ticket_title: Option<String>,
    pub cycle: i64,
    pub round: i64,
    pub due_on: Option<NaiveDate>,
    pub is_open: bool,
    /// What the assignee needs to know (the AM's Note, the Ad Lab link, open tickets, ...).
    #[schema(value_type = Object)]
    pub context: serde_json::Value,
    pub assigned_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<String>,
}

impl From<InboxTask> for TaskView {
    fn from(task: InboxTask) -> Self {
        let context =
            serde_json::from_str(&task.context).unwrap_or(serde_json::Value::String(task.context));
        TaskView {
            task_id: task.task_id,
            portfolio_id: task.portfolio_id,
            client: task.client,
            assignee: task.assignee,
            role: task.role,
            kind: task.kind,
            title: task.title,
            ticket_id: task.ticket_id,
            ticket_title: task.ticket_title,
            cycle: task.cycle,
            round: task.round,
            due_on: task.due_on,
            is_open: task.is_open,
            context,
            assigned_at: task.assigned_at,
            done_at: task.done_at,
            done_by: task.done_by,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TaskPage {
    pub tasks: Vec<TaskView>,
    pub limit: u32,
    pub offset: u32,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<Uuid>,
}

/// The keyset cursor of a page: its last row, when the page is full.
fn next_cursor<T>(rows: &[T], limit: u32, id: impl Fn(&T) -> Option<Uuid>) -> Option<Uuid> {
    (rows.len() >= usize::try_from(limit).unwrap_or(usize::MAX))
        .then(|| rows.last().and_then(id))
        .flatten()
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InboxParams {
    /// Whose tasks (Admins, or anyone together with a portfolio of theirs).
    pub assignee: Option<Uuid>,
    /// `am`, `sas`, `copywriter`, `designer` or `team_lead`.
    #[param(pattern = "^(am|sas|copywriter|designer|team_lead)$")]
    pub role: Option<String>,
    pub portfolio: Option<Uuid>,
    /// `true`: open tasks only; `false`: done ones only.
    pub open: Option<bool>,
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

fn page(state: &AppState, limit: Option<u32>) -> Result<u32, ApiError> {
    let max = state.options().max_page_size;
    match limit {
        None => Ok(100.min(max)),
        Some(limit) if (1..=max).contains(&limit) => Ok(limit),
        Some(limit) => Err(ApiError::malformed(
            "invalid-query",
            format!("limit must be between 1 and {max}, not {limit}"),
        )),
    }
}

fn parse_role(role: Option<&str>) -> Result<Option<Role>, ApiError> {
    role.map(|code| {
        Role::from_code(code).ok_or_else(|| {
            ApiError::malformed(
                "invalid-query",
                format!("unknown role \"{code}\" (am, sas, copywriter, designer, team_lead)"),
            )
        })
    })
    .transpose()
}

async fn list_tasks(
    state: &AppState,
    params: &InboxParams,
    assignee: Option<UserId>,
) -> Result<TaskPage, ApiError> {
    let limit = page(state, params.limit)?;
    let offset = params.offset.unwrap_or(0);
    let filter = InboxFilter {
        assignee,
        role: parse_role(params.role.as_deref())?,
        portfolio: params.portfolio.map(PortfolioId::from_uuid),
        open: params.open,
        after: params.after.map(TaskId::from_uuid),
        limit,
        offset,
        ..InboxFilter::default()
    };
    settle(state, params.consistency).await?;
    let tasks = inbox::list(state.db(), &filter).await?;
    let next = next_cursor(&tasks, limit, |task| task.task_id.parse().ok());
    Ok(TaskPage {
        tasks: tasks.into_iter().map(TaskView::from).collect(),
        limit,
        offset,
        next,
    })
}

/// The query of `/me/inbox`, documented: the [`InboxParams`] without `assignee` (always
/// the caller; naming yourself is accepted, anyone else is refused).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct MyInboxParamsDocs {
    /// `am`, `sas`, `copywriter`, `designer` or `team_lead`.
    #[param(pattern = "^(am|sas|copywriter|designer|team_lead)$")]
    role: Option<String>,
    portfolio: Option<Uuid>,
    /// `true`: open tasks only; `false`: done ones only.
    open: Option<bool>,
    /// Page size: 1 to the server's maximum (500 unless configured otherwise).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// Rows to skip (any `u32`).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4294967295_i64)]
    offset: Option<u32>,
    #[serde(default)]
    consistency: Consistency,
}

/// My tasks.
#[utoipa::path(get, path = "/me/inbox", tag = "queries", params(MyInboxParamsDocs),
    responses((status = 200, body = TaskPage), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn my_inbox(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<InboxParams>,
) -> Result<Json<TaskPage>, ApiError> {
    if params.assignee.is_some_and(|a| a != caller.id().as_uuid()) {
        return Err(ApiError::malformed(
            "invalid-query",
            "/me/inbox lists your own tasks; use /inbox?assignee= for someone else's",
        ));
    }
    Ok(Json(list_tasks(&state, &params, Some(caller.id())).await?))
}

/// Tasks by assignee, role, portfolio and state. Admins see every task; others see their
/// own tasks, and every task of a portfolio whose team they are on.
#[utoipa::path(get, path = "/inbox", tag = "queries", params(InboxParams),
    responses((status = 200, body = TaskPage), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn inbox_query(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<InboxParams>,
) -> Result<Json<TaskPage>, ApiError> {
    let assignee = params.assignee.map(UserId::from_uuid);
    if !caller.is_admin() {
        let own = assignee == Some(caller.id());
        if !own {
            let Some(portfolio) = params.portfolio else {
                return Err(ApiError::Forbidden(
                    "only an Admin may list everyone's tasks: name yourself as assignee or a \
                     portfolio whose team you are on"
                        .to_owned(),
                ));
            };
            readable_portfolio(&state, &caller, PortfolioId::from_uuid(portfolio)).await?;
        }
    }
    Ok(Json(list_tasks(&state, &params, assignee).await?))
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AlertParams {
    pub portfolio: Option<Uuid>,
    /// Page size: 1 to the server's maximum (500 unless configured otherwise).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next` of the previous page.
    pub after: Option<Uuid>,
    #[serde(default)]
    pub consistency: Consistency,
}

/// Open stall alerts (B1): Admins see all, others the alerts assigned to them.
#[utoipa::path(get, path = "/alerts", tag = "queries", params(AlertParams),
    responses((status = 200, body = TaskPage), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn alerts(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<AlertParams>,
) -> Result<Json<TaskPage>, ApiError> {
    let limit = page(&state, params.limit)?;
    settle(&state, params.consistency).await?;
    let filter = InboxFilter {
        assignee: (!caller.is_admin()).then(|| caller.id()),
        portfolio: params.portfolio.map(PortfolioId::from_uuid),
        open: Some(true),
        alerts_only: true,
        after: params.after.map(TaskId::from_uuid),
        limit,
        ..InboxFilter::default()
    };
    let tasks = inbox::list(state.db(), &filter).await?;
    let next = next_cursor(&tasks, limit, |task| task.task_id.parse().ok());
    Ok(Json(TaskPage {
        tasks: tasks.into_iter().map(TaskView::from).collect(),
        limit,
        offset: 0,
        next,
    }))
}

// ---- portfolios --------------------------------------------------------------------------

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

// ---- metrics, outbox ---------------------------------------------------------------------

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

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OutboxParams {
    /// `pending`, `sending`, `sent` or `failed`.
    #[param(pattern = "^(pending|sending|sent|failed)$")]
    pub status: Option<String>,
    /// Admins only, for someone else's messages.
    pub recipient: Option<Uuid>,
    pub portfolio: Option<Uuid>,
    /// Page size: 1 to the server's maximum (500 unless configured otherwise).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// Rows to skip (any `u32`).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4294967295_i64)]
    pub offset: Option<u32>,
}

/// One email notification.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessageView {
    pub id: Uuid,
    pub portfolio_id: Uuid,
    pub kind: String,
    pub recipient: Uuid,
    pub recipient_role: String,
    pub recipient_address: Option<String>,
    pub subject: String,
    pub status: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<freshet_mail::OutboxEntry> for MessageView {
    fn from(entry: freshet_mail::OutboxEntry) -> Self {
        MessageView {
            id: entry.id.as_uuid(),
            portfolio_id: entry.portfolio.as_uuid(),
            kind: entry.kind,
            recipient: entry.recipient.as_uuid(),
            recipient_role: entry.recipient_role,
            recipient_address: entry.recipient_address,
            subject: entry.subject,
            status: entry.status.as_str().to_owned(),
            attempts: entry.attempts,
            last_error: entry.last_error,
            created_at: entry.created_at,
            next_attempt_at: entry.next_attempt_at,
            sent_at: entry.sent_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OutboxPage {
    pub messages: Vec<MessageView>,
    pub limit: u32,
    pub offset: u32,
}

/// Email notifications, newest first: all for Admins, one's own for others.
#[utoipa::path(get, path = "/outbox", tag = "queries", params(OutboxParams),
    responses((status = 200, body = OutboxPage), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn outbox(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<OutboxParams>,
) -> Result<Json<OutboxPage>, ApiError> {
    let limit = page(&state, params.limit)?;
    let offset = params.offset.unwrap_or(0);
    let statuses: HashMap<&str, freshet_mail::MessageStatus> = [
        freshet_mail::MessageStatus::Pending,
        freshet_mail::MessageStatus::Sending,
        freshet_mail::MessageStatus::Sent,
        freshet_mail::MessageStatus::Failed,
    ]
    .into_iter()
    .map(|s| (s.as_str(), s))
    .collect();
    let status = params
        .status
        .as_deref()
        .map(|s| {
            statuses.get(s).copied().ok_or_else(|| {
                ApiError::malformed(
                    "invalid-query",
                    format!("unknown status \"{s}\" (pending, sending, sent, failed)"),
                )
            })
        })
        .transpose()?;
    let recipient = match (caller.is_admin(), params.recipient) {
        (true, recipient) => recipient.map(UserId::from_uuid),
        (false, Some(other)) if other != caller.id().as_uuid() => {
            return Err(ApiError::Forbidden(
                "only an Admin may read someone else's email notifications".to_owned(),
            ));
        }
        (false, _) => Some(caller.id()),
    };
    let filter = freshet_mail::ListFilter {
        status,
        recipient,
        portfolio: params.portfolio.map(PortfolioId::from_uuid),
        limit,
        offset,
    };
    let messages = state.outbox().list(&filter).await?;
    Ok(Json(OutboxPage {
        messages: messages.into_iter().map(MessageView::from).collect(),
        limit,
        offset,
    }))
}
