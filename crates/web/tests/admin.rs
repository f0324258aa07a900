//! The Admin pages, on both backends: each works for an Admin and is the "not found" page
//! for anyone else; inviting emails the link; deactivating ends the person's session;
//! creating a portfolio makes it (kicked off at once when 15 days or fewer away, R2); a
//! refused reschedule shows the domain's sentence with what was typed kept; pausing and
//! ending; a rebuild starts and shows its progress; a failed email shows with its error and
//! a retry puts it back in the queue.
#![allow(clippy::unwrap_used)]

mod support;

use freshet_store::testing::TestDatabase;
use freshet_testkit::{App, date};
use reqwest::{Method, StatusCode};
use support::{Browser, app, emails, form_key as key_of, recorded, signed_in};

freshet_store::on_both_backends!(
    b4_admin_pages_work_for_an_admin_and_are_not_found_for_anyone_else,
    inviting_emails_the_link_and_lists_the_person_as_invited,
    deactivating_after_confirmation_ends_the_persons_session,
    r2_creating_a_portfolio_within_15_days_kicks_it_off,
    b5_a_create_form_posted_twice_creates_one_portfolio,
    r1_a_refused_reschedule_shows_the_domains_sentence_and_keeps_the_input,
    b5_pausing_resuming_and_ending_a_portfolio,
    changing_the_team_from_its_form_and_a_role_left_unchosen,
    cancelling_a_cycle_needs_a_reason,
    a_rebuild_starts_and_the_page_shows_its_progress,
    a_failed_email_shows_its_error_and_retry_puts_it_back_in_the_queue,
);

const PAGES: [&str; 6] = [
    "/app/admin/people",
    "/app/admin/portfolios",
    "/app/admin/portfolios/new",
    "/app/admin/projections",
    "/app/admin/outbox",
    "/app/admin/people/00000000-0000-0000-0000-000000000000/deactivate",
];

async fn admin(app: &App) -> Browser {
    signed_in(app, "admin@example.com").await
}

/// The facts list of a portfolio's Admin page (read from its events, not a read model).
async fn facts(browser: &mut Browser, portfolio: &str) -> String {
    let page = browser
        .get(&format!("/app/admin/portfolios/{portfolio}"))
        .await
        .body;
    let start = page.find("<dl class=\"facts\">").unwrap();
    let end = start + page[start..].find("</dl>").unwrap();
    page[start..end].to_owned()
}

