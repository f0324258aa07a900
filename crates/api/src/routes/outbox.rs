//! The email notifications (the outbox): all for Admins, one's own for others.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use freshet_domain::{PortfolioId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::ApiQuery;
use super::read::page;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

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
    /// None for a message about the person's account (an invitation, a password reset, the
    /// daily digest).
    pub portfolio_id: Option<Uuid>,
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
            portfolio_id: entry.portfolio.map(|portfolio| portfolio.as_uuid()),
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
