//! My work: the home page after sign-in, every open task of the signed-in person, by when
//! it is due, each with what the rules show with it and the action that finishes it.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use freshet_api::{ApiError, AppState};
use freshet_domain::{PortfolioId, TaskId, TicketId};
use freshet_projections::inbox::{self, InboxFilter};

use crate::Viewer;
use crate::actions::{Action, ActionView, Origin, Scope, Target, Typed, done_notice};
use crate::page::{error_page, render};
use crate::portfolio::Done;
use crate::tasks::{Group, TaskLine, grouped};

/// More open tasks than anyone has; the page is not paged.
const MOST_TASKS: u32 = 1_000;

/// A task with the forms that finish it here.
struct WorkItem {
    line: TaskLine,
    actions: Vec<ActionView>,
}

#[derive(Template)]
#[template(path = "work.html")]
struct WorkPage {
    person: Option<crate::page::Person>,
    notice: Option<&'static str>,
    groups: Vec<Group<WorkItem>>,
}

pub(crate) async fn my_work(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(done): Query<Done>,
) -> Response {
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
    let groups = grouped(lines, today)
        .into_iter()
        .map(|group| group.map(item))
        .collect();
    render(
        StatusCode::OK,
        &WorkPage {
            person: viewer.label(),
            notice: done_notice(done.done.as_deref()),
            groups,
        },
    )
}

/// The task and the actions that finish a task of its kind. They are not checked against
/// the portfolio here, so the page stays one query however many tasks there are; the
/// command decides when it is posted, and a refusal shows on the task's own page.
fn item(line: TaskLine) -> WorkItem {
    let portfolio = line.portfolio_id.parse::<PortfolioId>().ok();
    let target = Target {
        ticket: line
            .ticket_id
            .as_deref()
            .and_then(|t| t.parse::<TicketId>().ok()),
        task: line.task_id.parse::<TaskId>().ok(),
    };
    let actions = match (portfolio, line.kind()) {
        (Some(portfolio), Some(kind)) => Action::ALL
            .into_iter()
            .filter(|action| action.finishes(kind))
            .map(|action| {
                let target = match action.scope() {
                    Scope::Portfolio => Target::default(),
                    Scope::Ticket => Target {
                        task: None,
                        ..target
                    },
                    Scope::Task => Target {
                        ticket: None,
                        ..target
                    },
                };
                ActionView::new(
                    action,
                    portfolio,
                    target,
                    Origin::Work,
                    None,
                    &Typed::default(),
                )
                .for_task_line(&line.task_id)
            })
            .collect(),
        _ => Vec::new(),
    };
    WorkItem { line, actions }
}
