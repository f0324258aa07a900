//! A portfolio's page, as far as the signed-in person may see it (their team's, or every
//! one for an Admin; others are answered like a portfolio that does not exist): its facts,
//! my tasks there, the actions I may take now, its Ad Set and its Notes.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use freshet_api::{ApiError, AppState, readable_portfolio};
use freshet_domain::{Lifecycle, Portfolio, PortfolioId, Role, TaskId, TicketStatus};
use freshet_mail::links::path;
use freshet_projections::inbox::{self, InboxFilter};
use uuid::Uuid;

use crate::Viewer;
use crate::actions::{
    Action, ActionView, Failed, Origin, Scope, Target, Typed, done_notice, forms, offered,
};
use crate::page::{error_page, render};
use crate::record::{NoteLine, Record};
use crate::tasks::TaskLine;

/// A task on the page, with the "Mark done" form when it finishes by hand.
pub(crate) struct TaskItem {
    pub line: TaskLine,
    pub done: Option<ActionView>,
}

struct TicketRow {
    title: String,
    status: &'static str,
    copy: &'static str,
    graphics: &'static str,
    needs_revisions: &'static str,
    round: u32,
    href: String,
}

#[derive(Template)]
#[template(path = "portfolio.html")]
struct PortfolioPage {
    person: Option<crate::page::Person>,
    notice: Option<&'static str>,
    id: String,
    actions: Vec<ActionView>,
    client: String,
    status: &'static str,
    lifecycle: Option<String>,
    refresh_date: String,
    cadence: String,
    team: Vec<(&'static str, String)>,
    am_note: Option<String>,
    ad_lab_link: Option<String>,
    tasks: Vec<TaskItem>,
    progress: Option<String>,
    folder: Option<String>,
    tickets: Vec<TicketRow>,
    notes: Vec<NoteLine>,
}

/// The portfolio, if `viewer` may read it, and their open tasks on it.
pub(crate) async fn load(
    state: &AppState,
    viewer: &Viewer,
    id: PortfolioId,
) -> Result<(Portfolio, Vec<TaskLine>), ApiError> {
    let portfolio = readable_portfolio(state, &viewer.0, id).await?;
    let filter = InboxFilter {
        assignee: Some(viewer.0.id()),
        portfolio: Some(id),
        open: Some(true),
        limit: 500,
        ..InboxFilter::default()
    };
    let today = state.today();
    let tasks = inbox::list(state.db(), &filter)
        .await?
        .iter()
        .map(|task| TaskLine::new(task, today))
        .collect();
    Ok((portfolio, tasks))
}

/// [`load`], and what the portfolio's history holds besides.
pub(crate) async fn load_with_record(
    state: &AppState,
    viewer: &Viewer,
    id: PortfolioId,
) -> Result<(Portfolio, Vec<TaskLine>, Record), ApiError> {
    let (portfolio, tasks) = load(state, viewer, id).await?;
    Ok((portfolio, tasks, Record::load(state, id).await?))
}

/// `tasks` with a "Mark done" form on each the domain lets this person finish by hand.
pub(crate) fn task_items(
    state: &AppState,
    viewer: &Viewer,
    portfolio: &Portfolio,
    tasks: Vec<TaskLine>,
    failed: Option<&Failed>,
) -> Vec<TaskItem> {
    tasks
        .into_iter()
        .map(|line| {
            let target = Target {
                ticket: None,
                task: line.task_id.parse::<TaskId>().ok(),
            };
            let done = (target.task.is_some()
                && (failed.is_some_and(|f| f.target == target)
                    || offered(state, viewer, portfolio, Action::CompleteTask, target)))
            .then(|| {
                ActionView::new(
                    Action::CompleteTask,
                    portfolio.id,
                    target,
                    Origin::Own,
                    failed,
                    &Typed::default(),
                )
            });
            TaskItem { line, done }
        })
        .collect()
}

#[derive(serde::Deserialize)]
pub(crate) struct Done {
    pub done: Option<String>,
}

pub(crate) async fn portfolio(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Uuid>,
    Query(done): Query<Done>,
) -> Response {
    let notice = done_notice(done.done.as_deref());
    let id = PortfolioId::from_uuid(id);
    show_portfolio(&state, &viewer, id, StatusCode::OK, notice, None).await
}

/// The portfolio's page with `status`, perhaps a notice, perhaps an action just refused.
pub(crate) async fn show_portfolio(
    state: &AppState,
    viewer: &Viewer,
    id: PortfolioId,
    status: StatusCode,
    notice: Option<&'static str>,
    failed: Option<Failed>,
) -> Response {
    let (portfolio, tasks, record) = match load_with_record(state, viewer, id).await {
        Ok(loaded) => loaded,
        Err(error) => return error_page(&error, viewer.label()),
    };
    let failed = failed.as_ref();
    let prefill = Typed {
        link: portfolio
            .ad_lab_link
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        deliverables: portfolio
            .current_ad_set()
            .map(|set| set.deliverables.to_string())
            .unwrap_or_default(),
        ..Typed::default()
    };
    let actions = forms(
        state,
        viewer,
        &portfolio,
        Scope::Portfolio,
        Target::default(),
        failed,
        &prefill,
    );
    let set = portfolio.ad_sets.get(&portfolio.cycle.number);
    let tickets = set
        .map(|set| {
            set.tickets
                .iter()
                .map(|ticket| TicketRow {
                    title: ticket.title.to_string(),
                    status: ticket.status.label(),
                    copy: ticket.copy.label(),
                    graphics: ticket.graphic.label(),
                    needs_revisions: ticket.needs_revisions.map_or("", |kind| kind.label()),
                    round: ticket.revision_round,
                    href: path::ticket(id, ticket.id),
                })
                .collect()
        })
        .unwrap_or_default();
    let progress = set.map(|set| {
        let ready = set
            .tickets
            .iter()
            .filter(|t| t.status != TicketStatus::InProgress)
            .count();
        format!(
            "{ready} of {} ready ({} created)",
            set.deliverables,
            set.tickets.len()
        )
    });
    let names = record.names_of(&portfolio);
    let page = PortfolioPage {
        person: viewer.label(),
        notice,
        id: id.to_string(),
        tasks: task_items(state, viewer, &portfolio, tasks, failed),
        actions,
        client: portfolio.client.to_string(),
        status: portfolio
            .cycle
            .status
            .map_or("None (no refresh under way)", |status| status.label()),
        lifecycle: match portfolio.lifecycle {
            Lifecycle::Active => None,
            Lifecycle::Paused(since) => {
                Some(format!("Paused since {}", since.format("%B %-d, %Y")))
            }
            Lifecycle::Ended(on) => Some(format!("Ended on {}", on.format("%B %-d, %Y"))),
        },
        refresh_date: portfolio
            .refresh_date()
            .format("%A, %B %-d, %Y")
            .to_string(),
        cadence: portfolio.schedule.cadence.to_string(),
        team: names,
        am_note: portfolio.am_note.as_ref().map(|note| note.text.to_string()),
        ad_lab_link: portfolio.ad_lab_link.as_ref().map(ToString::to_string),
        progress,
        folder: set.map(|set| set.folder.to_string()),
        tickets,
        notes: record.portfolio_notes(),
    };
    render(status, &page)
}

/// The five roles of a team in the order the process documents name them.
pub(crate) const ROLES: [(Role, &str); 5] = [
    (Role::AccountManager, "Account Manager"),
    (Role::SocialAdSpecialist, "Social Ad Specialist"),
    (Role::Copywriter, "Copywriter"),
    (Role::Designer, "Designer"),
    (Role::TeamLead, "Team Lead"),
];
