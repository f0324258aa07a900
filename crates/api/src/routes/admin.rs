//! Admin: users and tokens (created, listed, revoked, deactivated), projection status and
//! rebuilds.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use freshet_domain::UserId;
use freshet_follower::Lag;
use freshet_projections::inbox::{self, InboxFilter};
use freshet_projections::{RebuildProgress, find_projection};
use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::{ApiJson, ApiPath};
use super::inbox::TaskView;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use freshet_accounts::{TokenInfo, User, tokens, users};

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    /// 1 to 200 characters on one line.
    #[schema(value_type = super::values::SingleLineText)]
    pub name: String,
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    #[serde(default)]
    pub admin: bool,
}

/// A new user and their first token's plaintext (shown only this once).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NewUser {
    pub user: UserView,
    pub token: String,
    /// The first token's id, to list or revoke it.
    pub token_id: Uuid,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub admin: bool,
    pub created_at: DateTime<Utc>,
    /// The Admin who created this user; null: the command line.
    pub created_by: Option<Uuid>,
    pub deactivated_at: Option<DateTime<Utc>>,
    pub deactivated_by: Option<Uuid>,
    /// For a deactivated user in the Admin's listing: how many tasks they left open (change
    /// the portfolio's team to move them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_tasks: Option<usize>,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        UserView {
            id: user.id.as_uuid(),
            name: user.name,
            email: user.email,
            admin: user.admin,
            created_at: user.created_at,
            created_by: user.created_by.as_ref().map(UserId::as_uuid),
            deactivated_at: user.deactivated_at,
            deactivated_by: user.deactivated_by.as_ref().map(UserId::as_uuid),
            open_tasks: None,
        }
    }
}

/// Create a user with a first token, in one transaction (Admin).
#[utoipa::path(post, path = "/admin/users", tag = "admin", request_body = NewUserBody,
    responses((status = 201, body = NewUser), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn add_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewUserBody>,
) -> Result<(StatusCode, Json<NewUser>), ApiError> {
    caller.require_admin("add users")?;
    let (user, token) = users::add(
        state.db(),
        &body.name,
        &body.email,
        body.admin,
        Some(caller.id()),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(NewUser {
            user: user.into(),
            token: token.secret.expose_secret().to_owned(),
            token_id: token.info.id,
        }),
    ))
}

/// The open tasks assigned to `user` (at most 1,000), from the inbox read model.
async fn open_tasks(state: &AppState, user: UserId) -> Result<Vec<TaskView>, ApiError> {
    let filter = InboxFilter {
        assignee: Some(user),
        open: Some(true),
        limit: 1000,
        ..InboxFilter::default()
    };
    let tasks = inbox::list(state.db(), &filter).await?;
    Ok(tasks.into_iter().map(TaskView::from).collect())
}