async fn b4_admin_pages_work_for_an_admin_and_are_not_found_for_anyone_else(db: TestDatabase) {
    let app = app(db, 10).await;
    let portfolio = app.create_portfolio(date(2027, 4, 1)).await;
    let mut ada = admin(&app).await;
    let manage = format!("/app/admin/portfolios/{portfolio}");
    let not_found = ada.get("/app/no-such-page").await.body;
    let mut amy = signed_in(&app, "am@example.com").await;
    for path in PAGES.iter().copied().chain([manage.as_str()]) {
        let page = ada.get(path).await;
        if path.ends_with("0000/deactivate") {
            assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}: no such person");
        } else {
            assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
            assert!(page.body.contains("aria-label=\"Admin\""), "{path}");
        }
        let page = amy.get(path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path} for the AM");
        assert_eq!(
            page.body, not_found,
            "{path}: the same page as a missing one"
        );
    }
    let start = ada.get("/app/admin").await;
    assert_eq!(start.location.as_deref(), Some("/app/admin/people"));
    let page = amy.get("/app/admin").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(page.body, not_found);
    // The nav offers the Admin pages to Admins only.
    assert!(
        ada.get("/app/")
            .await
            .body
            .contains("href=\"/app/admin/people\"")
    );
    assert!(!amy.get("/app/").await.body.contains("/app/admin/"));
    // Nor can the AM act through them.
    let pause = amy
        .post(&format!("{manage}/pause"), &[("key", &uuid())])
        .await;
    assert_eq!(pause.status, StatusCode::NOT_FOUND);
    let invite = amy
        .post(
            "/app/admin/people",
            &[("name", "Eve"), ("email", "eve@example.com")],
        )
        .await;
    assert_eq!(invite.status, StatusCode::NOT_FOUND);
    assert_eq!(emails(&app, "invitation").await, 0);
    assert_eq!(recorded(&app, &portfolio, "PortfolioPaused").await, 0);
    // Signed out: the sign-in page, coming back here afterwards.
    let page = Browser::new(&app).get("/app/admin/people").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.location.as_deref(),
        Some("/app/sign-in?next=/app/admin/people")
    );
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn inviting_emails_the_link_and_lists_the_person_as_invited(db: TestDatabase) {
    let app = app(db, 10).await;
    let mut ada = admin(&app).await;
    let page = ada
        .post(
            "/app/admin/people",
            &[("name", "Nina New"), ("email", "nina@example.com")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let link = support::emailed_link(&app, "invitation", "nina@example.com").await;
    assert!(link.starts_with("/app/invitation/fl_"), "{link}");
    let people = ada.get(page.location.as_deref().unwrap()).await.body;
    assert!(people.contains("Invited: the email with their link is on its way."));
    let row = row_of(&people, "nina@example.com");
    assert!(row.contains("Invited, no password yet"), "{row}");
    assert!(row.contains("Invite again"), "{row}");
    // "Invite again" at once (a second click) sends nothing: the link on its way works.
    let id = id_of_row(row);
    let again = format!("/app/admin/people/{id}/invitation");
    let at_once = ada.post(&again, &[]).await;
    assert_eq!(at_once.status, StatusCode::UNPROCESSABLE_ENTITY);
    let row = row_of(&at_once.body, "nina@example.com");
    assert!(row.contains("invited less than a minute ago"), "{row}");
    assert_eq!(emails(&app, "invitation").await, 1);
    // Later (the first email was lost): a second email, and the first link stops working.
    let later = freshet_accounts::invitations::INVITE_AGAIN_AFTER + chrono::TimeDelta::seconds(1);
    app.clock
        .set(freshet_service::Clock::now(&*app.clock) + later);
    let again = ada.post(&again, &[]).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    assert_eq!(emails(&app, "invitation").await, 2);
    let second = support::emailed_link(&app, "invitation", "nina@example.com").await;
    assert!(second.starts_with("/app/invitation/fl_"), "{second}");
    // The same email again is refused next to the form, with what was typed kept.
    let refused = ada
        .post(
            "/app/admin/people",
            &[
                ("name", "Nina Twice"),
                ("email", "nina@example.com"),
                ("admin", "on"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("class=\"problem\""),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("value=\"Nina Twice\""));
    assert!(refused.body.contains("value=\"on\" checked"));
    assert_eq!(emails(&app, "invitation").await, 2, "nothing sent");
}

/// The table row of the person with `email` on the People page.
fn row_of<'a>(page: &'a str, email: &str) -> &'a str {
    let at = page
        .find(email)
        .unwrap_or_else(|| panic!("{email} not in {page}"));
    let start = page[..at].rfind("<tr").unwrap();
    let end = at + page[at..].find("</tr>").unwrap();
    &page[start..end]
}

fn id_of_row(row: &str) -> &str {
    let start = row.find("id=\"person-").unwrap() + "id=\"person-".len();
    &row[start..start + 36]
}

async fn deactivating_after_confirmation_ends_the_persons_session(db: TestDatabase) {
    let app = app(db, 10).await;
    let mut ada = admin(&app).await;
    let mut cora = signed_in(&app, "copy@example.com").await;
    assert_eq!(cora.get("/app/").await.status, StatusCode::OK);
    let people = ada.get("/app/admin/people").await.body;
    let id = id_of_row(row_of(&people, "copy@example.com")).to_owned();
    let confirm = ada.get(&format!("/app/admin/people/{id}/deactivate")).await;
    assert!(
        confirm.body.contains("Deactivate Cora Copy?"),
        "{}",
        confirm.body
    );
    // Without ticking the box: nothing happens.
    let unconfirmed = ada
        .post(&format!("/app/admin/people/{id}/deactivate"), &[])
        .await;
    assert_eq!(unconfirmed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unconfirmed.body.contains("Tick the box"));
    assert_eq!(cora.get("/app/").await.status, StatusCode::OK);
    let done = ada
        .post(
            &format!("/app/admin/people/{id}/deactivate"),
            &[("confirm", "on")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = cora.get("/app/").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "signed out");
    assert!(page.location.unwrap().starts_with("/app/sign-in"));
    let people = ada.get("/app/admin/people").await.body;
    let row = row_of(&people, "copy@example.com");
    assert!(row.contains("Deactivated"), "{row}");
    assert!(!row.contains("Deactivate…"), "{row}");
    // An Admin cannot deactivate themselves: no link, and refused if tried.
    assert!(!row_of(&people, "admin@example.com").contains("Deactivate…"));
}

/// The form fields of a new portfolio for the test app's team.
fn new_portfolio<'a>(
    app: &'a App,
    key: &'a str,
    client: &'a str,
    day: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("key", key),
        ("client", client),
        ("am", &app.am.id),
        ("sas", &app.sas.id),
        ("copywriter", &app.copywriter.id),
        ("designer", &app.designer.id),
        ("team_lead", &app.team_lead.id),
        ("every", "4"),
        ("unit", "weeks"),
        ("refresh_date", day),
    ]
}

async fn r2_creating_a_portfolio_within_15_days_kicks_it_off(db: TestDatabase) {
    let app = app(db, 10).await;
    let mut ada = admin(&app).await;
    let form = ada.get("/app/admin/portfolios/new").await.body;
    assert!(form.contains("Amy AM (am@example.com)"), "{form}");
    let key = key_of(&form, "create-form");
    // Today is 2027-03-01: the 10th is 9 days away.
    let page = ada
        .post(
            "/app/admin/portfolios/new",
            &new_portfolio(&app, &key, "Birch Bakery", "2027-03-10"),
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(
        page.location.as_deref(),
        Some(format!("/app/admin/portfolios/{key}?done=created").as_str())
    );
    assert_eq!(recorded(&app, &key, "PortfolioCreated").await, 1);
    // The inbox read model follows the events: wait for it (at most five seconds).
    let mut kinds = Vec::new();
    for _ in 0..100 {
        kinds = app.open_kinds(&app.am.token).await;
        if !kinds.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(kinds, ["reach_out_to_client"], "the AM's kickoff task (R2)");
    let shown = ada.get(page.location.as_deref().unwrap()).await.body;
    assert!(shown.contains("The portfolio is created."));
    assert!(shown.contains("Birch Bakery"));
    assert!(
        ada.get("/app/admin/portfolios")
            .await
            .body
            .contains("Birch Bakery")
    );
    // A client name left empty is refused with the rest kept.
    let refused = ada
        .post(
            "/app/admin/portfolios/new",
            &new_portfolio(&app, &uuid(), " ", "2027-05-10"),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("class=\"problem\""),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("value=\"2027-05-10\""));
    assert!(
        refused
            .body
            .contains(&format!("value=\"{}\" selected", app.designer.id))
    );
}

async fn b5_a_create_form_posted_twice_creates_one_portfolio(db: TestDatabase) {
    let app = app(db, 10).await;
    let mut ada = admin(&app).await;
    let key = uuid();
    let form = new_portfolio(&app, &key, "Cedar Cafe", "2027-06-01");
    let first = ada.post("/app/admin/portfolios/new", &form).await;
    let second = ada.post("/app/admin/portfolios/new", &form).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    assert_eq!(second.status, StatusCode::SEE_OTHER, "{}", second.body);
    assert_eq!(first.location, second.location);
    assert_eq!(recorded(&app, &key, "PortfolioCreated").await, 1);
}

async fn r1_a_refused_reschedule_shows_the_domains_sentence_and_keeps_the_input(db: TestDatabase) {
    let app = app(db, 10).await;
    let portfolio = app.create_portfolio(date(2027, 4, 1)).await;
    let mut ada = admin(&app).await;
    let manage = format!("/app/admin/portfolios/{portfolio}");
    let page = ada.get(&manage).await.body;
    let key = key_of(&page, "action-schedule");
    let refused = ada
        .post(
            &format!("{manage}/schedule"),
            &[
                ("key", &key),
                ("every", "3"),
                ("unit", "weeks"),
                ("refresh_date", "2027-02-01"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let form = &refused.body[refused.body.find("id=\"action-schedule\"").unwrap()..];
    let form = &form[..form.find("</form>").unwrap()];
    assert!(form.contains("class=\"problem\""), "{form}");
    assert!(form.contains("past"), "the domain's sentence: {form}");
    assert!(form.contains("value=\"2027-02-01\""), "{form}");
    assert!(form.contains("value=\"3\""), "{form}");
    assert!(form.contains("value=\"weeks\" selected"), "{form}");
    // The other forms show the portfolio as it is.
    let team = &refused.body[refused.body.find("id=\"action-team\"").unwrap()..];
    let team = &team[..team.find("</form>").unwrap()];
    assert!(
        team.contains(&format!("value=\"{}\" selected", app.am.id)),
        "{team}"
    );
    assert_eq!(recorded(&app, &portfolio, "PortfolioRescheduled").await, 0);
    let shown = facts(&mut ada, &portfolio).await;
    assert!(
        shown.contains("Thursday, April 1, 2027"),
        "nothing changed: {shown}"
    );
    // A plausible one is done.
    let key = key_of(&refused.body, "action-schedule");
    let done = ada
        .post(
            &format!("{manage}/schedule"),
            &[
                ("key", &key),
                ("every", "2"),
                ("unit", "months"),
                ("refresh_date", "2027-04-20"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let shown = facts(&mut ada, &portfolio).await;
    assert!(shown.contains("Tuesday, April 20, 2027"), "{shown}");
    assert!(shown.contains("every 2 months"), "{shown}");
}

async fn b5_pausing_resuming_and_ending_a_portfolio(db: TestDatabase) {
    let app = app(db, 10).await;
    let portfolio = app.create_portfolio(date(2027, 4, 1)).await;
    let mut ada = admin(&app).await;
    let manage = format!("/app/admin/portfolios/{portfolio}");
    let page = ada.get(&manage).await.body;
    assert!(!page.contains("id=\"action-resume\""), "not paused yet");
    let key = key_of(&page, "action-pause");
    let paused = ada.post(&format!("{manage}/pause"), &[("key", &key)]).await;
    assert_eq!(paused.status, StatusCode::SEE_OTHER, "{}", paused.body);
    // B5: the same form posted again is the same pause, not a refusal nor a second one.
    let again = ada.post(&format!("{manage}/pause"), &[("key", &key)]).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    let page = ada.get(&manage).await.body;
    assert!(page.contains("Paused since"), "{page}");
    assert!(!page.contains("id=\"action-pause\""));
    assert_eq!(recorded(&app, &portfolio, "PortfolioPaused").await, 1);
    let key = key_of(&page, "action-resume");
    let resumed = ada
        .post(
            &format!("{manage}/resume"),
            &[("key", &key), ("refresh_date", "2027-05-03")],
        )
        .await;
    assert_eq!(resumed.status, StatusCode::SEE_OTHER, "{}", resumed.body);
    let shown = facts(&mut ada, &portfolio).await;
    assert!(
        shown.contains("<dd id=\"lifecycle\">Active</dd>"),
        "{shown}"
    );
    assert!(shown.contains("Monday, May 3, 2027"), "{shown}");
    // Ending needs the box ticked.
    let page = ada.get(&manage).await.body;
    let key = key_of(&page, "action-end");
    let unconfirmed = ada.post(&format!("{manage}/end"), &[("key", &key)]).await;
    assert_eq!(unconfirmed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unconfirmed.body.contains("Tick the box"));
    assert_eq!(recorded(&app, &portfolio, "PortfolioEnded").await, 0);
    let key = key_of(&unconfirmed.body, "action-end");
    let ended = ada
        .post(
            &format!("{manage}/end"),
            &[("key", &key), ("confirm", "on")],
        )
        .await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER, "{}", ended.body);
    assert_eq!(recorded(&app, &portfolio, "PortfolioEnded").await, 1);
    let page = ada.get(&manage).await.body;
    assert!(page.contains("Ended on"));
    assert!(!page.contains("<form method=\"post\" action=\"/app/admin/portfolios"));
}

async fn a_rebuild_starts_and_the_page_shows_its_progress(db: TestDatabase) {
    let app = app(db, 10).await;
    app.create_portfolio(date(2027, 4, 1)).await;
    let mut ada = admin(&app).await;
    let page = ada.get("/app/admin/projections").await.body;
    assert!(page.contains("id=\"projection-inbox\""), "{page}");
    assert!(page.contains("None since the server started"));
    let started = ada.post("/app/admin/projections/inbox/rebuild", &[]).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let mut page = ada.get(started.location.as_deref().unwrap()).await.body;
    assert!(page.contains("The rebuild of inbox has started"));
    for _ in 0..100 {
        if page.contains("Done: generation") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        page = ada.get("/app/admin/projections").await.body;
    }
    let row = &page[page.find("id=\"projection-inbox\"").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("Done: generation 2"), "{row}");
    // The API sees the same rebuild.
    let statuses = app
        .call(Method::GET, "/admin/projections", Some(&app.admin), None)
        .await
        .body;
    let inbox = statuses
        .as_array()
        .unwrap()
        .iter()
        .find(|status| status["name"] == "inbox")
        .unwrap();
    assert_eq!(inbox["rebuild"]["generation"], 2, "{inbox}");
    let unknown = ada
        .post("/app/admin/projections/nothing/rebuild", &[])
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

async fn a_failed_email_shows_its_error_and_retry_puts_it_back_in_the_queue(db: TestDatabase) {
    let app = app(db, 10).await;
    let mut ada = admin(&app).await;
    ada.post(
        "/app/admin/people",
        &[("name", "Fay Fail"), ("email", "fay@example.com")],
    )
    .await;
    support::fail_emails(&app, "invitation", "mailbox unavailable").await;
    let page = ada.get("/app/admin/outbox").await.body;
    let failed = &page
        [page.find("id=\"state-failed\"").unwrap()..page.find("id=\"state-pending\"").unwrap()];
    assert!(failed.contains("mailbox unavailable"), "{failed}");
    assert!(failed.contains("Fay Fail"), "{failed}");
    assert!(
        !page.contains("/app/invitation/fl_"),
        "no account message's body"
    );
    assert!(page.contains("id=\"count-failed\">1<"), "{page}");
    let start = failed.find("action=\"/app/admin/outbox/").unwrap() + "action=\"".len();
    let retry = &failed[start..start + failed[start..].find('"').unwrap()];
    let done = ada.post(retry, &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = ada.get("/app/admin/outbox?done=retried").await.body;
    assert!(page.contains("back in the queue"));
    assert!(page.contains("id=\"count-failed\">0<"), "{page}");
    assert!(page.contains("id=\"count-pending\">1<"), "{page}");
    // Pressed again: no longer failed, said next to nothing lost.
    let again = ada.post(retry, &[]).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
}

async fn changing_the_team_from_its_form_and_a_role_left_unchosen(db: TestDatabase) {
    let app = app(db, 10).await;
    // Eight days away: the AM has the kickoff task (R2).
    let portfolio = app.create_portfolio(date(2027, 3, 9)).await;
    let mut ada = admin(&app).await;
    let manage = format!("/app/admin/portfolios/{portfolio}");
    let page = ada.get(&manage).await.body;
    let key = key_of(&page, "action-team");
    let changed = ada
        .post(
            &format!("{manage}/team"),
            &[
                ("key", &key),
                ("am", &app.outsider.id),
                ("sas", &app.sas.id),
                ("copywriter", &app.copywriter.id),
                ("designer", &app.designer.id),
                ("team_lead", &app.team_lead.id),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    assert_eq!(recorded(&app, &portfolio, "TeamChanged").await, 1);
    let shown = facts(&mut ada, &portfolio).await;
    assert!(
        shown.contains("<dt>Account Manager</dt><dd>Olly Outsider</dd>"),
        "{shown}"
    );
    // A role left unchosen is refused, the others kept.
    let key = key_of(&ada.get(&manage).await.body, "action-team");
    let refused = ada
        .post(
            &format!("{manage}/team"),
            &[("key", &key), ("am", ""), ("sas", &app.am.id)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("Choose the Account Manager."),
        "{}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains(&format!("value=\"{}\" selected", app.am.id)),
        "what was typed is kept"
    );
    assert_eq!(recorded(&app, &portfolio, "TeamChanged").await, 1);
}

async fn cancelling_a_cycle_needs_a_reason(db: TestDatabase) {
    let app = app(db, 10).await;
    let portfolio = app.create_portfolio(date(2027, 3, 8)).await;
    app.ok(
        &app.am.token,
        &format!("/portfolios/{portfolio}/request"),
        Some(serde_json::json!({ "note": "New photos in the drive" })),
    )
    .await;
    app.ok(
        &app.sas.token,
        &format!("/portfolios/{portfolio}/tickets"),
        Some(
            serde_json::json!({ "title": "Feed 1080x1080", "folder": "Spring", "deliverables": 1 }),
        ),
    )
    .await;
    let mut ada = admin(&app).await;
    let manage = format!("/app/admin/portfolios/{portfolio}");
    let page = ada.get(&manage).await.body;
    let key = key_of(&page, "action-cancel");
    let refused = ada
        .post(
            &format!("{manage}/cancel"),
            &[("key", &key), ("reason", "  ")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("Say why the client withdrew."));
    assert_eq!(recorded(&app, &portfolio, "CycleCancelled").await, 0);
    let key = key_of(&refused.body, "action-cancel");
    let cancelled = ada
        .post(
            &format!("{manage}/cancel"),
            &[("key", &key), ("reason", "The client paused all ads")],
        )
        .await;
    assert_eq!(
        cancelled.status,
        StatusCode::SEE_OTHER,
        "{}",
        cancelled.body
    );
    assert_eq!(recorded(&app, &portfolio, "CycleCancelled").await, 1);
    let page = ada.get(cancelled.location.as_deref().unwrap()).await.body;
    assert!(page.contains("The cycle is cancelled."), "{page}");
}
