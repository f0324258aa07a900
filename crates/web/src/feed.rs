//! A person's private calendar feed (iCalendar, RFC 5545, written by the `icalendar`
//! crate): their open tasks on the days they are due, and the Creative Refresh Dates and
//! kickoffs of their portfolios, for Google Calendar or Outlook. The address holds the
//! secret (`/app/calendar/fc_….ics`), so it works without a session; it stops working when
//! its person makes a new one or stops it in Settings. Unknown addresses are 404s.

use std::collections::BTreeSet;

use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use freshet_accounts::{User, feeds};
use freshet_api::{ApiError, AppState};
use freshet_domain::PortfolioId;
use freshet_domain::preview::{Trigger, upcoming};
use freshet_projections::inbox::{self, InboxFilter};
use freshet_projections::portfolios::{self, PortfolioFilter};
use icalendar::{Calendar, Component, Event, EventLike};

use freshet_mail::links::path;

/// More open tasks or portfolios than anyone has.
const MOST: u32 = 1_000;

/// The feed's address (relative to the host) for `secret`.
pub(crate) fn feed_path(secret: &str) -> String {
    format!("/app/calendar/{secret}.ics")
}

pub(crate) async fn feed(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let secret = file.strip_suffix(".ics").unwrap_or(&file);
    let owner = match feeds::owner(state.db(), secret).await {
        Ok(Some(owner)) => owner,
        Ok(None) => return (StatusCode::NOT_FOUND, "No calendar at this address.").into_response(),
        Err(error) => return ApiError::from(error).into_response(),
    };
    match calendar(&state, &owner).await {
        Ok(calendar) => (
            [(
                CONTENT_TYPE,
                HeaderValue::from_static("text/calendar; charset=utf-8"),
            )],
            calendar.to_string(),
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

/// An all-day event on `day`, with a stable id so calendars update it in place.
fn day_event(uid: String, day: NaiveDate, summary: String, link: String) -> Event {
    Event::new()
        .uid(&uid)
        .all_day(day)
        .summary(&summary)
        .description(&link)
        .url(&link)
        .done()
}

async fn calendar(state: &AppState, owner: &User) -> Result<Calendar, ApiError> {
    let base = &state.options().public_url;
    let mut calendar = Calendar::new();
    calendar.name(&format!("Freshet: {}", owner.name));
    let tasks = inbox::list(
        state.db(),
        &InboxFilter {
            assignee: Some(owner.id),
            open: Some(true),
            limit: MOST,
            ..InboxFilter::default()
        },
    )
    .await?;
    for task in tasks {
        let Some(due) = task.due_on else { continue };
        let page = match &task.ticket_id {
            Some(ticket) => path::ticket(&task.portfolio_id, ticket),
            None => path::portfolio(&task.portfolio_id),
        };
        calendar.push(day_event(
            format!("task-{}@freshet", task.task_id),
            due,
            format!("Due: {} ({})", task.title, task.client),
            base.link(&page),
        ));
    }
    let mine = portfolios::list(
        state.db(),
        &PortfolioFilter {
            member: Some(owner.id),
            limit: MOST,
            ..PortfolioFilter::default()
        },
    )
    .await?;
    let deadlines = state.service().config().deadlines;
    let ids: Vec<PortfolioId> = mine
        .iter()
        .filter_map(|row| row.portfolio_id.parse().ok())
        .collect();
    let states = state.service().portfolios(&ids).await?;
    for row in &mine {
        let Ok(id) = row.portfolio_id.parse::<PortfolioId>() else {
            continue;
        };
        let Some(portfolio) = states.get(&id) else {
            continue;
        };
        let link = base.link(&path::portfolio(id));
        // The refresh dates: this cycle's, and the next one's when the calendar shows it.
        let mut refreshes = BTreeSet::from([portfolio.refresh_date()]);
        for coming in upcoming(portfolio, &deadlines) {
            match coming.trigger {
                Trigger::Kickoff => {
                    calendar.push(day_event(
                        format!("kickoff-{id}-{}@freshet", coming.on),
                        coming.on,
                        format!("Kickoff: {}", row.client),
                        link.clone(),
                    ));
                }
                Trigger::NextRefreshDate => {
                    refreshes.insert(coming.on);
                }
                Trigger::Handoff | Trigger::Deadline(_) => {}
            }
        }
        for day in refreshes {
            calendar.push(day_event(
                format!("refresh-{id}-{day}@freshet"),
                day,
                format!("Creative Refresh Date: {}", row.client),
                link.clone(),
            ));
        }
    }
    Ok(calendar.done())
}
