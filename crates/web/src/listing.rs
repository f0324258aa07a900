//! Portfolios: the signed-in person's team's portfolios (every one for an Admin, as the
//! API's `GET /portfolios`), with their status, next refresh date and Ad Set progress;
//! filtered by status, AM, SAS and when the refresh date falls, searched by client name.
//! The filters are a GET form, so a filtered listing is an address to keep or share.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Days, NaiveDate};
use freshet_api::{ApiError, AppState};
use freshet_domain::{RefreshStatus, UserId};
use freshet_projections::portfolios::{self, PortfolioFilter, PortfolioSearch};
use serde::Deserialize;

use crate::Viewer;
use crate::page::{error_page, render};
use crate::people::Names;
use freshet_mail::links::path;

/// Portfolios on one page of the listing.
const PAGE_SIZE: u32 = 25;

/// The filter form as typed (empty fields are "any").
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Filters {
    #[serde(default)]
    status: String,
    #[serde(default)]
    am: String,
    #[serde(default)]
    sas: String,
    #[serde(default)]
    due: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: String,
}

/// The windows the refresh date may fall in.
const WINDOWS: [(&str, &str); 4] = [
    ("past", "Already passed"),
    ("week", "In the next 7 days"),
    ("month", "In the next 30 days"),
    ("quarter", "In the next 90 days"),
];

struct Row {
    client: String,
    href: String,
    status: String,
    refresh_date: String,
    progress: String,
    am: String,
    sas: String,
}

/// An option of a picker: its value, its text, whether it is chosen.
struct Choice {
    value: String,
    text: String,
    chosen: bool,
}

#[derive(Template)]
#[template(path = "portfolios.html")]
struct ListingPage {
    person: Option<crate::page::Person>,
    statuses: Vec<Choice>,
    ams: Vec<Choice>,
    sass: Vec<Choice>,
    windows: Vec<Choice>,
    q: String,
    rows: Vec<Row>,
    page: u32,
    previous: Option<String>,
    next: Option<String>,
    alerts: bool,
}

fn choices<'a>(options: impl IntoIterator<Item = (&'a str, &'a str)>, chosen: &str) -> Vec<Choice> {
    options
        .into_iter()
        .map(|(value, text)| Choice {
            value: value.to_owned(),
            text: text.to_owned(),
            chosen: value == chosen,
        })
        .collect()
}

fn person(value: &str, what: &str) -> Result<Option<UserId>, ApiError> {
    if value.is_empty() {
        return Ok(None);
    }
    value
        .parse()
        .map(Some)
        .map_err(|_| ApiError::malformed("invalid-query", format!("no such {what} to filter by")))
}

/// The refresh dates a window names, from `today`.
fn window(due: &str, today: NaiveDate) -> Result<(Option<NaiveDate>, Option<NaiveDate>), ApiError> {
    let ahead = |days| today.checked_add_days(Days::new(days));
    Ok(match due {
        "" => (None, None),
        "past" => (None, today.pred_opt()),
        "week" => (Some(today), ahead(7)),
        "month" => (Some(today), ahead(30)),
        "quarter" => (Some(today), ahead(90)),
        _ => {
            return Err(ApiError::malformed(
                "invalid-query",
                "the refresh date window must be one of the form's",
            ));
        }
    })
}

/// What the typed filters ask of the read model.
fn search(filters: &Filters, today: NaiveDate) -> Result<PortfolioSearch, ApiError> {
    let status = match filters.status.as_str() {
        "" => None,
        code => Some(
            RefreshStatus::ALL
                .into_iter()
                .map(status_code)
                .find(|known| known == code)
                .ok_or_else(|| {
                    ApiError::malformed("invalid-query", format!("\"{code}\" is not a status"))
                })?,
        ),
    };
    let (refresh_from, refresh_to) = window(&filters.due, today)?;
    let q = filters.q.trim();
    Ok(PortfolioSearch {
        status,
        account_manager: person(&filters.am, "Account Manager")?,
        social_ad_specialist: person(&filters.sas, "Social Ad Specialist")?,
        team_lead: None,
        refresh_from,
        refresh_to,
        client: (!q.is_empty()).then(|| q.to_owned()),
    })
}