/// Every user, deactivated ones with the number of tasks they left open (Admin).
#[utoipa::path(get, path = "/admin/users", tag = "admin",
    responses((status = 200, body = Vec<UserView>), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<UserView>>, ApiError> {
    caller.require_admin("list users")?;
    let mut views = Vec::new();
    for user in users::list(state.db()).await? {
        let deactivated = user.deactivated_at.is_some().then_some(user.id);
        let mut view = UserView::from(user);
        if let Some(id) = deactivated {
            view.open_tasks = Some(open_tasks(&state, id).await?.len());
        }
        views.push(view);
    }
    Ok(Json(views))
}

/// Who I am.
#[utoipa::path(get, path = "/me", tag = "queries",
    responses((status = 200, body = UserView), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn me(caller: Caller) -> Json<UserView> {
    Json(caller.user.into())
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenBody {
    /// What the token is for: 1 to 200 characters on one line.
    #[schema(value_type = super::values::SingleLineText)]
    pub label: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NewToken {
    pub token: TokenInfo,
    /// The plaintext, shown only this once.
    pub secret: String,
}

/// Issue another token for an active user (Admin).
#[utoipa::path(post, path = "/admin/users/{id}/tokens", tag = "admin",
    params(("id" = Uuid, Path)), request_body = NewTokenBody,
    responses((status = 201, body = NewToken), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn issue_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<NewTokenBody>,
) -> Result<(StatusCode, Json<NewToken>), ApiError> {
    caller.require_admin("issue tokens")?;
    let issued = tokens::issue(
        state.db(),
        UserId::from_uuid(id),
        &body.label,
        Some(caller.id()),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(NewToken {
            token: issued.info,
            secret: issued.secret.expose_secret().to_owned(),
        }),
    ))
}

/// A user's tokens, revoked ones too: label, created (when, by whom), last used (to the
/// minute), revoked (when, by whom) (Admin).
#[utoipa::path(get, path = "/admin/users/{id}/tokens", tag = "admin",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<TokenInfo>), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Vec<TokenInfo>>, ApiError> {
    caller.require_admin("list tokens")?;
    Ok(Json(
        tokens::of_user(state.db(), UserId::from_uuid(id)).await?,
    ))
}

/// Revoke a token: it stops working at once, in every process (Admin).
#[utoipa::path(delete, path = "/admin/tokens/{id}", tag = "admin",
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    caller.require_admin("revoke tokens")?;
    state.accounts().revoke(id, Some(caller.id())).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What deactivating a user did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Deactivated {
    pub user: UserView,
    /// Tokens revoked now (zero when the user was already deactivated).
    pub revoked_tokens: u64,
    /// The tasks they left open (at most 1,000): change their portfolios' teams to move them.
    pub open_tasks: Vec<TaskView>,
}

/// Deactivate a user: every token is revoked at once, in every process, no new one can be
/// issued, and the answer lists the tasks they left open (Admin).
#[utoipa::path(post, path = "/admin/users/{id}/deactivate", tag = "admin",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Deactivated), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn deactivate_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Deactivated>, ApiError> {
    caller.require_admin("deactivate users")?;
    let deactivated = state
        .accounts()
        .deactivate(UserId::from_uuid(id), Some(caller.id()))
        .await?;
    let open = open_tasks(&state, deactivated.user.id).await?;
    if !open.is_empty() {
        tracing::warn!(
            user.id = %deactivated.user.id,
            open_tasks = open.len(),
            "a deactivated user left tasks open: change their portfolios' teams"
        );
    }
    let mut user = UserView::from(deactivated.user);
    user.open_tasks = Some(open.len());
    Ok(Json(Deactivated {
        user,
        revoked_tokens: deactivated.revoked_tokens,
        open_tasks: open,
    }))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectionStatus {
    pub name: String,
    pub events_behind: i64,
    pub seconds_behind: f64,
    #[schema(value_type = Object)]
    pub checkpoint: freshet_store::LogPosition,
    /// The last rebuild started through the API, if any.
    #[schema(value_type = Option<Object>)]
    pub rebuild: Option<RebuildProgress>,
    /// Set while its batch cannot apply (the worker keeps retrying it): failures in a row,
    /// since when, and the last error.
    #[schema(value_type = Option<Object>)]
    pub failure: Option<freshet_follower::checkpoint::Failure>,
}

/// Every projection's lag and its last rebuild's progress (Admin).
#[utoipa::path(get, path = "/admin/projections", tag = "admin",
    responses((status = 200, body = Vec<ProjectionStatus>), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn projections(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ProjectionStatus>>, ApiError> {
    caller.require_admin("see the projections")?;
    Ok(Json(projection_statuses(&state).await?))
}

/// Every projection's lag and its last rebuild's progress (for the API and the web app's
/// Admin page alike).
pub async fn projection_statuses(state: &AppState) -> Result<Vec<ProjectionStatus>, ApiError> {
    let lags = projection_lags(state).await?;
    let mut rebuilds = state.rebuilds();
    Ok(lags
        .into_iter()
        .map(|lag| ProjectionStatus {
            rebuild: rebuilds.remove(&lag.name),
            name: lag.name,
            events_behind: lag.events_behind,
            seconds_behind: lag.seconds_behind,
            checkpoint: lag.checkpoint,
            failure: lag.failure,
        })
        .collect())
}

pub(crate) async fn projection_lags(state: &AppState) -> Result<Vec<Lag>, ApiError> {
    let now = state.service().clock().now();
    Ok(
        freshet_follower::checkpoint::lag(state.db(), &freshet_projections::PROJECTION_NAMES, now)
            .await?,
    )
}

/// Start rebuilding a projection into a new generation; follow it on
/// `GET /admin/projections` (Admin).
#[utoipa::path(post, path = "/admin/projections/{name}/rebuild", tag = "admin",
    params(("name" = String, Path)),
    responses((status = 202, body = Object), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn rebuild(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<(StatusCode, Json<RebuildProgress>), ApiError> {
    caller.require_admin("rebuild projections")?;
    Ok((StatusCode::ACCEPTED, Json(start_rebuild(&state, &name)?)))
}

/// Starts rebuilding `name` into a new generation in the background (for the API and the
/// web app's Admin page alike); its progress is in [`projection_statuses`]. A conflict
/// while one is already running.
pub fn start_rebuild(state: &AppState, name: &str) -> Result<RebuildProgress, ApiError> {
    let projection = find_projection(&state.projections(), name)
        .map_err(|_| ApiError::NotFound(format!("no projection \"{name}\"")))?;
    let initial = RebuildProgress::new(name);
    let (sender, receiver) = watch::channel(initial.clone());
    if !state.track_rebuild(name, receiver) {
        return Err(ApiError::Conflict(format!(
            "a rebuild of \"{name}\" is already running"
        )));
    }
    let runner = state.runner().clone();
    tokio::spawn(async move {
        match freshet_projections::rebuild(&runner, projection.as_ref(), &sender).await {
            Ok(report) => {
                tracing::info!(projection = %report.projection, events = report.events, "rebuild done")
            }
            Err(error) => tracing::error!(error = %error, "rebuild failed"),
        }
    });
    Ok(initial)
}
