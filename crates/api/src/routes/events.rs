//! `GET /me/inbox/events`: a live stream (Server-Sent Events) of my inbox. First a `snapshot`
//! of my open tasks; then, whenever a commit reaches the inbox projection, a `tasks` event
//! with my tasks that appeared or changed (opened, done). The stream ends when its token
//! stops working (revoked, or its user deactivated): checked at once when this process hears
//! of a revocation, and every [`ApiOptions::stream_token_check`](crate::ApiOptions) anyway.
//! It also ends when the server shuts down. A person may hold
//! [`ApiOptions::max_streams_per_user`](crate::ApiOptions) streams, the process
//! [`ApiOptions::max_streams`](crate::ApiOptions) in all.

use std::collections::HashMap;
use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use freshet_domain::UserId;
use freshet_projections::inbox::{self, InboxFilter};
use freshet_store::LogPosition;
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;

use super::queries::TaskView;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::streams::StreamSlot;
use crate::users;

struct Follower {
    state: AppState,
    user: UserId,
    token_hash: String,
    hints: tokio::sync::broadcast::Receiver<LogPosition>,
    revocations: watch::Receiver<u64>,
    token_check: tokio::time::Interval,
    /// task id → (open, done_at) as last sent.
    seen: HashMap<String, (bool, Option<chrono::DateTime<chrono::Utc>>)>,
    started: bool,
    /// This stream's place among the open streams, given back when the stream is dropped.
    _slot: StreamSlot,
}

impl Follower {
    async fn tasks(&self) -> Vec<TaskView> {
        let filter = InboxFilter {
            assignee: Some(self.user),
            limit: 1000,
            ..InboxFilter::default()
        };
        match inbox::list(self.state.db(), &filter).await {
            Ok(tasks) => tasks.into_iter().map(TaskView::from).collect(),
            Err(error) => {
                tracing::warn!(error = %error, "could not read the inbox for its event stream");
                Vec::new()
            }
        }
    }

    /// Whether the stream's token still works, asked of the database (never the cache). A
    /// database that cannot answer now does not end the stream.
    async fn token_works(&self) -> bool {
        match users::authenticate(self.state.db(), &self.token_hash).await {
            Ok(found) => {
                if found.is_none() {
                    tracing::info!(user.id = %self.user, "token revoked: closing its event stream");
                }
                found.is_some()
            }
            Err(error) => {
                tracing::debug!(error = %error, "could not check an event stream's token");
                true
            }
        }
    }

    /// The tasks that are new or changed since the last event, remembering them as sent.
    fn changed(&mut self, tasks: Vec<TaskView>) -> Vec<TaskView> {
        tasks
            .into_iter()
            .filter(|task| {
                let now = (task.is_open, task.done_at);
                self.seen.insert(task.task_id.clone(), now) != Some(now)
            })
            .collect()
    }

    async fn next(&mut self) -> Option<Event> {
        if !self.started {
            self.started = true;
            let tasks = self.tasks().await;
            let open: Vec<TaskView> = self
                .changed(tasks)
                .into_iter()
                .filter(|t| t.is_open)
                .collect();
            return Event::default().event("snapshot").json_data(&open).ok();
        }
        let shutdown = self.state.shutdown().clone();
        loop {
            let received = tokio::select! {
                () = shutdown.cancelled() => return None,
                received = self.hints.recv() => received,
                changed = self.revocations.changed() => {
                    if changed.is_err() || !self.token_works().await {
                        return None;
                    }
                    continue;
                }
                _ = self.token_check.tick() => {
                    if !self.token_works().await {
                        return None;
                    }
                    continue;
                }
            };
            let hint = match received {
                Ok(position) => position,
                Err(RecvError::Lagged(_)) => self.state.store().head().await.ok()?,
                Err(RecvError::Closed) => return None,
            };
            let reached = self
                .state
                .runner()
                .wait_for(
                    &[inbox::NAME],
                    hint,
                    self.state.options().consistency_timeout,
                )
                .await;
            if let Err(timeout) = reached {
                tracing::debug!(error = %timeout, "inbox behind a hint; sending what it has");
            }
            let tasks = self.tasks().await;
            let changed = self.changed(tasks);
            if !changed.is_empty() {
                return Event::default().event("tasks").json_data(&changed).ok();
            }
        }
    }
}

/// A live stream of my inbox's changes (Server-Sent Events: `snapshot`, then `tasks`).
#[utoipa::path(get, path = "/me/inbox/events", tag = "queries",
    responses((status = 200, content_type = "text/event-stream", description = "`snapshot` then `tasks` events, each a JSON array of tasks"),
              (status = 401, body = crate::Problem),
              (status = 429, body = crate::Problem, description = "the caller has as many streams open as one person may"),
              (status = 503, body = crate::Problem, description = "the server serves as many streams as it may")),
    security(("bearer" = [])))]
pub async fn inbox_events(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let slot = state.streams().take(caller.id())?;
    let keep_alive = state.options().sse_keep_alive;
    let mut token_check = tokio::time::interval(state.options().stream_token_check);
    token_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    token_check.reset();
    let follower = Follower {
        hints: state.store().subscribe(),
        revocations: state.tokens().subscribe(),
        token_check,
        token_hash: caller.token_hash().to_owned(),
        state,
        user: caller.id(),
        seen: HashMap::new(),
        started: false,
        _slot: slot,
    };
    let stream = futures::stream::unfold(follower, |mut follower| async move {
        let event = follower.next().await?;
        Some((Ok(event), follower))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(keep_alive)))
}
