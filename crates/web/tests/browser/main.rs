//! The web app in a real browser (headless Chromium over WebDriver), on both backends: what
//! a person sees as they are invited, sign in and out, and follow a task to its portfolio;
//! and the automated accessibility check (axe-core) of every page.
//!
//! Needs `/usr/bin/chromium`, `/usr/bin/chromedriver` and axe-core in `.ci/axe` (see
//! `crates/web/README.md`); skipped with a notice without them, except in CI.
#![allow(clippy::unwrap_used)]

mod axe;
mod chrome;
mod cycle;
#[path = "../support/mod.rs"]
mod support;

use freshet_accounts::{Password, credentials};
use freshet_store::testing::TestDatabase;
use freshet_testkit::{App, created_ticket, date};
use reqwest::{Method, StatusCode};
use serde_json::json;

use chrome::{Page, in_browser, workspace};
use cycle::{
    five_people_take_a_whole_cycle_from_kickoff_to_implementation_in_the_browser,
    my_work_updates_itself_when_a_task_arrives,
};
use support::{PASSWORD, app, declined_cycle, emailed_link, fail_emails};

freshet_store::on_both_backends!(
    a_person_is_invited_signs_in_and_out_and_follows_a_task_to_its_portfolio,
    every_page_passes_the_accessibility_check,
    five_people_take_a_whole_cycle_from_kickoff_to_implementation_in_the_browser,
    my_work_updates_itself_when_a_task_arrives,
);

/// `sqlite` or `postgres`: names a test's screenshots apart.
fn backend(app: &App) -> &'static str {
    match app.db.database {
        freshet_store::Database::Postgres(_) => "postgres",
        freshet_store::Database::Sqlite(_) => "sqlite",
    }
}

/// Invites `name` at `email` (as an Admin, over the API); the emailed link's path.
async fn invite(app: &App, name: &str, email: &str) -> String {
    let invited = app
        .call(
            Method::POST,
            "/admin/invitations",
            Some(&app.admin),
            Some(json!({ "name": name, "email": email })),
        )
        .await;
    assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.body);
    emailed_link(app, "invitation", email).await
}

/// Gives the AM a password.
async fn am_has_a_password(app: &App) {
    has_a_password(app, "am@example.com").await;
}

/// Gives `email` the password [`PASSWORD`].
async fn has_a_password(app: &App, email: &str) {
    let password = Password::parse(PASSWORD).unwrap();
    let now = freshet_service::Clock::now(&*app.clock);
    credentials::set_password(&app.db.database, email, &password, now)
        .await
        .unwrap();
}

/// Signs in with the form on the sign-in page.
async fn sign_in(page: &Page, email: &str, password: &str) {
    page.open("/app/sign-in").await;
    page.type_into("#email", email).await;
    page.type_into("#password", password).await;
    page.click("form button[type=submit]").await;
}

async fn a_person_is_invited_signs_in_and_out_and_follows_a_task_to_its_portfolio(
    db: TestDatabase,
) {
    let app = app(db, 10).await;
    am_has_a_password(&app).await;
    let link = invite(&app, "Nia New", "nia@example.com").await;
    let (base, name) = (app.base.clone(), format!("journey-{}", backend(&app)));
    in_browser(&base, &name, move |page| async move {
        // Nia opens the emailed link and chooses her password, typed twice.
        page.open(&link).await;
        assert_eq!(page.text("h1").await, "Welcome to Freshet, Nia New");
        page.type_into("#password", PASSWORD).await;
        page.type_into("#confirmation", PASSWORD).await;
        page.click("form button[type=submit]").await;
        assert_eq!(page.path().await, "/app/");
        assert_eq!(page.text("h1").await, "My work");
        assert_eq!(page.text("header .who").await, "Nia New");
        assert!(
            page.text(".empty")
                .await
                .contains("Nothing is waiting for you"),
            "{}",
            page.text("main").await
        );

        // She signs out with the button: the sign-in page, and My work is closed to her.
        page.click("header .sign-out button").await;
        assert_eq!(page.path().await, "/app/sign-in");
        assert_eq!(page.text("h1").await, "Sign in");
        page.open("/app/").await;
        assert_eq!(page.path().await, "/app/sign-in?next=/app/");

        // Amy, the AM, mistypes her password: the problem shows by the form, her email kept.
        sign_in(&page, "am@example.com", "orchard lantern eight").await;
        assert_eq!(page.text("h1").await, "Sign in");
        assert_eq!(
            page.text(".card .problem[role=alert]").await,
            "That email address and password do not match."
        );
        assert_eq!(page.value("#email").await, "am@example.com");
        assert_eq!(page.value("#password").await, "");

        // With the right one she lands on My work.
        page.type_into("#password", PASSWORD).await;
        page.click("form button[type=submit]").await;
        assert_eq!(page.path().await, "/app/");
        assert_eq!(page.text("header .who").await, "Amy AM");

        // A portfolio refreshing in a week asks her to reach out to the client at once (R2):
        // the task shows on My work, and its link opens the portfolio.
        let portfolio = app.create_portfolio(date(2027, 3, 8)).await;
        page.reload_until(".tasks .task", "Acme Outdoor").await;
        let task = page.text(".tasks .task a").await;
        assert!(task.contains("Reach out to client"), "{task}");
        if std::env::var("FRESHET_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1")
            && backend(&app) == "sqlite"
        {
            page.save_screenshot(&workspace().join("docs/screenshots/my-work.png"))
                .await;
        }
        page.click(".tasks .task a").await;
        assert_eq!(page.path().await, format!("/app/portfolios/{portfolio}"));
        assert_eq!(page.text("h1").await, "Acme Outdoor");
        assert!(
            page.texts("#mine ~ .tasks .task a")
                .await
                .iter()
                .any(|t| t.contains("Reach out to client")),
            "{}",
            page.text("main").await
        );
    })
    .await;
}

