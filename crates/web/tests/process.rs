//! The whole Creative Refresh process taken from the pages, on both backends: every action
//! of the process documents is a form that its own person finds (on My work, the
//! portfolio's page or the ticket's page) and posts, and that nobody else is offered (B4).
//! A ticket form posted twice creates one ticket (B5); a refused ticket action shows its
//! problem by what was typed.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use freshet_store::testing::TestDatabase;
use freshet_testkit::{App, date};
use reqwest::{Method, StatusCode};
use support::{Browser, Page, app, form, signed_in};

freshet_store::on_both_backends!(
    r5_to_r19_every_action_of_a_cycle_is_taken_from_the_pages_by_its_own_person,
    b5_r7_a_ticket_form_posted_twice_creates_one_ticket,
    b4_r14_a_refused_ticket_action_keeps_what_was_typed_and_changes_nothing,
    r7_the_set_is_corrected_renamed_and_withdrawn_from_and_the_am_cancels_the_cycle,
    b4_a_person_of_another_team_can_neither_see_nor_act_on_a_portfolio,
);

/// The Creative Refresh Status the portfolio's page shows.
async fn status(browser: &mut Browser, portfolio: &str) -> String {
    let page = browser
        .get(&format!("/app/portfolios/{portfolio}"))
        .await
        .body;
    let start = page.find("id=\"status\">").unwrap() + "id=\"status\">".len();
    page[start..start + page[start..].find('<').unwrap()].replace("&#38;", "&")
}