/// A status's code (`creatives_pending_approval`), as the read models keep it.
pub(crate) fn status_code(status: RefreshStatus) -> String {
    match serde_json::to_value(status) {
        Ok(serde_json::Value::String(code)) => code,
        _ => String::new(),
    }
}

/// The listing's address with `filters` and page `page`.
fn page_href(filters: &Filters, page: u32) -> String {
    let query: Vec<(&str, String)> = [
        ("status", filters.status.clone()),
        ("am", filters.am.clone()),
        ("sas", filters.sas.clone()),
        ("due", filters.due.clone()),
        ("q", filters.q.clone()),
        ("page", page.to_string()),
    ]
    .into_iter()
    .filter(|(_, value)| !value.is_empty())
    .collect();
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    format!("/app/portfolios?{encoded}")
}

/// Whether `viewer` sees the alerts page: an Admin, or the Team Lead of a portfolio.
pub(crate) async fn sees_alerts(state: &AppState, viewer: &Viewer) -> Result<bool, ApiError> {
    if viewer.0.is_admin() {
        return Ok(true);
    }
    let leads = PortfolioSearch {
        team_lead: Some(viewer.0.id()),
        ..PortfolioSearch::default()
    };
    let filter = PortfolioFilter {
        limit: 1,
        ..PortfolioFilter::default()
    };
    Ok(!portfolios::search(state.db(), &filter, &leads)
        .await?
        .is_empty())
}

pub(crate) async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(filters): Query<Filters>,
) -> Response {
    match listing(&state, &viewer, &filters).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(error) => error_page(&error, viewer.label()),
    }
}

async fn listing(
    state: &AppState,
    viewer: &Viewer,
    filters: &Filters,
) -> Result<ListingPage, ApiError> {
    let wanted = search(filters, state.today())?;
    let page = match filters.page.as_str() {
        "" => 1,
        typed => typed
            .parse::<u32>()
            .ok()
            .filter(|page| *page >= 1)
            .ok_or_else(|| {
                ApiError::malformed("invalid-query", "the page must be a number from 1")
            })?,
    };
    // One more than a page: whether there is a next one.
    let filter = PortfolioFilter {
        member: (!viewer.0.is_admin()).then(|| viewer.0.id()),
        after: None,
        limit: PAGE_SIZE + 1,
        offset: (page - 1).saturating_mul(PAGE_SIZE),
    };
    let mut found = portfolios::search(state.db(), &filter, &wanted).await?;
    let more = found.len() > PAGE_SIZE as usize;
    found.truncate(PAGE_SIZE as usize);
    let names = Names::load(state).await?;
    let rows = found
        .iter()
        .map(|row| Row {
            client: row.client.clone(),
            href: path::portfolio(&row.portfolio_id),
            status: row
                .status_label
                .clone()
                .unwrap_or_else(|| RefreshStatus::NoRefreshRequested.label().to_owned()),
            refresh_date: row.refresh_date.format("%a, %b %-d, %Y").to_string(),
            progress: row
                .ad_set_progress()
                .unwrap_or_else(|| "No Ad Set yet".to_owned()),
            am: names.of(&row.account_manager),
            sas: names.of(&row.social_ad_specialist),
        })
        .collect();
    let codes: Vec<(String, &str)> = RefreshStatus::ALL
        .into_iter()
        .map(|status| (status_code(status), status.label()))
        .collect();
    let people: Vec<(&str, &str)> = names
        .active
        .iter()
        .map(|(id, name)| (id.as_str(), name.as_str()))
        .collect();
    Ok(ListingPage {
        person: viewer.label(),
        statuses: choices(
            codes.iter().map(|(code, label)| (code.as_str(), *label)),
            &filters.status,
        ),
        ams: choices(people.iter().copied(), &filters.am),
        sass: choices(people.iter().copied(), &filters.sas),
        windows: choices(WINDOWS, &filters.due),
        q: filters.q.clone(),
        rows,
        page,
        previous: (page > 1).then(|| page_href(filters, page - 1)),
        next: more.then(|| page_href(filters, page + 1)),
        alerts: sees_alerts(state, viewer).await?,
    })
}
