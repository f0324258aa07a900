//! Invitations (Admin): a new person gets an email with a one-time link to choose their
//! password (valid 72 hours); someone whose invitation was lost or expired gets another.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use freshet_accounts::invitations::{self, Invitation};
use freshet_domain::UserId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::admin::{NewUserBody, UserView};
use super::extract::{ApiJson, ApiPath};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// An invitation on its way: the person, and until when the emailed link works.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvitationView {
    pub user: UserView,
    pub link_expires_at: DateTime<Utc>,
}

impl From<Invitation> for InvitationView {
    fn from(invitation: Invitation) -> Self {
        Self {
            user: invitation.user.into(),
            link_expires_at: invitation.expires_at,
        }
    }
}

/// Invite a person (Admin): they are created without a password, and emailed a one-time
/// link to choose one. The email goes through the outbox in the same transaction.
#[utoipa::path(post, path = "/admin/invitations", tag = "admin", request_body = NewUserBody,
    responses((status = 201, body = InvitationView), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewUserBody>,
) -> Result<(StatusCode, Json<InvitationView>), ApiError> {
    caller.require_admin("invite people")?;
    let invitation = invitations::invite(
        state.db(),
        state.mail_renderer(),
        &body.name,
        &body.email,
        body.admin,
        Some(caller.id()),
        state.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(invitation.into())))
}

/// Invite again someone who has not chosen a password yet (Admin): a new link; earlier
/// ones stop working. Refused (429, with `Retry-After`) within a minute of the last
/// invitation, whose link is on its way.
#[utoipa::path(post, path = "/admin/users/{id}/invitation", tag = "admin",
    params(("id" = Uuid, Path)),
    responses((status = 201, body = InvitationView), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn invite_again(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<(StatusCode, Json<InvitationView>), ApiError> {
    caller.require_admin("invite people")?;
    let invitation = invitations::invite_again(
        state.db(),
        state.mail_renderer(),
        UserId::from_uuid(id),
        Some(caller.id()),
        state.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(invitation.into())))
}