/// `path` once it shows `needle` (read models follow the log a moment later).
async fn once_it_shows(browser: &mut Browser, path: &str, needle: &str) -> String {
    for _ in 0..100 {
        let page = browser.get(path).await;
        if page.body.contains(needle) {
            return page.body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{path} never showed {needle:?}: {}",
        browser.get(path).await.body
    );
}

/// The text of each alert (a refusal's sentence) on `page`.
fn alerts(page: &str) -> Vec<String> {
    page.split("role=\"alert\"")
        .skip(1)
        .map(|rest| {
            let text = &rest[rest.find('>').unwrap() + 1..];
            text[..text.find("</p>").unwrap()].to_owned()
        })
        .collect()
}

fn done(page: &Page) {
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
}

/// The ticket pages linked from a portfolio's Ad Set table.
fn ticket_pages(page: &str, portfolio: &str) -> Vec<String> {
    let prefix = format!("/app/portfolios/{portfolio}/tickets/");
    let mut pages: Vec<String> = page
        .match_indices(&format!("href=\"{prefix}"))
        .map(|(at, _)| {
            let start = at + "href=\"".len();
            page[start..start + prefix.len() + 36].to_owned()
        })
        .collect();
    pages.dedup();
    pages
}

async fn r5_to_r19_every_action_of_a_cycle_is_taken_from_the_pages_by_its_own_person(
    db: TestDatabase,
) {
    let app = app(db, 10).await;
    let portfolio = app.create_portfolio(date(2027, 3, 8)).await;
    let page = format!("/app/portfolios/{portfolio}");
    let mut am = signed_in(&app, "am@example.com").await;

    // R2, R5: the AM requests the refresh right from the kickoff task on My work.
    once_it_shows(&mut am, "/app/", "Reach out to client").await;
    done(
        &am.act(
            "/app/",
            "request",
            &[("note", "Spring colours; keep the logo big")],
        )
        .await,
    );
    assert_eq!(
        status(&mut am, &portfolio).await,
        "Refresh Request Submitted"
    );

    // R6: on the refresh date the SAS's task shows the AM's Note. (A week later: everyone
    // signs in afresh, as yesterday's sessions have ended.)
    app.clock.set_date(date(2027, 3, 8));
    let mut am = signed_in(&app, "am@example.com").await;
    let mut sas = signed_in(&app, "sas@example.com").await;
    let mut copywriter = signed_in(&app, "copy@example.com").await;
    let mut designer = signed_in(&app, "design@example.com").await;
    let mut lead = signed_in(&app, "lead@example.com").await;
    app.ok(&app.admin, &format!("/portfolios/{portfolio}/tick"), None)
        .await;
    let work = once_it_shows(&mut sas, "/app/", "Create Paid Social Deliverables").await;
    assert!(work.contains("Spring colours; keep the logo big"), "{work}");

    // R7, R9: the first ticket from scratch, the second cloned from it, then submitted.
    assert!(!copywriter.offers(&page, "create-ticket").await, "B4");
    done(
        &sas.act(
            &page,
            "create-ticket",
            &[
                ("title", "Spring 1"),
                ("folder", "Spring 2027"),
                ("deliverables", "2"),
            ],
        )
        .await,
    );
    let tickets = ticket_pages(&sas.get(&page).await.body, &portfolio);
    assert_eq!(tickets.len(), 1);
    done(
        &sas.act(&tickets[0], "clone-ticket", &[("title", "Spring 2")])
            .await,
    );
    let tickets = ticket_pages(&sas.get(&page).await.body, &portfolio);
    assert_eq!(tickets.len(), 2, "the clone is in the Ad Set");
    let board = sas.get(&page).await.body;
    assert!(
        board.contains("Spring 2027"),
        "the clone carries the folder: {board}"
    );
    done(&sas.act(&page, "deliverables-submitted", &[]).await);
    assert_eq!(status(&mut am, &portfolio).await, "Deliverables Submitted");

    // R8, R10: the Copywriter and the Designer submit from My work; the Designer also keeps
    // the Ad Lab link (R12); the Team Lead approves from My work.
    for _ in 0..2 {
        once_it_shows(&mut copywriter, "/app/", "action-submit-copy").await;
        done(&copywriter.act("/app/", "submit-copy", &[]).await);
        once_it_shows(&mut designer, "/app/", "action-submit-graphics").await;
        done(&designer.act("/app/", "submit-graphics", &[]).await);
    }
    assert!(!copywriter.offers(&page, "ad-lab-link").await, "B4");
    done(
        &designer
            .act(
                &page,
                "ad-lab-link",
                &[("link", "https://adlab.example/spring")],
            )
            .await,
    );
    assert!(
        !sas.offers(&tickets[0], "approve-copy").await,
        "B4: QA is the Team Lead's"
    );
    for _ in 0..2 {
        once_it_shows(&mut lead, "/app/", "action-approve-copy").await;
        done(&lead.act("/app/", "approve-copy", &[]).await);
        once_it_shows(&mut lead, "/app/", "action-approve-graphics").await;
        done(&lead.act("/app/", "approve-graphics", &[]).await);
    }

    // R11, R12: the AM's share task shows the Ad Lab link; she shares, then records the
    // client's answer per ticket: changes to the copy of one (R14), approval of the other
    // (R13).
    let work = once_it_shows(&mut am, "/app/", "Share Drafted Deliverables").await;
    assert!(work.contains("https://adlab.example/spring"), "{work}");
    assert_eq!(
        status(&mut am, &portfolio).await,
        "Creatives Pending Approval"
    );
    done(&am.act("/app/", "complete-task", &[]).await);
    done(
        &am.act(
            &tickets[0],
            "request-revisions",
            &[("kind", "copy"), ("note", "Shorter headline, please")],
        )
        .await,
    );
    done(&am.act(&tickets[1], "complete-deliverable", &[]).await);
    let ticket = am.get(&tickets[0]).await.body;
    assert!(
        ticket.contains("Shorter headline, please"),
        "the feedback is a Note: {ticket}"
    );
    assert!(ticket.contains("Copy Revisions Only"), "{ticket}");

    // R21: the Copywriter asks on the ticket; the SAS answers.
    done(
        &copywriter
            .act(
                &tickets[0],
                "ticket-note",
                &[("note", "How short is short?")],
            )
            .await,
    );
    done(
        &sas.act(
            &tickets[0],
            "ticket-note",
            &[("note", "Under 30 characters")],
        )
        .await,
    );
    let thread = copywriter.get(&tickets[0]).await.body;
    let (question, answer) = (
        thread.find("How short is short?").unwrap(),
        thread.find("Under 30 characters").unwrap(),
    );
    assert!(question < answer, "the thread reads in order");
    assert!(
        thread.contains("Cora Copy") && thread.contains("Sam SAS"),
        "authors kept"
    );

    // R15, R16: the revised copy approves itself and the set goes back to the client.
    once_it_shows(&mut copywriter, "/app/", "action-submit-copy").await;
    done(&copywriter.act("/app/", "submit-copy", &[]).await);
    once_it_shows(&mut am, "/app/", "Share Drafted Deliverables").await;
    done(&am.act("/app/", "complete-task", &[]).await);

    // R17: only the AM signs off; R18, R19: the SAS implements from the task.
    assert!(!sas.offers(&page, "sign-off").await, "B4");
    done(&am.act(&page, "sign-off", &[]).await);
    assert_eq!(
        status(&mut am, &portfolio).await,
        "Creatives Completed & Approved"
    );
    once_it_shows(&mut sas, "/app/", "Implement New Creatives").await;
    done(&sas.act("/app/", "complete-task", &[]).await);
    assert_eq!(
        status(&mut am, &portfolio).await,
        "None (no refresh under way)",
        "R19: the status is cleared"
    );
    once_it_shows(&mut am, "/app/", "ads are running").await;
}

/// A portfolio whose refresh the AM requested, with the AM and the SAS signed in: the
/// portfolio's id and page.
async fn requested(app: &App) -> (String, String, Browser, Browser) {
    let portfolio = app.create_portfolio(date(2027, 3, 8)).await;
    let page = format!("/app/portfolios/{portfolio}");
    let mut am = signed_in(app, "am@example.com").await;
    done(&am.act(&page, "request", &[("note", "Go")]).await);
    let sas = signed_in(app, "sas@example.com").await;
    (portfolio, page, am, sas)
}

/// The SAS creates the Ad Set's first ticket, "One" in folder "F" of `deliverables`: its
/// page.
async fn first_ticket(
    sas: &mut Browser,
    portfolio: &str,
    page: &str,
    deliverables: &str,
) -> String {
    done(
        &sas.act(
            page,
            "create-ticket",
            &[
                ("title", "One"),
                ("folder", "F"),
                ("deliverables", deliverables),
            ],
        )
        .await,
    );
    ticket_pages(&sas.get(page).await.body, portfolio)[0].clone()
}

async fn b5_r7_a_ticket_form_posted_twice_creates_one_ticket(db: TestDatabase) {
    let app = app(db, 10).await;
    let (portfolio, page, _, mut sas) = requested(&app).await;
    let drawn = form(&sas.get(&page).await.body, "create-ticket").unwrap();
    let mut sent: Vec<(&str, &str)> = drawn
        .hidden
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    sent.extend([("title", "One"), ("folder", "F"), ("deliverables", "3")]);
    for _ in 0..2 {
        done(&sas.post(&drawn.action, &sent).await);
    }
    let board = sas.get(&page).await.body;
    assert_eq!(
        ticket_pages(&board, &portfolio).len(),
        1,
        "one ticket: {board}"
    );
}

async fn b4_r14_a_refused_ticket_action_keeps_what_was_typed_and_changes_nothing(db: TestDatabase) {
    let app = app(db, 10).await;
    let (portfolio, page, mut am, mut sas) = requested(&app).await;
    let ticket = first_ticket(&mut sas, &portfolio, &page, "1").await;
    // R7: the set is complete, so no clone is offered; one posted anyway is refused with
    // the domain's sentence, the title kept.
    assert!(!sas.offers(&ticket, "clone-ticket").await);
    let target = ticket.rsplit('/').next().unwrap();
    let refused = sas
        .post(
            &format!("{page}/actions/clone-ticket"),
            &[
                ("key", "00000000-0000-4000-8000-000000000001"),
                ("ticket", target),
                ("title", "Two"),
            ],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(refused.body.contains("role=\"alert\""), "{}", refused.body);
    assert!(refused.body.contains("value=\"Two\""), "the title is kept");
    // The API's clause, shown as a sentence.
    assert_eq!(
        alerts(&refused.body),
        ["The Ad Set already has all 1 of its tickets."]
    );
    // R14 (B4): the AM cannot ask for revisions before the client has seen the ticket;
    // her feedback comes back to her in the form.
    let mut am_ticket = am.get(&ticket).await;
    assert!(
        form(&am_ticket.body, "request-revisions").is_none(),
        "not offered yet"
    );
    am_ticket = am
        .post(
            &format!("{page}/actions/request-revisions"),
            &[
                ("key", "00000000-0000-4000-8000-000000000002"),
                ("ticket", target),
                ("kind", "both"),
                ("note", "Too early, surely"),
            ],
        )
        .await;
    assert_eq!(
        am_ticket.status,
        StatusCode::CONFLICT,
        "the ticket is not with the client yet"
    );
    assert!(
        am_ticket.body.contains("Too early, surely"),
        "{}",
        am_ticket.body
    );
    let sentences = alerts(&am_ticket.body);
    assert_eq!(sentences.len(), 1, "{}", am_ticket.body);
    assert!(sentences[0].starts_with(char::is_uppercase) && sentences[0].ends_with('.'));
    let history = app
        .call(
            Method::GET,
            &format!("/portfolios/{portfolio}/history"),
            Some(&app.admin),
            None,
        )
        .await
        .body
        .to_string();
    assert!(!history.contains("RevisionsRequested"));
    assert_eq!(history.matches("\"TicketCreated\"").count(), 1);
}

async fn r7_the_set_is_corrected_renamed_and_withdrawn_from_and_the_am_cancels_the_cycle(
    db: TestDatabase,
) {
    let app = app(db, 10).await;
    let (portfolio, page, mut am, mut sas) = requested(&app).await;
    let first = first_ticket(&mut sas, &portfolio, &page, "1").await;
    assert!(
        !sas.offers(&first, "clone-ticket").await,
        "the set is complete"
    );
    // R7: one set-wide count, corrected on the portfolio; then a clone fits.
    done(
        &sas.act(&page, "correct-count", &[("deliverables", "2")])
            .await,
    );
    assert!(
        sas.get(&page)
            .await
            .body
            .contains("0 of 2 ready (1 created)")
    );
    done(&sas.act(&first, "clone-ticket", &[("title", "Two")]).await);
    let tickets = ticket_pages(&sas.get(&page).await.body, &portfolio);
    assert_eq!(tickets.len(), 2);
    let clone = tickets.iter().find(|t| **t != first).unwrap().clone();
    // Withdrawn: out of the Ad Set, its page says so.
    // Not without ticking the box: a click alone changes nothing.
    let unconfirmed = sas.act(&clone, "withdraw-ticket", &[]).await;
    assert_eq!(unconfirmed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unconfirmed.body.contains("Tick the box"),
        "{}",
        unconfirmed.body
    );
    assert_eq!(
        ticket_pages(&sas.get(&page).await.body, &portfolio).len(),
        2
    );
    done(
        &sas.act(&clone, "withdraw-ticket", &[("confirm", "yes")])
            .await,
    );
    assert_eq!(
        ticket_pages(&sas.get(&page).await.body, &portfolio),
        std::slice::from_ref(&first)
    );
    assert!(sas.get(&clone).await.body.contains("was withdrawn"));
    // Renamed by the SAS only.
    assert!(!am.offers(&first, "rename-ticket").await, "B4: the SAS's");
    done(
        &sas.act(&first, "rename-ticket", &[("title", "One, renamed")])
            .await,
    );
    assert!(sas.get(&page).await.body.contains("One, renamed"));
    // The client withdrew: the AM cancels the cycle with the reason, a Note.
    assert!(!sas.offers(&page, "cancel-cycle").await, "B4: the AM's");
    done(
        &am.act(
            &page,
            "cancel-cycle",
            &[("note", "Budget frozen until May")],
        )
        .await,
    );
    let after = am.get(&page).await.body;
    assert!(after.contains("No tickets in this cycle yet."), "{after}");
}

async fn b4_a_person_of_another_team_can_neither_see_nor_act_on_a_portfolio(db: TestDatabase) {
    let app = app(db, 10).await;
    let (portfolio, page, _, mut sas) = requested(&app).await;
    let ticket = first_ticket(&mut sas, &portfolio, &page, "2").await;
    let target = ticket.rsplit('/').next().unwrap().to_owned();
    let mut outsider = signed_in(&app, "out@example.com").await;
    for path in [&page, &ticket] {
        let seen = outsider.get(path).await;
        assert_eq!(seen.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!seen.body.contains("Acme Outdoor"), "nothing of it shows");
    }
    let before = app.version(&portfolio).await;
    for (action, fields) in [
        ("note", vec![("note", "Sneaky")]),
        ("decline", vec![("confirm", "yes")]),
        (
            "clone-ticket",
            vec![("ticket", target.as_str()), ("title", "Two")],
        ),
        (
            "ticket-note",
            vec![("ticket", target.as_str()), ("note", "Hi")],
        ),
    ] {
        let mut form = vec![("key", "00000000-0000-4000-8000-0000000000aa")];
        form.extend(fields);
        let refused = outsider
            .post(&format!("{page}/actions/{action}"), &form)
            .await;
        assert_eq!(
            refused.status,
            StatusCode::NOT_FOUND,
            "{action}: {}",
            refused.body
        );
        assert!(!refused.body.contains("Acme Outdoor"));
    }
    assert_eq!(app.version(&portfolio).await, before, "nothing recorded");
}
