//! People in a browser, on both backends: invited, they choose a password and arrive
//! signed in; they sign out and in again, act through the API with their session (the
//! same permissions as a token, B4), and are protected against forged cross-site requests,
//! session fixation, password guessing, deactivation and stale sessions.
#![allow(clippy::unwrap_used)]

mod support;

use chrono::TimeDelta;
use freshet_accounts::{Password, credentials};
use freshet_store::testing::TestDatabase;
use freshet_testkit::App;
use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{Browser, PASSWORD, app, emailed_link, emails_settled, signed_in};

freshet_store::on_both_backends!(
    an_invited_person_chooses_a_password_signs_in_acts_and_signs_out,
    a_forged_cross_site_post_is_refused_and_changes_nothing,
    signing_in_always_begins_a_new_session,
    sign_in_is_held_back_per_account_and_per_address,
    a_deactivated_person_is_signed_out_at_once,
    an_idle_session_ends_and_the_page_asks_to_sign_in_again,
    a_forgotten_password_is_reset_through_an_emailed_link,
    guessing_the_current_password_in_settings_is_held_back,
    a_person_changes_their_password_and_their_digest_in_settings,
);

fn advance(app: &App, by: TimeDelta) {
    app.clock.set(app.clock_now() + by);
}

trait Now {
    fn clock_now(&self) -> chrono::DateTime<chrono::Utc>;
}

impl Now for App {
    fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        freshet_service::Clock::now(&*self.clock)
    }
}

async fn an_invited_person_chooses_a_password_signs_in_acts_and_signs_out(db: TestDatabase) {
    let app = app(db, 10).await;
    let invited = app
        .call(
            Method::POST,
            "/admin/invitations",
            Some(&app.admin),
            Some(json!({ "name": "Nia New", "email": "nia@example.com" })),
        )
        .await;
    assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.body);
    let link = emailed_link(&app, "invitation", "nia@example.com").await;

    let mut browser = Browser::new(&app);
    // Opening the link (as a mail scanner would) changes nothing: it opens again.
    for _ in 0..2 {
        let page = browser.get(&link).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body.contains("Welcome to Freshet, Nia New"),
            "{}",
            page.body
        );
    }
    let mismatch = browser
        .post(
            &link,
            &[
                ("password", PASSWORD),
                ("confirmation", "orchard lantern eight"),
            ],
        )
        .await;
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(mismatch.body.contains("not the same"), "{}", mismatch.body);
    let common = browser
        .post(
            &link,
            &[("password", "password123"), ("confirmation", "password123")],
        )
        .await;
    assert!(common.body.contains("commonest"), "{}", common.body);
    assert!(
        browser.cookie.is_none(),
        "no session before a password is chosen"
    );

    let chosen = browser
        .post(&link, &[("password", PASSWORD), ("confirmation", PASSWORD)])
        .await;
    assert_eq!(chosen.status, StatusCode::SEE_OTHER, "{}", chosen.body);
    assert_eq!(chosen.location.as_deref(), Some("/app/"));
    let cookie = chosen.set_cookie.clone().unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let home = browser.get("/app/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.body.contains("Nia New") && home.body.contains("My work"),
        "{}",
        home.body
    );
    // The link worked once.
    let again = Browser::new(&app).get(&link).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert!(again.body.contains("no longer works"));

    // Signed out, the same cookie opens nothing.
    let stale = browser.cookie.clone();
    let out = browser.post("/app/sign-out", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location.as_deref(), Some("/app/sign-in"));
    assert!(out.set_cookie.unwrap().contains("Max-Age=0"));
    browser.cookie = stale;
    let refused = browser.get("/app/").await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    assert_eq!(refused.location.as_deref(), Some("/app/sign-in?next=/app/"));

    // Signed in again with the password, the AM acts through the API with the session.
    let mut am = signed_in(&app, "am@example.com").await;
    let portfolio = app
        .create_portfolio(freshet_testkit::date(2027, 3, 8))
        .await;
    let (status, answer) = am
        .api(
            Method::POST,
            &format!("/portfolios/{portfolio}/notes"),
            json!({ "text": "Client wants spring colours" }),
            "same-origin",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        answer["events"][0]["type"], "PortfolioNoteLogged",
        "{answer}"
    );
    let history = app
        .call(
            Method::GET,
            &format!("/portfolios/{portfolio}/history"),
            Some(&app.admin),
            None,
        )
        .await;
    assert!(
        history.body.to_string().contains(&app.am.id),
        "the Note is the AM's in the history (B2): {}",
        history.body
    );
    // The same permissions as a token (B4): an outsider's session is refused like their token.
    let mut outsider = signed_in(&app, "out@example.com").await;
    let (status, answer) = outsider
        .api(
            Method::POST,
            &format!("/portfolios/{portfolio}/notes"),
            json!({ "text": "not my client" }),
            "same-origin",
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
}

