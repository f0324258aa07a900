//! A portfolio's history (B2): every change with who made it, when and why, oldest first,
//! a page at a time; and the portfolio as it stood at the end of a chosen day.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{NaiveDate, NaiveTime, TimeZone as _};
use freshet_api::{ApiError, AppState, readable_portfolio};
use freshet_domain::{Portfolio, PortfolioId};
use freshet_projections::audit::{self, AuditEntry};
use serde::Deserialize;
use uuid::Uuid;

use crate::Viewer;
use crate::page::{error_page, render};
use crate::people::Names;
use freshet_mail::links::path;

/// Changes on one page.
const PAGE_SIZE: u32 = 100;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct HistoryQuery {
    /// The day to show the portfolio as it stood at the end of (`YYYY-MM-DD`).
    #[serde(default)]
    on: String,
    /// The last version of the previous page.
    #[serde(default)]
    after: String,
}

struct Change {
    when: String,
    who: String,
    what: String,
    why: String,
}

/// The portfolio's facts and Ad Set at the chosen day's end.
struct Past {
    day: String,
    client: String,
    status: &'static str,
    refresh_date: String,
    cadence: String,
    am_note: Option<String>,
    tickets: Vec<(String, &'static str)>,
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage {
    person: Option<crate::page::Person>,
    client: String,
    portfolio_href: String,
    href: String,
    changes: Vec<Change>,
    next: Option<String>,
    on: String,
    past: Option<Past>,
    /// The chosen day is before the portfolio existed.
    not_yet: bool,
}

/// `EventType` as words: `TicketCreated` → "Ticket created".
fn words(event_type: &str) -> String {
    let mut out = String::new();
    for (i, c) in event_type.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Why a change happened: the Note or reason it carries, the trigger for an automatic
/// one, and the command it came with (changes of one command share its cause).
fn why(entry: &AuditEntry, previous: Option<&AuditEntry>) -> String {
    let text = ["note", "reason", "text"].iter().find_map(|field| {
        let value = entry.payload.get(*field)?;
        value
            .as_str()
            .or_else(|| value.get("text").and_then(|text| text.as_str()))
            .map(str::to_owned)
    });
    if let Some(text) = text {
        return format!("“{text}”");
    }
    if previous.is_some_and(|previous| previous.causation_id == entry.causation_id) {
        return "Part of the change above".to_owned();
    }
    let cause = entry.causation_id.simple().to_string();
    let cause = cause.get(..8).unwrap_or(&cause).to_owned();
    match entry.actor {
        None => format!("The schedule (trigger {cause})"),
        Some(_) => format!("Their command {cause}"),
    }
}

fn past(day: NaiveDate, portfolio: &Portfolio) -> Past {
    Past {
        day: day.format("%A, %B %-d, %Y").to_string(),
        client: portfolio.client.to_string(),
        status: portfolio
            .cycle
            .status
            .map_or("No Refresh Requested", |status| status.label()),
        refresh_date: portfolio
            .refresh_date()
            .format("%A, %B %-d, %Y")
            .to_string(),
        cadence: portfolio.schedule.cadence.to_string(),
        am_note: portfolio.am_note.as_ref().map(|note| note.text.to_string()),
        tickets: portfolio
            .ad_sets
            .get(&portfolio.cycle.number)
            .map(|set| {
                set.tickets
                    .iter()
                    .map(|ticket| (ticket.title.to_string(), ticket.status.label()))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

pub(crate) async fn history(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Uuid>,
    Query(query): Query<HistoryQuery>,
) -> Response {
    match page(&state, &viewer, PortfolioId::from_uuid(id), &query).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(error) => error_page(&error, viewer.label()),
    }
}

async fn page(
    state: &AppState,
    viewer: &Viewer,
    id: PortfolioId,
    query: &HistoryQuery,
) -> Result<HistoryPage, ApiError> {
    let portfolio = readable_portfolio(state, &viewer.0, id).await?;
    let after = match query.after.as_str() {
        "" => 0,
        typed => typed
            .parse::<u32>()
            .map_err(|_| ApiError::malformed("invalid-query", "after must be a version number"))?,
    };
    let day = match query.on.trim() {
        "" => None,
        typed => Some(NaiveDate::parse_from_str(typed, "%Y-%m-%d").map_err(|_| {
            ApiError::malformed(
                "invalid-query",
                format!("\"{typed}\" is not a date (year-month-day)"),
            )
        })?),
    };
    let entries = audit::history(state.store().as_ref(), id, i64::from(after), PAGE_SIZE).await?;
    let names = Names::load(state).await?;
    let zone = state.service().config().calendar.time_zone();
    let changes = entries
        .iter()
        .enumerate()
        .map(|(i, entry)| Change {
            when: entry
                .recorded_at
                .with_timezone(&zone)
                .format("%a, %b %-d, %Y %H:%M")
                .to_string(),
            who: names.actor(entry.actor.as_deref()),
            what: words(&entry.event_type),
            why: why(entry, i.checked_sub(1).and_then(|i| entries.get(i))),
        })
        .collect();
    let href = format!("{}/history", path::portfolio(id));
    let next = (entries.len() >= PAGE_SIZE as usize)
        .then(|| entries.last())
        .flatten()
        .map(|last| {
            let on = day.map(|day| format!("&on={day}")).unwrap_or_default();
            format!("{href}?after={}{on}", last.version)
        });
    let (past, not_yet) = match day {
        None => (None, false),
        Some(day) => {
            // The end of that day in the agency's time zone (R3): everything recorded
            // before the next day began there.
            let next_day = day.succ_opt().unwrap_or(day).and_time(NaiveTime::MIN);
            let next_day = zone
                .from_local_datetime(&next_day)
                .earliest()
                .map_or_else(|| next_day.and_utc(), |at| at.with_timezone(&chrono::Utc));
            let instant = next_day - chrono::TimeDelta::microseconds(1);
            match audit::portfolio_as_of(state.store().as_ref(), id, instant).await? {
                Some(then) => (Some(past(day, &then)), false),
                None => (None, true),
            }
        }
    };
    Ok(HistoryPage {
        person: viewer.label(),
        client: portfolio.client.to_string(),
        portfolio_href: path::portfolio(id),
        href,
        changes,
        next,
        on: query.on.trim().to_owned(),
        past,
        not_yet,
    })
}

#[cfg(test)]
mod tests {
    use super::words;

    #[test]
    fn an_event_type_reads_as_words() {
        assert_eq!(words("TicketCreated"), "Ticket created");
        assert_eq!(words("StallAlertRaised"), "Stall alert raised");
    }
}
