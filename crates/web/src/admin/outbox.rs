//! The email outbox: how many messages are in each state, the failed ones first with
//! their error and a "Retry" button (the same operation as `freshet outbox retry`), then
//! the latest of the others. Only subjects show: an account message's body holds a secret
//! link, and the listing never even reads bodies.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use freshet_accounts::users;
use freshet_api::{ApiError, AppState};
use freshet_domain::EmailId;
use freshet_mail::{ListFilter, MailError, MessageStatus, OutboxEntry};
use uuid::Uuid;

use super::{Admin, Done, when};
use crate::page::{Person, error_page, render};

/// How many of each state the page lists.
const SHOWN: u32 = 50;

struct MessageRow {
    id: Uuid,
    created: String,
    kind: String,
    to: String,
    subject: String,
    attempts: u32,
    error: Option<String>,
    sent: Option<String>,
    problem: Option<String>,
}

struct StateGroup {
    slug: &'static str,
    heading: &'static str,
    count: i64,
    messages: Vec<MessageRow>,
}

#[derive(Template)]
#[template(path = "admin/outbox.html")]
struct OutboxPage {
    person: Option<Person>,
    section: &'static str,
    notice: Option<&'static str>,
    groups: Vec<StateGroup>,
}

const STATES: [(MessageStatus, &str); 4] = [
    (MessageStatus::Failed, "Failed"),
    (MessageStatus::Pending, "Waiting to be sent"),
    (MessageStatus::Sending, "Being sent"),
    (MessageStatus::Sent, "Sent"),
];

fn row(entry: OutboxEntry, names: &HashMap<Uuid, String>) -> MessageRow {
    let recipient = entry.recipient.as_uuid();
    let name = names
        .get(&recipient)
        .cloned()
        .unwrap_or_else(|| recipient.to_string());
    MessageRow {
        id: entry.id.as_uuid(),
        created: when(entry.created_at),
        kind: entry.kind.replace('_', " "),
        to: match entry.recipient_address {
            Some(address) => format!("{name} <{address}>"),
            None => name,
        },
        subject: entry.subject,
        attempts: entry.attempts,
        error: entry.last_error,
        sent: entry.sent_at.map(when),
        problem: None,
    }
}

async fn show(
    state: &AppState,
    admin: &Admin,
    status: StatusCode,
    notice: Option<&'static str>,
    failed: Option<(Uuid, String)>,
) -> Response {
    let groups = async {
        let names: HashMap<Uuid, String> = users::list(state.db())
            .await?
            .into_iter()
            .map(|user| (user.id.as_uuid(), user.name))
            .collect();
        let counts: HashMap<&str, i64> = state
            .outbox()
            .counts()
            .await?
            .into_iter()
            .map(|(status, count)| (status.as_str(), count))
            .collect();
        let mut groups = Vec::new();
        for (status, heading) in STATES {
            let filter = ListFilter {
                status: Some(status),
                limit: SHOWN,
                ..ListFilter::default()
            };
            let mut messages: Vec<MessageRow> = state
                .outbox()
                .list(&filter)
                .await?
                .into_iter()
                .map(|entry| row(entry, &names))
                .collect();
            if let Some((id, problem)) = &failed
                && let Some(message) = messages.iter_mut().find(|message| message.id == *id)
            {
                message.problem = Some(problem.clone());
            }
            groups.push(StateGroup {
                slug: status.as_str(),
                heading,
                count: counts.get(status.as_str()).copied().unwrap_or(0),
                messages,
            });
        }
        Ok::<_, ApiError>(groups)
    }
    .await;
    match groups {
        Ok(groups) => render(
            status,
            &OutboxPage {
                person: admin.0.label(),
                section: "outbox",
                notice,
                groups,
            },
        ),
        Err(error) => error_page(&error, admin.0.label()),
    }
}

pub(crate) async fn page(
    State(state): State<AppState>,
    admin: Admin,
    Query(done): Query<Done>,
) -> Response {
    let notice = (done.done.as_deref() == Some("retried"))
        .then_some("The email is back in the queue with a fresh set of attempts.");
    show(&state, &admin, StatusCode::OK, notice, None).await
}

/// Puts a failed email back in the queue, as `freshet outbox retry` does. Pressed twice,
/// the second finds it no longer failed and says so.
pub(crate) async fn retry(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<Uuid>,
) -> Response {
    match state
        .outbox()
        .retry_failed(EmailId::from_uuid(id), state.now())
        .await
    {
        Ok(()) => Redirect::to("/app/admin/outbox?done=retried").into_response(),
        Err(MailError::NotFailed { status, .. }) => {
            let problem = format!(
                "This email is {} now, not failed: there is nothing to retry.",
                status.as_str()
            );
            let status = StatusCode::CONFLICT;
            show(&state, &admin, status, None, Some((id, problem))).await
        }
        Err(MailError::NotFound { .. }) => {
            let missing = ApiError::NotFound(format!("no email {id} in the outbox"));
            error_page(&missing, admin.0.label())
        }
        Err(error) => error_page(&ApiError::from(error), admin.0.label()),
    }
}
