//! My work: the home page after sign-in, every open task of the signed-in person, by when
//! it is due.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use freshet_api::{ApiError, AppState};
use freshet_projections::inbox::{self, InboxFilter};

use crate::Viewer;
use crate::page::{error_page, render};
use crate::tasks::{Group, TaskLine, grouped};

/// More open tasks than anyone has; the page is not paged.
const MOST_TASKS: u32 = 1_000;

#[derive(Template)]
#[template(path = "work.html")]
struct WorkPage {
    person: Option<crate::page::Person>,
    groups: Vec<Group>,
}

pub(crate) async fn my_work(State(state): State<AppState>, viewer: Viewer) -> Response {
    let filter = InboxFilter {
        assignee: Some(viewer.0.id()),
        open: Some(true),
        limit: MOST_TASKS,
        ..InboxFilter::default()
    };
    let tasks = match inbox::list(state.db(), &filter).await {
        Ok(tasks) => tasks,
        Err(error) => return error_page(&ApiError::from(error), viewer.label()),
    };
    let today = state.today();
    let lines = tasks
        .iter()
        .map(|task| TaskLine::new(task, today))
        .collect();
    render(
        StatusCode::OK,
        &WorkPage {
            person: viewer.label(),
            groups: grouped(lines, today),
        },
    )
}
