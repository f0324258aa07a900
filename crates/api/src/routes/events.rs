//! `GET /me/inbox/events`: a live stream (Server-Sent Events) of my inbox. First a `snapshot`
//! of all my open tasks; then, whenever a commit reaches the inbox projection, a `tasks` event
//! with my tasks that appeared or changed (opened, done) since the last event, read from the
//! inbox by the position at which each row last changed (at most 500 an event; more follow at
//! once), so however long my inbox, nothing is missed or re-read. When the inbox is rebuilt
//! under the stream (a switch of generations, or one portfolio's rows rebuilt in place), the
//! next event is a new `snapshot`, sent at once (the rebuild announces itself as a commit
//! would): a client replaces its list with it. The stream ends when its token
//! stops working (revoked, or its user deactivated): checked at once when this process hears
//! of a revocation, and every [`ApiOptions::stream_token_check`](crate::ApiOptions) anyway.
//! It also ends when the server shuts down. A person may hold
//! [`ApiOptions::max_streams_per_user`](crate::ApiOptions) streams, the process
//! [`ApiOptions::max_streams`](crate::ApiOptions) in all.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use freshet_domain::UserId;
use freshet_follower::checkpoint;
use freshet_projections::generation::{self, Marker};
use freshet_projections::inbox::{self, ChangeCursor, InboxTask};
use freshet_store::LogPosition;
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;

use super::inbox::TaskView;
use crate::auth::{Caller, Credential};
use crate::error::ApiError;
use crate::state::AppState;
use crate::streams::StreamSlot;

/// Tasks per query, and at most per `tasks` event.
const PAGE: u32 = 500;

struct Follower {
    state: AppState,
    user: UserId,
    credential: Credential,
    hints: tokio::sync::broadcast::Receiver<LogPosition>,
    revocations: watch::Receiver<u64>,
    token_check: tokio::time::Interval,
    /// The inbox's generations when the last snapshot was read; `None` before it. When
    /// they change (a rebuild switched or rewrote rows), the next event is a new snapshot.
    marker: Option<Marker>,
    /// Where the next `tasks` event starts (set by the snapshot).
    cursor: ChangeCursor,
    /// The last page of changes was full: read on before waiting for a hint.
    more: bool,
    /// This stream's place among the open streams, given back when the stream is dropped.
    _slot: StreamSlot,
}

impl Follower {
    /// Every open task of mine, a page at a time; remembers where the changes after it
    /// start and which generations it was read from.
    async fn snapshot(&mut self, marker: Marker) -> Result<Event, sqlx::Error> {
        // The checkpoint first: whatever the inbox writes after it, a `tasks` event carries
        // (a task written in between may come twice; never not at all).
        let at = checkpoint::load(self.state.db(), inbox::NAME).await?;
        let mut open: Vec<InboxTask> = Vec::new();
        loop {
            let page = inbox::open_page(self.state.db(), self.user, open.last(), PAGE).await?;
            let full = page.len() == PAGE as usize;
            open.extend(page);
            if !full {
                break;
            }
        }
        self.marker = Some(marker);
        self.cursor = ChangeCursor::after(at);
        self.more = false;
        let open: Vec<TaskView> = open.into_iter().map(TaskView::from).collect();
        Ok(Event::default()
            .event("snapshot")
            .json_data(&open)
            .unwrap_or_default())
    }

    /// Whether the stream's token or session still works, asked of the database (never the
    /// cache). A database that cannot answer now does not end the stream.
    async fn token_works(&self) -> bool {
        let db = self.state.db();
        let works = match &self.credential {
            Credential::Token { hash } => freshet_accounts::tokens::authenticate(db, hash)
                .await
                .map(|found| found.is_some()),
            Credential::Session { hash } => {
                let policy = self.state.options().sessions;
                freshet_accounts::sessions::is_valid(db, hash, policy, self.state.now()).await
            }
        };
        match works {
            Ok(works) => {
                if !works {
                    tracing::info!(user.id = %self.user, "credential ended: closing its event stream");
                }
                works
            }
            Err(error) => {
                tracing::debug!(error = %error, "could not check an event stream's token");
                true
            }
        }
    }

    /// A page of my tasks changed after the cursor, moving the cursor past them. A failed
    /// read leaves the cursor where it was, so the next hint reads them again.
    async fn changes(&mut self) -> Vec<TaskView> {
        match inbox::changes(self.state.db(), self.user, &self.cursor, PAGE).await {
            Ok((tasks, next)) => {
                self.more = tasks.len() == PAGE as usize;
                self.cursor = next;
                tasks.into_iter().map(TaskView::from).collect()
            }
            Err(error) => {
                tracing::warn!(error = %error, "could not read the inbox for its event stream");
                self.more = false;
                Vec::new()
            }
        }
    }

    /// A new snapshot when this is the first event or the inbox was rebuilt under the
    /// stream; `None` when the last one still holds. An error ends the stream (the client
    /// reconnects) rather than sending an empty or partial snapshot.
    async fn resnapshot(&mut self) -> Result<Option<Event>, sqlx::Error> {
        let marker = generation::marker(self.state.db(), inbox::NAME).await?;
        if self.marker.as_ref() == Some(&marker) {
            return Ok(None);
        }
        self.snapshot(marker).await.map(Some)
    }

    async fn next(&mut self) -> Option<Event> {
        if self.marker.is_none() {
            return match self.resnapshot().await {
                Ok(snapshot) => snapshot,
                Err(error) => {
                    tracing::warn!(error = %error, "could not read the inbox for its snapshot");
                    None
                }
            };
        }
        let shutdown = self.state.shutdown().clone();
        loop {
            if !self.more {
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
            }
            match self.resnapshot().await {
                Ok(Some(snapshot)) => return Some(snapshot),
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(error = %error, "could not read the inbox for its snapshot");
                    return None;
                }
            }
            let changed = self.changes().await;
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
        revocations: state.accounts().revocations(),
        token_check,
        credential: caller.credential().clone(),
        state,
        user: caller.id(),
        marker: None,
        cursor: ChangeCursor::default(),
        more: false,
        _slot: slot,
    };
    let stream = futures::stream::unfold(follower, |mut follower| async move {
        let event = follower.next().await?;
        Some((Ok(event), follower))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(keep_alive)))
}