async fn a_forged_cross_site_post_is_refused_and_changes_nothing(db: TestDatabase) {
    let app = app(db, 10).await;
    let mut am = signed_in(&app, "am@example.com").await;
    let portfolio = app
        .create_portfolio(freshet_testkit::date(2027, 3, 8))
        .await;
    let before = app.version(&portfolio).await;
    for site in ["cross-site", "same-site"] {
        let (status, answer) = am
            .api(
                Method::POST,
                &format!("/portfolios/{portfolio}/notes"),
                json!({ "text": "forged" }),
                site,
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{site}: {answer}");
        assert_eq!(answer["code"], "cross-origin-request");
    }
    // A forged form post to the pages is refused the same way: the password stays.
    let forged = am
        .post_from_elsewhere(
            "/app/settings/password",
            &[
                ("current", PASSWORD),
                ("password", "taken over by evil"),
                ("confirmation", "taken over by evil"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.version(&portfolio).await,
        before,
        "nothing was recorded"
    );
    let still = Browser::new(&app).sign_in("am@example.com", PASSWORD).await;
    assert_eq!(
        still.status,
        StatusCode::SEE_OTHER,
        "the password did not change"
    );
    // A bearer-token client keeps working as before.
    let note = app
        .call(
            Method::POST,
            &format!("/portfolios/{portfolio}/notes"),
            Some(&app.am.token),
            Some(json!({ "text": "from a script" })),
        )
        .await;
    assert_eq!(note.status, StatusCode::OK, "{}", note.body);
}

async fn signing_in_always_begins_a_new_session(db: TestDatabase) {
    let app = app(db, 10).await;
    // An attacker's own valid session, planted in the victim's browser, is not reused.
    let attacker = signed_in(&app, "out@example.com").await;
    let planted = attacker.cookie.clone().unwrap();
    let mut victim = signed_in(&app, "am@example.com").await;
    victim.cookie = Some(planted.clone());
    let page = victim.sign_in("am@example.com", PASSWORD).await;
    let issued = page.session().unwrap();
    assert_ne!(issued, planted, "the session id changes at sign-in");
    let mut planted_browser = Browser::new(&app);
    planted_browser.cookie = Some(planted);
    let after = planted_browser.get("/app/").await;
    assert_eq!(
        after.status,
        StatusCode::SEE_OTHER,
        "the session signed in over has ended"
    );
    // A made-up cookie value is never adopted either.
    let mut made_up = Browser::new(&app);
    made_up.cookie = Some(format!("fs_{}", "0".repeat(64)));
    let page = made_up.sign_in("am@example.com", PASSWORD).await;
    assert_ne!(page.session().unwrap(), format!("fs_{}", "0".repeat(64)));
}

async fn sign_in_is_held_back_per_account_and_per_address(db: TestDatabase) {
    // Three failures per account; thirty per address (an office shares one).
    let app = app(db, 3).await;
    signed_in(&app, "am@example.com").await;
    let mut guesser = Browser::new(&app);
    guesser.address = "198.51.100.7".to_owned();
    for guess in ["guess one!", "guess two!", "guess three"] {
        let page = guesser.sign_in("am@example.com", guess).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert!(page.body.contains("do not match"), "{}", page.body);
        assert!(
            page.body.contains("am@example.com"),
            "the address typed is kept"
        );
    }
    // The account is held back: even the right password is refused, from any address,
    // and no session is made.
    for address in ["198.51.100.7", "203.0.113.9"] {
        let mut browser = Browser::new(&app);
        browser.address = address.to_owned();
        let held = browser.sign_in("am@example.com", PASSWORD).await;
        assert_eq!(
            held.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{address}: {}",
            held.body
        );
        assert!(held.body.contains("Too many failed attempts"));
        assert!(held.session().is_none());
    }
    // Another account signs in from the guesser's address: three failures do not hold back
    // an address.
    let password = Password::parse(PASSWORD).unwrap();
    credentials::set_password(
        &app.db.database,
        "sas@example.com",
        &password,
        app.clock_now(),
    )
    .await
    .unwrap();
    let sas = guesser.sign_in("sas@example.com", PASSWORD).await;
    assert_eq!(sas.status, StatusCode::SEE_OTHER, "{}", sas.body);

    // An address that fails thirty times, over many accounts, is held back for every one.
    let mut sprayer = Browser::new(&app);
    sprayer.address = "192.0.2.99".to_owned();
    for n in 0..30 {
        let page = sprayer
            .sign_in(&format!("nobody{n}@example.com"), "a wrong guess")
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "attempt {n}");
    }
    let held = sprayer.sign_in("sas@example.com", PASSWORD).await;
    assert_eq!(held.status, StatusCode::TOO_MANY_REQUESTS, "{}", held.body);
    let elsewhere = Browser::new(&app)
        .sign_in("sas@example.com", PASSWORD)
        .await;
    assert_eq!(
        elsewhere.status,
        StatusCode::SEE_OTHER,
        "only that address is held back"
    );
}

async fn a_deactivated_person_is_signed_out_at_once(db: TestDatabase) {
    let app = app(db, 10).await;
    let mut am = signed_in(&app, "am@example.com").await;
    assert_eq!(am.get("/app/").await.status, StatusCode::OK);
    let done = app
        .call(
            Method::POST,
            &format!("/admin/users/{}/deactivate", app.am.id),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(am.get("/app/").await.status, StatusCode::SEE_OTHER);
    let (status, _) = am.api(Method::GET, "/me", json!(null), "same-origin").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let again = Browser::new(&app).sign_in("am@example.com", PASSWORD).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
}

async fn an_idle_session_ends_and_the_page_asks_to_sign_in_again(db: TestDatabase) {
    let app = app(db, 10).await;
    let mut am = signed_in(&app, "am@example.com").await;
    let idle = freshet_accounts::SessionPolicy::default().idle;
    advance(&app, idle - TimeDelta::minutes(5));
    assert_eq!(
        am.get("/app/settings").await.status,
        StatusCode::OK,
        "used in time"
    );
    advance(&app, idle + TimeDelta::minutes(1));
    let page = am.get("/app/settings").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.location.as_deref(),
        Some("/app/sign-in?next=/app/settings")
    );
    // Signing in again comes back to the page.
    let mut again = Browser::new(&app);
    let page = again
        .post(
            "/app/sign-in",
            &[
                ("email", "am@example.com"),
                ("password", PASSWORD),
                ("next", "/app/settings"),
            ],
        )
        .await;
    assert_eq!(page.location.as_deref(), Some("/app/settings"));
}

async fn a_forgotten_password_is_reset_through_an_emailed_link(db: TestDatabase) {
    let app = app(db, 10).await;
    let mut old = signed_in(&app, "am@example.com").await;
    let mut browser = Browser::new(&app);
    let known = browser
        .post("/app/password-reset", &[("email", "am@example.com")])
        .await;
    let unknown = browser
        .post("/app/password-reset", &[("email", "nobody@example.com")])
        .await;
    assert_eq!(known.status, unknown.status);
    let answer = |page: &support::Page, email: &str| page.body.replace(email, "EMAIL");
    assert_eq!(
        answer(&known, "am@example.com"),
        answer(&unknown, "nobody@example.com"),
        "the answer does not tell who has an account"
    );
    assert_eq!(
        emails_settled(&app, "password_reset", 1).await,
        1,
        "only the real address got one"
    );
    let link = emailed_link(&app, "password_reset", "am@example.com").await;
    let page = browser.get(&link).await;
    assert!(page.body.contains("Choose a new password"), "{}", page.body);
    let chosen = browser
        .post(
            &link,
            &[
                ("password", "a brand new passphrase"),
                ("confirmation", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(chosen.status, StatusCode::SEE_OTHER, "{}", chosen.body);
    assert_eq!(browser.get("/app/").await.status, StatusCode::OK);
    assert_eq!(
        old.get("/app/").await.status,
        StatusCode::SEE_OTHER,
        "other sessions ended"
    );
    let with_old = Browser::new(&app).sign_in("am@example.com", PASSWORD).await;
    assert_eq!(with_old.status, StatusCode::UNAUTHORIZED);
    // Asking again and again sends at most three emails an hour.
    for _ in 0..5 {
        browser
            .post("/app/password-reset", &[("email", "am@example.com")])
            .await;
    }
    assert_eq!(emails_settled(&app, "password_reset", 3).await, 3);
}

/// The password-change form of the settings page, with `current` as the current password.
fn change(current: &'static str) -> [(&'static str, &'static str); 3] {
    [
        ("current", current),
        ("password", NEW_PASSWORD),
        ("confirmation", NEW_PASSWORD),
    ]
}

const NEW_PASSWORD: &str = "tundra pebble violin";

async fn guessing_the_current_password_in_settings_is_held_back(db: TestDatabase) {
    let app = app(db, 2).await;
    let mut here = signed_in(&app, "am@example.com").await;
    let wrong = here
        .post("/app/settings/password", &change("not my password"))
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong.body.contains("current password is not right"),
        "{}",
        wrong.body
    );
    // Wrong current passwords count like failed sign-ins: a session left open cannot guess.
    here.post("/app/settings/password", &change("still not it"))
        .await;
    let held = here.post("/app/settings/password", &change(PASSWORD)).await;
    assert!(
        held.body.contains("Too many wrong passwords"),
        "{}",
        held.body
    );
    let old = Browser::new(&app).sign_in("am@example.com", PASSWORD).await;
    assert_eq!(
        old.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the account is held back"
    );
    let password = Password::parse(PASSWORD).unwrap();
    let am = freshet_domain::UserId::from_uuid(app.am.id.parse().unwrap());
    let unchanged = credentials::change_password(
        &app.db.database,
        am,
        PASSWORD,
        &password,
        None,
        app.clock_now(),
    )
    .await;
    assert!(
        unchanged.is_ok(),
        "the password is still the old one: {unchanged:?}"
    );
}

async fn a_person_changes_their_password_and_their_digest_in_settings(db: TestDatabase) {
    let app = app(db, 10).await;
    let mut here = signed_in(&app, "am@example.com").await;
    let mut elsewhere = Browser::new(&app);
    elsewhere.sign_in("am@example.com", PASSWORD).await;
    let changed = here.post("/app/settings/password", &change(PASSWORD)).await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    let page = here.get("/app/settings?saved=password").await;
    assert!(
        page.body.contains("signed out everywhere else"),
        "{}",
        page.body
    );
    assert_eq!(elsewhere.get("/app/").await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        Browser::new(&app)
            .sign_in("am@example.com", NEW_PASSWORD)
            .await
            .status,
        StatusCode::SEE_OTHER
    );

    // The daily digest is on by default; unticking the box turns it off.
    assert!(here.get("/app/settings").await.body.contains("checked"));
    let saved = here.post("/app/settings/digest", &[]).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let page = here.get("/app/settings").await;
    assert!(!page.body.contains("checked"), "{}", page.body);
    let am = freshet_domain::UserId::from_uuid(app.am.id.parse().unwrap());
    let on = freshet_accounts::digest::daily_digest(&app.db.database, am)
        .await
        .unwrap();
    assert_eq!(on, Some(false));
}
