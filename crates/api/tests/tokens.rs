//! Users and tokens have a whole lifecycle (issue 14): creation returns the token's id,
//! tokens are listed with their history, a user can be deactivated, and a revocation made
//! anywhere applies at once, also to an open event stream.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use freshet_accounts::tokens;
use freshet_store::Database;
use freshet_store::testing::TestDatabase;
use freshet_testkit::{App, date, rename_table};
use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

freshet_store::on_both_backends!(
    creating_a_user_returns_its_token_id_and_tokens_are_listed_with_who_and_when,
    token_labels_and_names_refuse_control_and_format_characters,
    a_deactivated_user_is_refused_at_once_and_their_open_tasks_go_to_the_admin,
    a_revocation_made_by_another_process_applies_at_once,
    an_open_inbox_stream_of_a_revoked_token_closes_within_seconds,
    a_user_whose_token_cannot_be_stored_is_not_created,
    an_email_address_with_a_display_name_is_refused_before_the_uniqueness_check,
);

async fn tokens_of(app: &App, user: &str) -> Vec<Value> {
    let answer = app
        .call(
            Method::GET,
            &format!("/admin/users/{user}/tokens"),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body.as_array().unwrap().clone()
}

async fn admin_id(app: &App) -> String {
    let me = app.call(Method::GET, "/me", Some(&app.admin), None).await;
    me.body["id"].as_str().unwrap().to_owned()
}

async fn creating_a_user_returns_its_token_id_and_tokens_are_listed_with_who_and_when(
    db: TestDatabase,
) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let admin = admin_id(&app).await;
    let created = app
        .call(
            Method::POST,
            "/admin/users",
            Some(&app.admin),
            Some(json!({"name": "Nia New", "email": "nia@example.com"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let user = created.body["user"]["id"].as_str().unwrap().to_owned();
    let first = created.body["token_id"].as_str().unwrap().to_owned();
    let secret = created.body["token"].as_str().unwrap().to_owned();
    assert_eq!(created.body["user"]["created_by"], admin.as_str());

    // Unused yet; then used once.
    let listed = tokens_of(&app, &user).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["id"], first.as_str());
    assert_eq!(listed[0]["label"], "initial");
    assert_eq!(listed[0]["created_by"], admin.as_str());
    assert!(listed[0]["created_at"].is_string());
    assert!(listed[0]["last_used_at"].is_null(), "{listed:?}");
    assert!(listed[0]["revoked_at"].is_null());
    let me = app.call(Method::GET, "/me", Some(&secret), None).await;
    assert_eq!(me.status, StatusCode::OK);
    let listed = tokens_of(&app, &user).await;
    assert!(listed[0]["last_used_at"].is_string(), "{listed:?}");

    // A second token; revoking the first records who and when.
    app.issue_token(&user, "laptop").await;
    let revoked = app
        .call(
            Method::DELETE,
            &format!("/admin/tokens/{first}"),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.body);
    let listed = tokens_of(&app, &user).await;
    let labels: Vec<&str> = listed
        .iter()
        .map(|t| t["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["initial", "laptop"]);
    assert!(listed[0]["revoked_at"].is_string(), "{listed:?}");
    assert_eq!(listed[0]["revoked_by"], admin.as_str());
    assert!(listed[1]["revoked_at"].is_null());

    // Not for anyone else, and not for an unknown user.
    let forbidden = app
        .call(
            Method::GET,
            &format!("/admin/users/{user}/tokens"),
            Some(&app.am.token),
            None,
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let unknown = app
        .call(
            Method::GET,
            &format!("/admin/users/{}/tokens", Uuid::now_v7()),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);
}

async fn token_labels_and_names_refuse_control_and_format_characters(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let long = "x".repeat(201);
    for label in [
        "",
        "  ",
        "two\nlines",
        "bell\u{7}",
        "evil\u{202e}gpj.exe",
        "zero\u{200b}width",
        long.as_str(),
    ] {
        let answer = app
            .call(
                Method::POST,
                &format!("/admin/users/{}/tokens", app.am.id),
                Some(&app.admin),
                Some(json!({ "label": label })),
            )
            .await;
        assert_eq!(
            (answer.status, answer.problem_code()),
            (StatusCode::BAD_REQUEST, "invalid-value"),
            "{label:?}: {}",
            answer.body
        );
    }
    assert_eq!(tokens_of(&app, &app.am.id).await.len(), 1);
    // A person's name is held to the same rule.
    let named = app
        .call(
            Method::POST,
            "/admin/users",
            Some(&app.admin),
            Some(json!({"name": "Ad\u{202e}min", "email": "rtl@example.com"})),
        )
        .await;
    assert_eq!(
        (named.status, named.problem_code()),
        (StatusCode::BAD_REQUEST, "invalid-value"),
        "{}",
        named.body
    );
    let answer = app
        .call(
            Method::POST,
            &format!("/admin/users/{}/tokens", app.am.id),
            Some(&app.admin),
            Some(json!({ "label": "  CI runner  " })),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    assert_eq!(answer.body["token"]["label"], "CI runner");
}

async fn a_deactivated_user_is_refused_at_once_and_their_open_tasks_go_to_the_admin(
    db: TestDatabase,
) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let admin = admin_id(&app).await;
    // Kicked off: the AM holds "Reach out to client about creative refresh".
    let p = app.create_portfolio(date(2026, 3, 10)).await;
    let reach_out = app.task_of(&app.am.token, "reach_out_to_client").await;
    let (second, _) = app.issue_token(&app.am.id, "phone").await;
    for token in [&app.am.token, &second] {
        let me = app.call(Method::GET, "/me", Some(token), None).await;
        assert_eq!(me.status, StatusCode::OK);
    }

    let answer = app
        .call(
            Method::POST,
            &format!("/admin/users/{}/deactivate", app.am.id),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["revoked_tokens"], 2, "{}", answer.body);
    let open = answer.body["open_tasks"].as_array().unwrap();
    assert!(
        open.iter()
            .any(|t| t["task_id"] == reach_out.as_str() && t["portfolio_id"] == p.as_str()),
        "{}",
        answer.body
    );
    // Refused at once, though both tokens were just cached.
    for token in [&app.am.token, &second] {
        let me = app.call(Method::GET, "/me", Some(token), None).await;
        assert_eq!(me.status, StatusCode::UNAUTHORIZED, "{}", me.body);
    }
    for token in tokens_of(&app, &app.am.id).await {
        assert_eq!(token["revoked_by"], admin.as_str(), "{token}");
    }
    // The Admin's listing says who was deactivated, by whom, and what they left open.
    let listed = app
        .call(Method::GET, "/admin/users", Some(&app.admin), None)
        .await;
    let am = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == app.am.id.as_str())
        .unwrap()
        .clone();
    assert!(am["deactivated_at"].is_string(), "{am}");
    assert_eq!(am["deactivated_by"], admin.as_str());
    assert_eq!(am["open_tasks"], 1, "{am}");
    // No new token for a deactivated user; deactivating again is harmless.
    let refused = app
        .call(
            Method::POST,
            &format!("/admin/users/{}/tokens", app.am.id),
            Some(&app.admin),
            Some(json!({"label": "again"})),
        )
        .await;
    assert_eq!(
        (refused.status, refused.problem_code()),
        (StatusCode::CONFLICT, "conflict"),
        "{}",
        refused.body
    );
    let again = app
        .call(
            Method::POST,
            &format!("/admin/users/{}/deactivate", app.am.id),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["revoked_tokens"], 0);
    // Only an Admin deactivates.
    let forbidden = app
        .call(
            Method::POST,
            &format!("/admin/users/{}/deactivate", app.sas.id),
            Some(&app.designer.token),
            None,
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
}

// `freshet users revoke` runs in a process of its own: this server's token cache hears of
// it at once (PostgreSQL: NOTIFY; SQLite, one machine: no cache to go stale).
async fn a_revocation_made_by_another_process_applies_at_once(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let issued = app
        .call(
            Method::POST,
            &format!("/admin/users/{}/tokens", app.sas.id),
            Some(&app.admin),
            Some(json!({"label": "script"})),
        )
        .await;
    let secret = issued.body["secret"].as_str().unwrap().to_owned();
    let id: Uuid = issued.body["token"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    for _ in 0..3 {
        let me = app.call(Method::GET, "/me", Some(&secret), None).await;
        assert_eq!(me.status, StatusCode::OK);
    }
    // What the command line does, on its own connection.
    let other = Database::connect(app.db.url()).await.unwrap();
    tokens::revoke(&other, id, None).await.unwrap();
    // "At once": allow the notification a moment to cross, far below the cache's TTL.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let me = app.call(Method::GET, "/me", Some(&secret), None).await;
        if me.status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(Instant::now() < deadline, "the revoked token still works");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The command line's revocation says who did it: the operator, no user.
    let listed = tokens_of(&app, &app.sas.id).await;
    let revoked = listed.iter().find(|t| t["id"] == id.to_string()).unwrap();
    assert!(revoked["revoked_at"].is_string() && revoked["revoked_by"].is_null());
}

async fn an_open_inbox_stream_of_a_revoked_token_closes_within_seconds(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let (secret, id) = app.issue_token(&app.designer.id, "dashboard").await;
    let response = app
        .http
        .get(format!("{}/me/inbox/events", app.base))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.bytes_stream();
    let first = tokio::time::timeout(Duration::from_secs(5), body.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&first).contains("snapshot"),
        "{first:?}"
    );
    let revoked = app
        .call(
            Method::DELETE,
            &format!("/admin/tokens/{id}"),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    // The stream ends (it may say why in a last event first).
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(chunk) = body.next().await {
            if chunk.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream of a revoked token stayed open");
}

async fn a_user_whose_token_cannot_be_stored_is_not_created(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    rename_table(&app.db.database, "api_tokens", "api_tokens_away").await;
    let answer = app
        .call(
            Method::POST,
            "/admin/users",
            Some(&app.admin),
            Some(json!({"name": "Half Made", "email": "half@example.com"})),
        )
        .await;
    assert!(answer.status.is_server_error(), "{}", answer.body);
    rename_table(&app.db.database, "api_tokens_away", "api_tokens").await;
    let listed = app
        .call(Method::GET, "/admin/users", Some(&app.admin), None)
        .await;
    assert!(
        !listed.body.to_string().contains("half@example.com"),
        "a user without a token was left behind: {}",
        listed.body
    );
    // And the address is free for the retry.
    let retry = app
        .call(
            Method::POST,
            "/admin/users",
            Some(&app.admin),
            Some(json!({"name": "Half Made", "email": "half@example.com"})),
        )
        .await;
    assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.body);
}

// `Bob<am@example.com>` names the AM's mailbox: stored as it came, it slipped past the
// uniqueness of addresses and gave a second person the AM's email.
async fn an_email_address_with_a_display_name_is_refused_before_the_uniqueness_check(
    db: TestDatabase,
) {
    let app = App::start(db, date(2026, 3, 1)).await;
    for email in [
        "Bob<am@example.com>",
        "Bob <new@example.com>",
        "<new@example.com>",
    ] {
        let answer = app
            .call(
                Method::POST,
                "/admin/users",
                Some(&app.admin),
                Some(json!({"name": "Bob", "email": email})),
            )
            .await;
        assert_eq!(
            (answer.status, answer.problem_code()),
            (StatusCode::BAD_REQUEST, "invalid-value"),
            "{email}: {}",
            answer.body
        );
    }
    let taken = app
        .call(
            Method::POST,
            "/admin/users",
            Some(&app.admin),
            Some(json!({"name": "Bob", "email": " AM@example.com "})),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.body);
    let bare = app
        .call(
            Method::POST,
            "/admin/users",
            Some(&app.admin),
            Some(json!({"name": "Bob", "email": " bob@example.com "})),
        )
        .await;
    assert_eq!(bare.status, StatusCode::CREATED, "{}", bare.body);
    assert_eq!(bare.body["user"]["email"], "bob@example.com");
}
