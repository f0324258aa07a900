//! The read pages, on both backends: Portfolios (filters, search, paging), a portfolio's
//! History (B2) and Calendar (with a what-if that changes nothing), Alerts (B1) for Team
//! Leads and Admins only, Metrics (B3) as charts and tables, and the private calendar feed.
//! Each page shows a permitted person the right data and answers another team's person like
//! a page that does not exist (B4).
#![allow(clippy::unwrap_used)]

mod support;

use std::str::FromStr;

use freshet_store::testing::TestDatabase;
use freshet_testkit::{App, date};
use icalendar::{Calendar, CalendarComponent, Component, DatePerhapsTime};
use reqwest::StatusCode;
use serde_json::json;
use support::{Browser, app, declined_cycle, signed_in};

freshet_store::on_both_backends!(
    b4_portfolios_lists_my_teams_portfolios_and_filters_them,
    the_portfolio_listing_is_paged_keeping_its_filters,
    b2_history_shows_who_when_and_why_and_the_portfolio_as_it_stood,
    the_calendar_shows_coming_dates_and_a_what_if_changes_nothing,
    b1_alerts_show_stalled_gates_to_team_leads_and_admins_only,
    b3_metrics_are_charts_with_their_numbers_for_the_team_only,
    the_calendar_feed_works_without_a_session_until_renewed_or_stopped,
);

/// A portfolio of `client` whose Account Manager is `am` (the rest of the team is the
/// usual one), refreshing on `refresh_date`, monthly.
async fn portfolio_of(
    app: &App,
    client: &str,
    am: &str,
    refresh_date: chrono::NaiveDate,
) -> String {
    let mut team = app.team();
    team["account_manager"] = json!(am);
    let body = app
        .ok(
            &app.admin,
            "/portfolios",
            Some(json!({
                "client": client,
                "team": team,
                "cadence": { "every": 1, "unit": "months" },
                "refresh_date": refresh_date,
            })),
        )
        .await;
    body["portfolio_id"].as_str().unwrap().to_owned()
}

/// The AM logs a Note and asks for the refresh (R5).
async fn requested(app: &App, token: &str, portfolio: &str, note: &str) {
    app.ok(
        token,
        &format!("/portfolios/{portfolio}/notes"),
        Some(json!({ "text": note })),
    )
    .await;
    app.ok(token, &format!("/portfolios/{portfolio}/request"), None)
        .await;
}

/// The client names in the listing's table, in order.
fn clients(page: &str) -> Vec<String> {
    page.split("<th scope=\"row\"><a href=\"/app/portfolios/")
        .skip(1)
        .map(|row| {
            let start = row.find('>').unwrap() + 1;
            let end = row.find("</a>").unwrap();
            row[start..end].to_owned()
        })
        .collect()
}

async fn not_found(browser: &mut Browser, path: &str) {
    let page = browser.get(path).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}: {}", page.body);
    assert!(page.body.contains("Not found"), "{}", page.body);
}

