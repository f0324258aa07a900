//! A whole Creative Refresh cycle clicked through in the browser: the five people of the
//! process sign in in turn and each does their part from the pages, as the process
//! documents tell it, checking what they see at each step.

use freshet_store::testing::TestDatabase;
use freshet_testkit::{App, date};

use crate::chrome::{Page, in_browser};
use crate::support::{PASSWORD, app};
use crate::{backend, sign_in};

/// Gives the five people of the test team a password.
async fn everyone_has_a_password(app: &App) {
    let password = freshet_accounts::Password::parse(PASSWORD).unwrap();
    let now = freshet_service::Clock::now(&*app.clock);
    for email in [
        "am@example.com",
        "sas@example.com",
        "copy@example.com",
        "design@example.com",
        "lead@example.com",
    ] {
        freshet_accounts::credentials::set_password(&app.db.database, email, &password, now)
            .await
            .unwrap();
    }
}

/// Signs out whoever is signed in, and signs `email` in: My work.
async fn as_person(page: &Page, email: &str, name: &str) {
    page.open("/app/").await;
    if page.has("header .sign-out button").await {
        page.click("header .sign-out button").await;
    }
    sign_in(page, email, PASSWORD).await;
    assert_eq!(page.path().await, "/app/");
    assert_eq!(page.text("header .who").await, name);
}

/// Clicks the button of the first form whose id starts with `action-<prefix>`.
async fn press(page: &Page, prefix: &str) {
    page.click(&format!("form[id^=action-{prefix}] button[type=submit]"))
        .await;
}

/// Types into the field `name` of the first form whose id starts with `action-<prefix>`.
async fn fill(page: &Page, prefix: &str, name: &str, text: &str) {
    page.type_into(&format!("form[id^=action-{prefix}] [name={name}]"), text)
        .await;
}

/// Opens the `<details>` of an action with fields on My work.
async fn unfold(page: &Page, label: &str) {
    let summaries = page.texts(".finish summary").await;
    let index = summaries
        .iter()
        .position(|summary| summary.starts_with(label))
        .unwrap_or_else(|| panic!("no {label:?} on My work: {summaries:?}"));
    page.client
        .execute(
            &format!("document.querySelectorAll('.finish details')[{index}].open = true;"),
            Vec::new(),
        )
        .await
        .unwrap();
}

/// Saves what the page shows as `target/browser-screenshots/cycle-<name>.png`, for a look,
/// and runs the accessibility check on it (when axe-core is there): its serious violations.
async fn look(page: &Page, axe: Option<&str>, name: &str) -> Vec<String> {
    let file = crate::chrome::workspace()
        .join("target/browser-screenshots")
        .join(format!("cycle-{name}.png"));
    page.save_screenshot(&file).await;
    match axe {
        Some(axe) => crate::axe::violations(page, axe, name).await,
        None => Vec::new(),
    }
}

async fn status(page: &Page, portfolio: &str) -> String {
    page.open(&format!("/app/portfolios/{portfolio}")).await;
    page.text("#status").await
}

