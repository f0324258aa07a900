//! Acting from a portfolio's page, on both backends: each person is offered the actions the
//! domain would accept from them now and no others (B4); a form posted twice does the thing
//! once (B5); a refusal shows the problem's sentence next to its form with what was typed
//! kept, and records nothing.
#![allow(clippy::unwrap_used)]

mod support;

use freshet_store::testing::TestDatabase;
use freshet_testkit::date;
use reqwest::StatusCode;
use support::{app, recorded, signed_in};

freshet_store::on_both_backends!(
    b4_each_person_is_offered_only_the_actions_the_domain_accepts_from_them,
    b5_r5_a_request_posted_twice_is_recorded_once,
    a_refused_action_shows_its_problem_next_to_the_form_and_keeps_what_was_typed,
);

/// The key of the action's form on `page`.
fn key_of(page: &str, slug: &str) -> String {
    support::form_key(page, &format!("action-{slug}"))
}

async fn b4_each_person_is_offered_only_the_actions_the_domain_accepts_from_them(db: TestDatabase) {
    let app = app(db, 10).await;
    let portfolio = app.create_portfolio(date(2027, 3, 8)).await;
    let page = format!("/app/portfolios/{portfolio}");
    let am = signed_in(&app, "am@example.com")
        .await
        .get(&page)
        .await
        .body;
    for offered in [
        "Request the refresh",
        "Decline this refresh",
        "Log the Note",
    ] {
        assert!(am.contains(offered), "the AM is offered {offered:?}: {am}");
    }
    for not_now in [
        "Sign off the Ad Set",
        "Mark deliverables submitted",
        "Mark creatives implemented",
    ] {
        assert!(!am.contains(not_now), "the AM is not offered {not_now:?}");
    }
    let sas = signed_in(&app, "sas@example.com")
        .await
        .get(&page)
        .await
        .body;
    assert!(sas.contains("Log the Note"), "the SAS may log a Note");
    for not_theirs in ["Request the refresh", "Decline this refresh"] {
        assert!(
            !sas.contains(not_theirs),
            "the SAS is not offered {not_theirs:?}"
        );
    }
    let copywriter = signed_in(&app, "copy@example.com")
        .await
        .get(&page)
        .await
        .body;
    assert!(!copywriter.contains("What you can do now"), "{copywriter}");
}

async fn b5_r5_a_request_posted_twice_is_recorded_once(db: TestDatabase) {
    let app = app(db, 10).await;
    let portfolio = app.create_portfolio(date(2027, 3, 8)).await;
    let page = format!("/app/portfolios/{portfolio}");
    let mut am = signed_in(&app, "am@example.com").await;
    let key = key_of(&am.get(&page).await.body, "request");
    let action = format!("{page}/actions/request");
    let form = [
        ("key", key.as_str()),
        ("note", "Client wants spring colours"),
    ];
    for _ in 0..2 {
        let done = am.post(&action, &form).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        assert_eq!(
            done.location.as_deref(),
            Some(format!("{page}?done=request").as_str())
        );
    }
    assert_eq!(recorded(&app, &portfolio, "RefreshRequested").await, 1);
    let after = am.get(&format!("{page}?done=request")).await.body;
    assert!(after.contains("Done."), "{after}");
    assert!(
        !after.contains("Request the refresh"),
        "no longer offered once requested"
    );
}

async fn a_refused_action_shows_its_problem_next_to_the_form_and_keeps_what_was_typed(
    db: TestDatabase,
) {
    let app = app(db, 10).await;
    let portfolio = app.create_portfolio(date(2027, 3, 8)).await;
    let page = format!("/app/portfolios/{portfolio}");
    let mut am = signed_in(&app, "am@example.com").await;
    let key = key_of(&am.get(&page).await.body, "request");
    // R5: no Note this cycle and none given: refused by the domain, nothing recorded.
    let refused = am
        .post(
            &format!("{page}/actions/request"),
            &[("key", key.as_str()), ("note", "  ")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("role=\"alert\""), "{}", refused.body);
    assert!(refused.body.contains("Note"), "{}", refused.body);
    assert_eq!(recorded(&app, &portfolio, "RefreshRequested").await, 0);
    // A Note too long: refused before the domain, and the text comes back in the form.
    let long = "spring ".repeat(3_000);
    let key = key_of(&am.get(&page).await.body, "note");
    let refused = am
        .post(
            &format!("{page}/actions/note"),
            &[("key", key.as_str()), ("note", long.as_str())],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("20000") || refused.body.contains("20,000"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains(long.trim()), "what was typed is kept");
    // Not theirs (B4): the SAS posting the AM's request is refused (403, as the API answers)
    // and nothing recorded.
    let mut sas = signed_in(&app, "sas@example.com").await;
    let refused = sas
        .post(
            &format!("{page}/actions/request"),
            &[
                ("key", "00000000-0000-4000-8000-000000000001"),
                ("note", "sneaky"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("Account Manager"), "{}", refused.body);
    assert_eq!(recorded(&app, &portfolio, "RefreshRequested").await, 0);
}