/// Every page of the web app, in the states a person meets it: axe-core finds no serious
/// or critical violation on any. A new page gets a line in one of the lists below.
async fn every_page_passes_the_accessibility_check(db: TestDatabase) {
    let Some(axe) = axe::source() else {
        return;
    };
    let app = app(db, 10).await;
    am_has_a_password(&app).await;
    let invitation = invite(&app, "Nia New", "nia@example.com").await;
    let (base, name) = (app.base.clone(), format!("accessibility-{}", backend(&app)));
    // One backend's pages are photographed, for a look at every page after a change.
    let photos = backend(&app) == "sqlite";
    in_browser(&base, &name, move |page| async move {
        let mut violations = Vec::new();
        let signed_out = [
            ("sign-in", "/app/sign-in".to_owned()),
            ("password reset request", "/app/password-reset".to_owned()),
            ("invitation", invitation),
            ("not found, signed out", "/app/no-such-page".to_owned()),
        ];
        for (name, path) in &signed_out {
            page.open(path).await;
            violations.extend(check(&page, &axe, name, photos).await);
        }
        // The check sees a violation when there is one: a field stripped of its label.
        page.open("/app/sign-in").await;
        page.client
            .execute(
                "document.querySelector('label[for=email]').remove();",
                Vec::new(),
            )
            .await
            .unwrap();
        let found = axe::violations(&page, &axe, "sign-in without a label").await;
        assert!(
            found.iter().any(|v| v.contains("label (critical)")),
            "{found:?}"
        );
        // The sign-in page with its problem shown.
        sign_in(&page, "am@example.com", "not the password").await;
        violations.extend(check(&page, &axe, "sign-in, wrong password", photos).await);

        sign_in(&page, "am@example.com", PASSWORD).await;
        assert_eq!(page.path().await, "/app/");
        violations.extend(check(&page, &axe, "My work, empty", photos).await);

        let (portfolio, ticket) = portfolio_with_a_ticket(&app).await;
        // Its kickoff task is done; another portfolio brings one to My work (R2).
        app.create_portfolio(date(2027, 3, 8)).await;
        page.open("/app/").await;
        page.reload_until(".tasks .task", "Acme Outdoor").await;
        let signed_in = [
            ("My work, with tasks", "/app/".to_owned()),
            ("settings", "/app/settings".to_owned()),
            ("portfolio", format!("/app/portfolios/{portfolio}")),
            (
                "ticket",
                format!("/app/portfolios/{portfolio}/tickets/{ticket}"),
            ),
            ("not found, signed in", "/app/no-such-page".to_owned()),
            ("portfolios", "/app/portfolios?q=acme".to_owned()),
            (
                "history",
                format!("/app/portfolios/{portfolio}/history?on=2027-03-01"),
            ),
            ("calendar", format!("/app/portfolios/{portfolio}/calendar")),
            (
                "calendar, what-if",
                format!("/app/portfolios/{portfolio}/calendar?every=2&unit=weeks&date=2027-06-30"),
            ),
            ("metrics", format!("/app/metrics?portfolio={portfolio}")),
        ];
        for (name, path) in &signed_in {
            page.open(path).await;
            violations.extend(check(&page, &axe, name, photos).await);
        }
        // The pages of Team Leads and Admins: a stalled gate on the alerts page (B1), and
        // metrics across portfolios.
        let stalled = app.create_portfolio(date(2027, 3, 5)).await;
        // A closed (declined) cycle, for the metrics across portfolios.
        declined_cycle(&app).await;
        app.clock.set_date(date(2027, 3, 12));
        app.ok(&app.admin, &format!("/portfolios/{stalled}/tick"), None)
            .await;
        // The Admin pages, as an Admin meets them (Nia's invitation failed, to retry).
        has_a_password(&app, "admin@example.com").await;
        fail_emails(&app, "invitation", "550 mailbox unavailable").await;
        page.click("header .sign-out button").await;
        sign_in(&page, "admin@example.com", PASSWORD).await;
        for (name, path) in [
            ("alerts", "/app/alerts"),
            ("metrics per AM", "/app/metrics?by=am"),
        ] {
            page.open(path).await;
            violations.extend(check(&page, &axe, name, photos).await);
        }
        // Settings with a calendar feed's address just made, shown once.
        page.open("/app/settings").await;
        page.click("form[action='/app/settings/calendar'] button")
            .await;
        violations.extend(check(&page, &axe, "settings, new calendar address", photos).await);
        let admin = [
            ("admin people", "/app/admin/people".to_owned()),
            (
                "admin deactivate",
                format!("/app/admin/people/{}/deactivate", app.copywriter.id),
            ),
            ("admin portfolios", "/app/admin/portfolios".to_owned()),
            (
                "admin new portfolio",
                "/app/admin/portfolios/new".to_owned(),
            ),
            (
                "admin portfolio",
                format!("/app/admin/portfolios/{portfolio}"),
            ),
            ("admin projections", "/app/admin/projections".to_owned()),
            ("admin outbox", "/app/admin/outbox".to_owned()),
        ];
        for (name, path) in &admin {
            page.open(path).await;
            violations.extend(check(&page, &axe, name, photos).await);
        }
        // A refused reschedule shows its problem by the form; a rebuild shows its progress.
        page.open(&format!("/app/admin/portfolios/{portfolio}"))
            .await;
        // A date input is typed into differently by locale: set the date a person picks.
        page.client
            .execute(
                "document.querySelector('#schedule-date').value = '2027-02-01';",
                Vec::new(),
            )
            .await
            .unwrap();
        page.click("#action-schedule button[type=submit]").await;
        assert!(
            !page.text("#action-schedule .problem").await.is_empty(),
            "{}",
            page.text("main").await
        );
        assert_eq!(page.value("#schedule-date").await, "2027-02-01");
        violations.extend(check(&page, &axe, "admin portfolio, refused", photos).await);
        page.open("/app/admin/projections").await;
        page.click("#projection-inbox button[type=submit]").await;
        violations.extend(check(&page, &axe, "admin projections, rebuilding", photos).await);
        assert!(
            violations.is_empty(),
            "serious or critical accessibility violations:\n{}",
            violations.join("\n")
        );
    })
    .await;
}