pub(crate) async fn five_people_take_a_whole_cycle_from_kickoff_to_implementation_in_the_browser(
    db: TestDatabase,
) {
    let app = app(db, 10).await;
    everyone_has_a_password(&app).await;
    let portfolio = app.create_portfolio(date(2027, 3, 8)).await;
    let (base, name) = (app.base.clone(), format!("cycle-{}", backend(&app)));
    let clock = app.clock.clone();
    let admin = app.admin.clone();
    let http = app.http.clone();
    let api = app.base.clone();
    let at = format!("/app/portfolios/{portfolio}");
    let axe = crate::axe::source();
    in_browser(&base, &name, move |page| async move {
        let mut violations = Vec::new();
        // Kickoff (R2): Amy reaches out, then requests the refresh from My work (R5).
        as_person(&page, "am@example.com", "Amy AM").await;
        page.reload_until(".tasks .task", "Reach out to client")
            .await;
        violations.extend(look(&page, axe.as_deref(), "am-my-work").await);
        // Without a Note, and none logged this cycle, the request is refused (R5): the
        // problem shows by the form, on the portfolio's page.
        unfold(&page, "Request the refresh").await;
        press(&page, "request").await;
        assert!(
            page.text(".problem[role=alert]").await.contains("Note"),
            "{}",
            page.text("main").await
        );
        violations.extend(look(&page, axe.as_deref(), "am-refused").await);
        fill(
            &page,
            "request",
            "note",
            "Spring colours; keep the logo big",
        )
        .await;
        press(&page, "request").await;
        assert_eq!(page.text(".notice").await, "Done.");
        assert_eq!(status(&page, &portfolio).await, "Refresh Request Submitted");

        // A week on, the refresh date (R6): the SAS's task, with the AM's Note.
        clock.set_date(date(2027, 3, 8));
        let ticked = http
            .post(format!("{api}/portfolios/{portfolio}/tick"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert!(ticked.status().is_success());
        as_person(&page, "sas@example.com", "Sam SAS").await;
        page.reload_until(".tasks .task", "Create Paid Social Deliverables")
            .await;
        assert!(
            page.text(".tasks .context")
                .await
                .contains("Spring colours")
        );
        violations.extend(look(&page, axe.as_deref(), "sas-my-work").await);
        // R7: the first ticket from scratch, the second cloned from it; R9: submitted.
        page.click(".tasks .task a").await;
        fill(&page, "create-ticket", "title", "Spring 1").await;
        fill(&page, "create-ticket", "folder", "Spring 2027").await;
        fill(&page, "create-ticket", "deliverables", "2").await;
        press(&page, "create-ticket").await;
        assert_eq!(page.text("#progress").await, "0 of 2 ready (1 created)");
        page.click("table a").await;
        fill(&page, "clone-ticket", "title", "Spring 2").await;
        press(&page, "clone-ticket").await;
        page.open(&at).await;
        assert_eq!(page.text("#progress").await, "0 of 2 ready (2 created)");
        violations.extend(look(&page, axe.as_deref(), "sas-portfolio").await);
        press(&page, "deliverables-submitted").await;
        assert_eq!(page.text("#status").await, "Deliverables Submitted");

        // R8, R10: copy and graphics from My work; the Ad Lab link (R12).
        as_person(&page, "copy@example.com", "Cora Copy").await;
        for _ in 0..2 {
            page.reload_until(".tasks .task", "Write").await;
            press(&page, "submit-copy").await;
        }
        as_person(&page, "design@example.com", "Dev Designer").await;
        for _ in 0..2 {
            page.reload_until(".tasks .task", "Create").await;
            press(&page, "submit-graphics").await;
        }
        page.open(&at).await;
        fill(&page, "ad-lab-link", "link", "https://adlab.example/spring").await;
        press(&page, "ad-lab-link").await;

        // QA: the Team Lead approves each part from My work.
        as_person(&page, "lead@example.com", "Tess Lead").await;
        page.reload_until(".tasks .task", "QA").await;
        violations.extend(look(&page, axe.as_deref(), "lead-my-work").await);
        for part in ["copy", "graphics", "copy", "graphics"] {
            page.reload_until(".tasks .task", "QA").await;
            press(&page, &format!("approve-{part}")).await;
        }

        // R11, R12: the AM shares with the link shown, and records the client's answer.
        as_person(&page, "am@example.com", "Amy AM").await;
        page.reload_until(".tasks .task", "Share Drafted Deliverables")
            .await;
        assert!(
            page.text(".tasks .context")
                .await
                .contains("https://adlab.example/spring")
        );
        press(&page, "complete-task").await;
        assert_eq!(
            status(&page, &portfolio).await,
            "Creatives Pending Approval"
        );
        page.click("table a").await;
        page.choose("form[id^=action-request-revisions] select", "copy")
            .await;
        fill(
            &page,
            "request-revisions",
            "note",
            "Shorter headline, please",
        )
        .await;
        violations.extend(look(&page, axe.as_deref(), "am-ticket").await);
        press(&page, "request-revisions").await;
        assert_eq!(page.text("#ticket-status").await, "In Progress");
        assert!(
            page.text("section[aria-labelledby=notes]")
                .await
                .contains("Shorter headline, please")
        );
        page.open(&at).await;
        page.click("table tbody tr:nth-child(2) a").await;
        press(&page, "complete-deliverable").await;
        assert_eq!(page.text("#ticket-status").await, "Completed Deliverable");

        // R14, R15: the Copywriter revises; her approval is her own.
        as_person(&page, "copy@example.com", "Cora Copy").await;
        page.reload_until(".tasks .task", "Revise").await;
        press(&page, "submit-copy").await;

        // R16, R17: a new round for the client; the AM shares and signs off.
        as_person(&page, "am@example.com", "Amy AM").await;
        page.reload_until(".tasks .task", "Share Drafted Deliverables")
            .await;
        press(&page, "complete-task").await;
        page.open(&at).await;
        press(&page, "sign-off").await;
        assert_eq!(page.text("#status").await, "Creatives Completed & Approved");

        // R18, R19: the SAS implements from the task; the cycle closes.
        as_person(&page, "sas@example.com", "Sam SAS").await;
        page.reload_until(".tasks .task", "Implement New Creatives")
            .await;
        press(&page, "complete-task").await;
        assert_eq!(
            status(&page, &portfolio).await,
            "None (no refresh under way)"
        );
        as_person(&page, "am@example.com", "Amy AM").await;
        page.reload_until(".tasks .task", "new ads are running")
            .await;
    })
    .await;
}

/// My work follows the person's tasks by itself: a new task appears without a reload; while
/// they are typing, the page offers the update instead of taking their text away.
pub(crate) async fn my_work_updates_itself_when_a_task_arrives(db: TestDatabase) {
    let app = app(db, 10).await;
    everyone_has_a_password(&app).await;
    let (base, name) = (app.base.clone(), format!("live-{}", backend(&app)));
    in_browser(&base, &name, move |page| async move {
        as_person(&page, "am@example.com", "Amy AM").await;
        assert!(!page.has(".tasks .task").await);
        // R2: a portfolio refreshing within 15 days brings the AM her kickoff task.
        app.create_portfolio(date(2027, 3, 8)).await;
        page.wait_for(".tasks .task", "Reach out to client").await;
        // She starts her request; another task arrives meanwhile.
        unfold(&page, "Request the refresh").await;
        fill(&page, "request", "note", "Half-typed direction").await;
        app.create_portfolio(date(2027, 3, 9)).await;
        page.wait_for("#live-update", "Your tasks changed").await;
        assert_eq!(
            page.value("form[id^=action-request] [name=note]").await,
            "Half-typed direction",
            "what she typed stays"
        );
        assert_eq!(
            page.texts(".tasks .task > a").await.len(),
            1,
            "not reloaded yet"
        );
        page.click("#live-update button").await;
        assert_eq!(page.texts(".tasks .task > a").await.len(), 2);
        // A refused form's page is the answer to a POST: an update never reloads it (that
        // would post the form again); it offers the portfolio's own page instead.
        unfold(&page, "Request the refresh").await;
        press(&page, "request").await;
        let refused = page.path().await;
        assert!(refused.ends_with("/actions/request"), "{refused}");
        page.client
            .execute("document.activeElement.blur();", Vec::new())
            .await
            .unwrap();
        app.create_portfolio(date(2027, 3, 10)).await;
        page.wait_for("#live-update", "Your tasks changed").await;
        assert_eq!(page.path().await, refused, "not reloaded");
        page.click("#live-update button").await;
        assert_eq!(
            page.path().await,
            refused.trim_end_matches("/actions/request"),
            "the portfolio's own page"
        );
    })
    .await;
}
