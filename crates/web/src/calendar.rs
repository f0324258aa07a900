//! A portfolio's calendar: the dates its kickoff, handoff and gate deadlines will fire if
//! nobody acts (the domain's preview, as the API's `GET /portfolios/{id}/calendar`), and a
//! what-if: the dates another cadence or refresh date would give. The what-if is a GET form
//! and changes nothing; rescheduling is an Admin's action elsewhere.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Datelike, NaiveDate};
use freshet_api::{ApiError, AppState, readable_portfolio};
use freshet_domain::preview::{Trigger, UpcomingTrigger, preview_reschedule, upcoming};
use freshet_domain::state::Lifecycle;
use freshet_domain::{Cadence, CadenceUnit, Portfolio, PortfolioId};
use serde::Deserialize;
use uuid::Uuid;

use crate::Viewer;
use crate::page::{error_page, render, sentence};
use freshet_mail::links::path;

/// The what-if form as typed; all empty: no what-if.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WhatIf {
    #[serde(default)]
    every: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    date: String,
}

impl WhatIf {
    fn is_empty(&self) -> bool {
        self.every.is_empty() && self.unit.is_empty() && self.date.is_empty()
    }
}

struct Line {
    on: String,
    what: String,
}

#[derive(Template)]
#[template(path = "calendar.html")]
struct CalendarPage {
    person: Option<crate::page::Person>,
    client: String,
    portfolio_href: String,
    href: String,
    cadence: String,
    refresh_date: String,
    /// Why nothing is coming: paused or ended.
    standstill: Option<String>,
    upcoming: Vec<Line>,
    every: String,
    units: Vec<(&'static str, &'static str, bool)>,
    date: String,
    what_if: Option<Vec<Line>>,
    problem: Option<String>,
}

/// What fires on a date, in the process documents' words.
pub(crate) fn trigger_text(trigger: Trigger) -> String {
    match trigger {
        Trigger::Kickoff => "Kickoff: the AM is asked to reach out to the client".to_owned(),
        Trigger::Handoff => "Handoff: the SAS is asked for the deliverable tickets".to_owned(),
        Trigger::Deadline(gate) => format!("Stall alert if still open: {}", gate.describe()),
        Trigger::NextRefreshDate => "Next Creative Refresh Date".to_owned(),
    }
}

fn lines(triggers: &[UpcomingTrigger]) -> Vec<Line> {
    triggers
        .iter()
        .map(|trigger| Line {
            on: trigger.on.format("%a, %b %-d, %Y").to_string(),
            what: trigger_text(trigger.trigger),
        })
        .collect()
}

fn unit(code: &str) -> Option<CadenceUnit> {
    match code {
        "days" => Some(CadenceUnit::Days),
        "weeks" => Some(CadenceUnit::Weeks),
        "months" => Some(CadenceUnit::Months),
        _ => None,
    }
}

/// The dates the what-if would give, or the sentence saying why it cannot be.
fn what_if(
    state: &AppState,
    viewer: &Viewer,
    portfolio: &Portfolio,
    typed: &WhatIf,
) -> Result<Vec<UpcomingTrigger>, ApiError> {
    let invalid = |detail: &str| ApiError::malformed("invalid-value", detail);
    let every: u16 = typed
        .every
        .trim()
        .parse()
        .map_err(|_| invalid("The cadence must be a whole number of days, weeks or months."))?;
    let unit = unit(&typed.unit).ok_or_else(|| invalid("Choose days, weeks or months."))?;
    let date = NaiveDate::parse_from_str(typed.date.trim(), "%Y-%m-%d")
        .ok()
        .filter(|date| (2000..=2200).contains(&date.year()))
        .ok_or_else(|| invalid("The refresh date must be a date from 2000 to 2200."))?;
    let cadence = Cadence::new(every, unit)?;
    let context = state.service().context(viewer.0.actor());
    Ok(preview_reschedule(portfolio, cadence, date, &context)?)
}

pub(crate) async fn calendar(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<Uuid>,
    Query(typed): Query<WhatIf>,
) -> Response {
    let id = PortfolioId::from_uuid(id);
    let portfolio = match readable_portfolio(&state, &viewer.0, id).await {
        Ok(portfolio) => portfolio,
        Err(error) => return error_page(&error, viewer.label()),
    };
    let deadlines = state.service().config().deadlines;
    let (what_if, problem) = if typed.is_empty() {
        (None, None)
    } else {
        match what_if(&state, &viewer, &portfolio, &typed) {
            Ok(triggers) => (Some(lines(&triggers)), None),
            Err(error) => (None, Some(sentence(&error.problem().detail))),
        }
    };
    let standstill = match portfolio.lifecycle {
        Lifecycle::Active => None,
        Lifecycle::Paused(since) => Some(format!(
            "Paused since {}: nothing fires until an Admin resumes it.",
            since.format("%B %-d, %Y")
        )),
        Lifecycle::Ended(on) => Some(format!(
            "Ended on {}: nothing is scheduled any more.",
            on.format("%B %-d, %Y")
        )),
    };
    let schedule = portfolio.schedule.cadence;
    let every = if typed.is_empty() {
        schedule.every().to_string()
    } else {
        typed.every.clone()
    };
    let chosen_unit = if typed.is_empty() {
        match schedule.unit() {
            CadenceUnit::Days => "days",
            CadenceUnit::Weeks => "weeks",
            CadenceUnit::Months => "months",
        }
    } else {
        typed.unit.as_str()
    };
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(
        status,
        &CalendarPage {
            person: viewer.label(),
            client: portfolio.client.to_string(),
            portfolio_href: path::portfolio(id),
            href: format!("{}/calendar", path::portfolio(id)),
            cadence: schedule.to_string(),
            refresh_date: portfolio
                .refresh_date()
                .format("%A, %B %-d, %Y")
                .to_string(),
            standstill,
            upcoming: lines(&upcoming(&portfolio, &deadlines)),
            every,
            units: [("days", "Days"), ("weeks", "Weeks"), ("months", "Months")]
                .map(|(code, text)| (code, text, code == chosen_unit))
                .into(),
            date: if typed.is_empty() {
                portfolio.refresh_date().to_string()
            } else {
                typed.date.clone()
            },
            what_if,
            problem,
        },
    )
}
