//! `GET /me/inbox/events`: a live stream (Server-Sent Events) of my inbox. First a `snapshot`
//! of my open tasks; then, whenever a commit reaches the inbox projection, a `tasks` event
//! with my tasks that appeared or changed (opened, done).

use std::collections::HashMap;
use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use freshet_domain::UserId;
use freshet_projections::inbox::{self, InboxFilter};
use freshet_store::LogPosition;
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::queries::TaskView;
use crate::auth::Caller;
use crate::state::AppState;

struct Follower {
    state: AppState,
    user: UserId,
    hints: tokio::sync::broadcast::Receiver<LogPosition>,
    /// task id → (open, done_at) as last sent.
    seen: HashMap<String, (bool, Option<chrono::DateTime<chrono::Utc>>)>,
    started: bool,
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
        loop {
            let hint = match self.hints.recv().await {
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
              (status = 401, body = crate::Problem)),
    security(("bearer" = [])))]
pub async fn inbox_events(
    State(state): State<AppState>,
    caller: Caller,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let keep_alive = state.options().sse_keep_alive;
    let follower = Follower {
        hints: state.store().subscribe(),
        state,
        user: caller.id(),
        seen: HashMap::new(),
        started: false,
    };
    let stream = futures::stream::unfold(follower, |mut follower| async move {
        let event = follower.next().await?;
        Some((Ok(event), follower))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(keep_alive))
}