async fn b4_portfolios_lists_my_teams_portfolios_and_filters_them(db: TestDatabase) {
    let app = app(db, 10).await;
    let acme = portfolio_of(&app, "Acme Outdoor", &app.am.id, date(2027, 3, 8)).await;
    portfolio_of(
        &app,
        "Birch & Co Bakery",
        &app.outsider.id,
        date(2027, 5, 20),
    )
    .await;
    requested(&app, &app.am.token, &acme, "New photos in the drive").await;

    // The AM sees their team's portfolio only, with its HubSpot status and Ad Set.
    let mut am = signed_in(&app, "am@example.com").await;
    let page = am.get("/app/portfolios").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(clients(&page.body), ["Acme Outdoor"]);
    assert!(
        page.body.contains("Refresh Request Submitted"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Mon, Mar 8, 2027"), "{}", page.body);
    assert!(
        !page.body.contains("Stall alerts"),
        "the AM has no alerts page"
    );
    // The outsider (an AM of another team) sees theirs only.
    let mut outsider = signed_in(&app, "out@example.com").await;
    let page = outsider.get("/app/portfolios").await.body;
    assert_eq!(clients(&page), ["Birch &#38; Co Bakery"]);

    // An Admin sees every one, and each filter narrows the listing.
    let mut admin = signed_in(&app, "admin@example.com").await;
    let all = admin.get("/app/portfolios").await.body;
    assert_eq!(clients(&all), ["Acme Outdoor", "Birch &#38; Co Bakery"]);
    assert!(
        all.contains("href=\"/app/alerts\""),
        "an Admin is led to the alerts"
    );
    let filtered = |query: String| {
        let mut admin = admin.clone();
        async move { clients(&admin.get(&format!("/app/portfolios?{query}")).await.body) }
    };
    assert_eq!(
        filtered("status=refresh_request_submitted".into()).await,
        ["Acme Outdoor"]
    );
    assert_eq!(
        filtered("status=no_refresh_requested".into()).await,
        ["Birch &#38; Co Bakery"]
    );
    assert_eq!(
        filtered(format!("am={}", app.outsider.id)).await,
        ["Birch &#38; Co Bakery"]
    );
    assert_eq!(filtered(format!("sas={}", app.sas.id)).await.len(), 2);
    assert_eq!(filtered("due=week".into()).await, ["Acme Outdoor"]);
    assert_eq!(
        filtered("due=quarter&q=".into()).await,
        ["Acme Outdoor", "Birch &#38; Co Bakery"]
    );
    // Searching by client name: any case, and the LIKE wildcards are plain characters.
    assert_eq!(filtered("q=BIRCH".into()).await, ["Birch &#38; Co Bakery"]);
    assert!(filtered("q=%25".into()).await.is_empty());
    assert!(
        filtered("q=acme&am=".to_owned() + &app.outsider.id)
            .await
            .is_empty()
    );
    // What was chosen stays chosen in the form.
    let page = admin.get("/app/portfolios?q=birch&due=quarter").await.body;
    assert!(
        page.contains("name=\"q\" type=\"text\" value=\"birch\""),
        "{page}"
    );
    assert!(page.contains("value=\"quarter\" selected"), "{page}");
    // Bad input is a clear error.
    let bad = admin.get("/app/portfolios?status=lost").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body.contains("&#34;lost&#34; is not a status"),
        "{}",
        bad.body
    );
}

async fn the_portfolio_listing_is_paged_keeping_its_filters(db: TestDatabase) {
    let app = app(db, 10).await;
    for n in 0..26 {
        portfolio_of(
            &app,
            &format!("Client {n:02}"),
            &app.am.id,
            date(2027, 5, 20),
        )
        .await;
    }
    portfolio_of(&app, "Other", &app.am.id, date(2027, 5, 20)).await;
    let mut am = signed_in(&app, "am@example.com").await;
    let first = am.get("/app/portfolios?q=client").await.body;
    let names = clients(&first);
    assert_eq!(names.len(), 25);
    assert_eq!(names[0], "Client 00");
    assert!(!first.contains("rel=\"prev\""), "no page before the first");
    let next = "/app/portfolios?q=client&#38;page=2";
    assert!(first.contains(next), "{first}");
    let second = am.get("/app/portfolios?q=client&page=2").await.body;
    assert_eq!(clients(&second), ["Client 25"]);
    assert!(
        second.contains("/app/portfolios?q=client&#38;page=1"),
        "{second}"
    );
    assert!(!second.contains("rel=\"next\""), "no page after the last");
    let bad = am.get("/app/portfolios?page=0").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

async fn b2_history_shows_who_when_and_why_and_the_portfolio_as_it_stood(db: TestDatabase) {
    let app = app(db, 10).await;
    let portfolio = app.create_portfolio(date(2027, 3, 8)).await;
    app.clock.set_date(date(2027, 3, 3));
    requested(&app, &app.am.token, &portfolio, "New photos in the drive").await;
    let history = format!("/app/portfolios/{portfolio}/history");

    let mut am = signed_in(&app, "am@example.com").await;
    let page = am.get(&history).await.body;
    // Who, when and why of each change.
    assert!(
        page.contains("Ada Admin (Admin)"),
        "created by the Admin: {page}"
    );
    assert!(page.contains("Portfolio created"), "{page}");
    assert!(page.contains("Amy AM"), "{page}");
    assert!(page.contains("Wed, Mar 3, 2027"), "{page}");
    assert!(
        page.contains("“New photos in the drive”"),
        "the Note says why: {page}"
    );
    assert!(page.contains("Refresh requested"), "{page}");

    // As it stood at the end of a day: before the request, and after it.
    let before = am.get(&format!("{history}?on=2027-03-01")).await.body;
    assert!(
        before.contains("At the end of Monday, March 1, 2027"),
        "{before}"
    );
    let facts = &before[before.find("class=\"facts as-of\"").unwrap()..];
    assert!(facts.contains("No Refresh Requested"), "{facts}");
    let after = am.get(&format!("{history}?on=2027-03-03")).await.body;
    let facts = &after[after.find("class=\"facts as-of\"").unwrap()..];
    assert!(facts.contains("Refresh Request Submitted"), "{facts}");
    assert!(facts.contains("New photos in the drive"), "{facts}");
    let earlier = am.get(&format!("{history}?on=2027-02-01")).await.body;
    assert!(earlier.contains("did not exist yet"), "{earlier}");
    let bad = am.get(&format!("{history}?on=March")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("is not a date"), "{}", bad.body);

    // Another team's person: answered like a page that does not exist.
    not_found(&mut signed_in(&app, "out@example.com").await, &history).await;
}

async fn the_calendar_shows_coming_dates_and_a_what_if_changes_nothing(db: TestDatabase) {
    let app = app(db, 10).await;
    let portfolio = app.create_portfolio(date(2027, 5, 20)).await;
    let calendar = format!("/app/portfolios/{portfolio}/calendar");
    let mut am = signed_in(&app, "am@example.com").await;
    let page = am.get(&calendar).await.body;
    // R2: the kickoff 15 days before the refresh date; the handoff on it.
    assert!(page.contains("Wed, May 5, 2027"), "{page}");
    assert!(
        page.contains("Kickoff: the AM is asked to reach out"),
        "{page}"
    );
    assert!(page.contains("Thu, May 20, 2027"), "{page}");
    assert!(!page.contains("what-if-dates"), "no what-if asked");

    let version = app.version(&portfolio).await;
    let what_if = am
        .get(&format!("{calendar}?every=2&unit=weeks&date=2027-06-30"))
        .await;
    assert_eq!(what_if.status, StatusCode::OK, "{}", what_if.body);
    let dates = &what_if.body[what_if.body.find("id=\"what-if-dates\"").unwrap()..];
    assert!(
        dates.contains("Tue, Jun 15, 2027"),
        "the kickoff it would give: {dates}"
    );
    assert!(dates.contains("Wed, Jun 30, 2027"), "{dates}");
    assert!(
        what_if.body.contains("value=\"2\""),
        "what was typed is kept"
    );
    assert_eq!(
        app.version(&portfolio).await,
        version,
        "a what-if records nothing"
    );
    let summary = app.summary(&portfolio).await;
    assert_eq!(summary["summary"]["refresh_date"], "2027-05-20");

    let refused = am
        .get(&format!("{calendar}?every=0&unit=weeks&date=2027-06-30"))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("role=\"alert\""), "{}", refused.body);
    assert_eq!(app.version(&portfolio).await, version);

    not_found(&mut signed_in(&app, "out@example.com").await, &calendar).await;
}

async fn b1_alerts_show_stalled_gates_to_team_leads_and_admins_only(db: TestDatabase) {
    let app = app(db, 10).await;
    let portfolio = app.create_portfolio(date(2027, 3, 1)).await;
    // No AM decision by the refresh date: the alert, to the AM and the Team Lead (B1).
    app.clock.set_date(date(2027, 3, 2));
    app.ok(&app.admin, &format!("/portfolios/{portfolio}/tick"), None)
        .await;
    app.clock.set_date(date(2027, 3, 4));
    for email in ["lead@example.com", "admin@example.com"] {
        let page = signed_in(&app, email).await.get("/app/alerts").await;
        assert_eq!(page.status, StatusCode::OK, "{email}: {}", page.body);
        let body = page.body;
        assert_eq!(
            body.matches("<tr><th scope=\"row\">").count(),
            1,
            "one gate: {body}"
        );
        assert!(body.contains("Acme Outdoor"), "{body}");
        assert!(
            body.contains("No AM decision by the Creative Refresh Date"),
            "{body}"
        );
        assert!(
            body.contains("Amy AM (Account Manager)"),
            "whose move: {body}"
        );
        assert!(body.contains("2 days"), "how late: {body}");
    }
    let listing = signed_in(&app, "lead@example.com")
        .await
        .get("/app/portfolios")
        .await;
    assert!(
        listing.body.contains("href=\"/app/alerts\""),
        "{}",
        listing.body
    );
    for email in ["am@example.com", "out@example.com"] {
        not_found(&mut signed_in(&app, email).await, "/app/alerts").await;
    }
}

async fn b3_metrics_are_charts_with_their_numbers_for_the_team_only(db: TestDatabase) {
    let app = app(db, 10).await;
    let portfolio = app.create_portfolio(date(2027, 3, 8)).await;
    requested(&app, &app.am.token, &portfolio, "New photos in the drive").await;
    app.clock.set_date(date(2027, 3, 5));
    app.ok(
        &app.am.token,
        &format!("/portfolios/{portfolio}/notes"),
        Some(json!({ "text": "Still waiting on the client" })),
    )
    .await;
    let path = format!("/app/metrics?portfolio={portfolio}");
    let mut am = signed_in(&app, "am@example.com").await;
    let page = am.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = page.body;
    assert!(body.contains("Metrics of Acme Outdoor"), "{body}");
    // Charts an assistive technology can name, and the same numbers in a table.
    assert_eq!(body.matches("<svg role=\"img\"").count(), 4, "{body}");
    assert!(
        body.contains("<title id=\"cycle-time-title\">Cycle time per cycle"),
        "{body}"
    );
    assert!(body.contains("Cycle 1"), "{body}");
    assert!(
        body.contains("Refresh Request Submitted"),
        "time in each status: {body}"
    );
    assert!(body.contains("<caption>Every cycle</caption>"), "{body}");
    // Across portfolios: Admins only.
    let refused = am.get("/app/metrics?by=am").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    // A cycle closed (declined, with a Note: R5) counts in the summaries.
    declined_cycle(&app).await;
    let mut admin = signed_in(&app, "admin@example.com").await;
    for (by, name) in [
        ("portfolio", "Acme Outdoor"),
        ("am", "Amy AM"),
        ("sas", "Sam SAS"),
    ] {
        let page = admin.get(&format!("/app/metrics?by={by}")).await;
        assert_eq!(page.status, StatusCode::OK, "{by}: {}", page.body);
        assert_eq!(
            page.body.matches("<svg role=\"img\"").count(),
            4,
            "{by}: {}",
            page.body
        );
        assert!(
            page.body
                .contains(&format!("<th scope=\"row\">{name}</th><td>1</td>")),
            "{by}: one closed cycle of {name}: {}",
            page.body
        );
    }
    not_found(&mut signed_in(&app, "out@example.com").await, &path).await;
}

/// The feed's path in the page that shows it.
fn feed_in(page: &str) -> String {
    let start = page
        .find("/app/calendar/fc_")
        .unwrap_or_else(|| panic!("no feed in {page}"));
    page[start..start + "/app/calendar/fc_".len() + 64 + ".ics".len()].to_owned()
}

/// The feed's events: (summary, day).
async fn events(app: &App, path: &str) -> Result<Vec<(String, chrono::NaiveDate)>, StatusCode> {
    let response = reqwest::get(format!("{}{path}", app.base)).await.unwrap();
    if response.status() != StatusCode::OK {
        return Err(response.status());
    }
    assert_eq!(
        response.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    let calendar = Calendar::from_str(&text).unwrap();
    Ok(calendar
        .components
        .iter()
        .filter_map(|component| match component {
            CalendarComponent::Event(event) => Some(event),
            _ => None,
        })
        .map(|event| {
            let day = match event.get_start() {
                Some(DatePerhapsTime::Date(day)) => day,
                other => panic!("an all-day event, not {other:?}"),
            };
            (event.get_summary().unwrap().to_owned(), day)
        })
        .collect())
}

async fn the_calendar_feed_works_without_a_session_until_renewed_or_stopped(db: TestDatabase) {
    let app = app(db, 10).await;
    // Kicked off at once (the refresh date is near): the AM's task is due (R2).
    app.create_portfolio(date(2027, 3, 8)).await;
    // Far off: its kickoff is still to come.
    portfolio_of(&app, "Birch Bakery", &app.am.id, date(2027, 5, 20)).await;
    let mut am = signed_in(&app, "am@example.com").await;
    let settings = am.get("/app/settings").await.body;
    assert!(settings.contains("Calendar feed"), "{settings}");
    assert!(!settings.contains("/app/calendar/fc_"), "no address yet");

    let made = am.post("/app/settings/calendar", &[]).await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let first = feed_in(&made.body);
    let found = events(&app, &first).await.unwrap();
    let has = |summary: &str, day| found.iter().any(|(s, d)| s == summary && *d == day);
    assert!(
        has("Creative Refresh Date: Acme Outdoor", date(2027, 3, 8)),
        "{found:?}"
    );
    assert!(has("Kickoff: Birch Bakery", date(2027, 5, 5)), "{found:?}");
    assert!(
        has("Creative Refresh Date: Birch Bakery", date(2027, 5, 20)),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|(summary, _)| summary.starts_with("Due: ") && summary.ends_with("(Acme Outdoor)")),
        "the AM's open task: {found:?}"
    );
    // Another person's feed has their own dates only.
    let mut outsider = signed_in(&app, "out@example.com").await;
    let theirs = feed_in(&outsider.post("/app/settings/calendar", &[]).await.body);
    assert_eq!(events(&app, &theirs).await.unwrap(), []);
    // A deactivated person's feed answers no more.
    let deactivated = app
        .call(
            reqwest::Method::POST,
            &format!("/admin/users/{}/deactivate", app.outsider.id),
            Some(&app.admin),
            None,
        )
        .await;
    assert!(deactivated.status.is_success(), "{}", deactivated.body);
    assert_eq!(events(&app, &theirs).await, Err(StatusCode::NOT_FOUND));
    // The page shows the address once; afterwards, only that there is one.
    let later = am.get("/app/settings").await.body;
    assert!(!later.contains("/app/calendar/fc_"), "{later}");
    assert!(later.contains("You have an address"), "{later}");

    // A new address: the old one stops working at once.
    let second = feed_in(&am.post("/app/settings/calendar", &[]).await.body);
    assert_ne!(first, second);
    assert_eq!(events(&app, &first).await, Err(StatusCode::NOT_FOUND));
    assert!(events(&app, &second).await.is_ok());
    // Stopped: no address works.
    let stopped = am.post("/app/settings/calendar/stop", &[]).await;
    assert_eq!(stopped.status, StatusCode::SEE_OTHER);
    assert_eq!(events(&app, &second).await, Err(StatusCode::NOT_FOUND));
    // Anything else is not a feed either.
    assert_eq!(
        events(&app, "/app/calendar/fc_nothing.ics").await,
        Err(StatusCode::NOT_FOUND)
    );
}
