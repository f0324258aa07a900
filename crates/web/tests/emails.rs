//! The invitation and reset emails, sent for real through SMTP (a sink on loopback), carry
//! links that work: the link starts with the public URL, and its page on this server lets
//! the person choose a password and arrive signed in. Both backends.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use freshet_accounts::UserDirectory;
use freshet_api::ApiOptions;
use freshet_mail::{
    DeliveryWorker, Mailbox, Outbox, PublicUrl, RetryPolicy, SmtpConfig, SmtpTransport,
};
use freshet_store::testing::TestDatabase;
use freshet_testkit::smtp::SmtpSink;
use freshet_testkit::{App, date};
use reqwest::{Method, StatusCode};
use serde_json::json;
use support::Browser;

freshet_store::on_both_backends!(the_invitation_and_reset_emails_carry_links_that_work,);

const PUBLIC: &str = "https://freshet.agency.test";

fn worker(app: &App, sink: &SmtpSink) -> DeliveryWorker {
    let config = SmtpConfig {
        timeout: Duration::from_secs(10),
        ..SmtpConfig::plain("127.0.0.1", sink.port)
    };
    let from: Mailbox = "Freshet <freshet@agency.test>".parse().unwrap();
    DeliveryWorker::new(
        Outbox::new(app.db.database.clone()),
        Arc::new(SmtpTransport::new(&config).unwrap()),
        Arc::new(UserDirectory::new(app.db.database.clone())),
        app.clock.clone(),
        from,
        RetryPolicy::default(),
    )
}

/// The path of the one link to `page` (`invitation`, `password-reset`) in `text`, after
/// checking the link is absolute under the public URL.
fn link_to(text: &str, page: &str) -> String {
    let prefix = format!("{PUBLIC}/app/{page}/fl_");
    let start = text
        .find(&prefix)
        .unwrap_or_else(|| panic!("no {prefix}… link in {text}"));
    let link = &text[start..start + prefix.len() + 64];
    link.strip_prefix(PUBLIC).unwrap().to_owned()
}

async fn the_invitation_and_reset_emails_carry_links_that_work(db: TestDatabase) {
    let sink = SmtpSink::start();
    let options = ApiOptions {
        public_url: PUBLIC.parse::<PublicUrl>().unwrap(),
        ..ApiOptions::default()
    };
    let app = App::start_with_pages(db, date(2027, 3, 1), options, freshet_web::pages()).await;
    let invited = app
        .call(
            Method::POST,
            "/admin/invitations",
            Some(&app.admin),
            Some(json!({ "name": "Robin Reyes", "email": "robin@agency.test" })),
        )
        .await;
    assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.body);
    let report = worker(&app, &sink).deliver_due().await.unwrap();
    assert_eq!(report.failed, 0, "{report:?}");

    let received = sink.received_by("robin@agency.test");
    assert_eq!(received.len(), 1, "one invitation");
    let invitation = received[0].text();
    assert!(invitation.contains("Robin Reyes"), "{invitation}");
    let path = link_to(&invitation, "invitation");
    let mut browser = Browser::new(&app);
    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let chosen = browser
        .post(
            &path,
            &[
                ("password", "sparrow meadow copper"),
                ("confirmation", "sparrow meadow copper"),
            ],
        )
        .await;
    assert_eq!(chosen.status, StatusCode::SEE_OTHER, "{}", chosen.body);
    assert_eq!(
        browser.get("/app/").await.status,
        StatusCode::OK,
        "signed in"
    );

    let mut stranger = Browser::new(&app);
    stranger
        .post("/app/password-reset", &[("email", "robin@agency.test")])
        .await;
    // The reset is written just after the answer.
    support::emails_settled(&app, "password_reset", 1).await;
    let report = worker(&app, &sink).deliver_due().await.unwrap();
    assert_eq!(report.failed, 0, "{report:?}");
    let received = sink.received_by("robin@agency.test");
    assert_eq!(received.len(), 2, "the invitation, then the reset");
    let reset = received[1].text();
    let path = link_to(&reset, "password-reset");
    let page = stranger.get(&path).await;
    assert!(page.body.contains("Choose a new password"), "{}", page.body);
    let chosen = stranger
        .post(
            &path,
            &[
                ("password", "heron lantern basalt"),
                ("confirmation", "heron lantern basalt"),
            ],
        )
        .await;
    assert_eq!(chosen.status, StatusCode::SEE_OTHER, "{}", chosen.body);
    assert_eq!(stranger.get("/app/").await.status, StatusCode::OK);
    assert_eq!(
        browser.get("/app/").await.status,
        StatusCode::SEE_OTHER,
        "the reset ended the other session"
    );
}