/// The serious and critical violations on the page shown, named `name`; with `photo`, a
/// screenshot of it in `target/browser-screenshots/pages/`.
async fn check(page: &Page, axe: &str, name: &str, photo: bool) -> Vec<String> {
    if photo {
        let file: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let file = format!(
            "target/browser-screenshots/pages/{}.png",
            file.replace("--", "-")
        );
        page.save_screenshot(&workspace().join(file)).await;
    }
    axe::violations(page, axe, name).await
}

/// A portfolio whose AM has logged a Note and asked for a refresh (R5) and whose SAS has created a ticket
/// (R7): its id and the ticket's.
async fn portfolio_with_a_ticket(app: &App) -> (String, String) {
    let portfolio = app.create_portfolio(date(2027, 3, 8)).await;
    app.ok(
        &app.am.token,
        &format!("/portfolios/{portfolio}/notes"),
        Some(json!({ "text": "New photos in the drive" })),
    )
    .await;
    app.ok(
        &app.am.token,
        &format!("/portfolios/{portfolio}/request"),
        None,
    )
    .await;
    let created = app
        .ok(
            &app.sas.token,
            &format!("/portfolios/{portfolio}/tickets"),
            Some(json!({ "title": "Feed 1080x1080", "folder": "Spring", "deliverables": 1 })),
        )
        .await;
    (portfolio, created_ticket(&created))
}
