//! Inboxes (R6, R12, R20): my tasks, tasks by assignee, role, portfolio and state, stall
//! alerts (B1), and completing one of my tasks.
//!
//! Everyone reads their own inbox; a portfolio's tasks are readable by the people on its
//! current team; Admins read everything.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use freshet_domain::{Command, PortfolioId, Role, TaskId, UserId};
use freshet_projections::inbox::{self, InboxFilter, InboxTask};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::command::{Answer, CommandCall, CommandResult};
use super::extract::{ApiQuery, CommandHeaderDocs, Consistency, ConsistencyParams, TaskPathDocs};
use super::read::{next_cursor, page, readable_portfolio, settle};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

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

/// Complete one of my tasks.
#[utoipa::path(post, path = "/portfolios/{id}/tasks/{task}/complete", tag = "commands",
    params(TaskPathDocs,
           ConsistencyParams, CommandHeaderDocs),
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn complete_task(call: CommandCall<(PortfolioId, Uuid)>) -> Answer {
    let task_id = call.task();
    call.run(Command::CompleteTask { task_id }).await
}
