//! My work: the home page after sign-in, every open task of the signed-in person, by when
//! it is due, each with what the rules show with it and the action that finishes it.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use freshet_api::{ApiError, AppState};

use freshet_domain::{Portfolio, PortfolioId, TaskId, TicketId};
use freshet_projections::inbox::{self, InboxFilter};

use crate::Viewer;
use crate::actions::{Action, ActionView, Origin, Scope, Target, Typed, done_notice, offered};
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
    let lines: Vec<TaskLine> = tasks
        .iter()
        .map(|task| TaskLine::new(task, today))
        .collect();
    let portfolios = match open_portfolios(&state, &lines).await {
        Ok(portfolios) => portfolios,
        Err(error) => return error_page(&error, viewer.label()),
    };
    let groups = grouped(lines, today)
        .into_iter()
        .map(|group| group.map(|line| item(&state, &viewer, &portfolios, line)))
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

/// The portfolios of `lines`, as the commands would decide on them: read through the
/// service's cache, the ones not in it many to a round trip.
async fn open_portfolios(
    state: &AppState,
    lines: &[TaskLine],
) -> Result<HashMap<PortfolioId, Portfolio>, ApiError> {
    let mut ids: Vec<PortfolioId> = lines
        .iter()
        .filter_map(|line| line.portfolio_id.parse().ok())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(state.service().portfolios(&ids).await?)
}

/// The task and the actions that finish a task of its kind, those the domain would
/// accept from this person now (B4).
fn item(
    state: &AppState,
    viewer: &Viewer,
    portfolios: &HashMap<PortfolioId, Portfolio>,
    line: TaskLine,
) -> WorkItem {
    let portfolio = line
        .portfolio_id
        .parse::<PortfolioId>()
        .ok()
        .and_then(|id| portfolios.get(&id));
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
            .filter_map(|action| {
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
                offered(state, viewer, portfolio, action, target).then(|| {
                    ActionView::new(
                        action,
                        portfolio.id,
                        target,
                        Origin::Work,
                        None,
                        &Typed::default(),
                    )
                    .for_task_line(&line)
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    WorkItem { line, actions }
}
