//! What a hostile or careless client sends cannot reach another team's data, grow the
//! server's state, or cost a database query; and the API document is exact (issue 14).
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use freshet_store::Database;
use freshet_store::testing::TestDatabase;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{App, date, rename_table};

freshet_store::on_both_backends!(
    a_ticket_id_reused_by_another_portfolio_leaves_the_first_board_alone,
    creating_a_portfolio_with_a_taken_id_is_refused_and_changes_nothing,
    a_projection_batch_that_cannot_apply_shows_on_admin_projections_and_metrics,
    a_portfolio_the_caller_may_not_see_answers_like_one_that_does_not_exist,
    a_bearer_value_not_shaped_like_a_token_is_refused_without_a_database_query,
);

/// A portfolio whose refresh was requested, ready for tickets.
async fn requested(app: &App) -> String {
    let p = app.create_portfolio(date(2026, 3, 10)).await;
    app.ok(
        &app.am.token,
        &format!("/portfolios/{p}/request"),
        Some(json!({"note": "Brief"})),
    )
    .await;
    p
}

/// `GET /portfolios/{p}` as the Admin, once the read side has caught up.
async fn portfolio_view(app: &App, p: &str) -> Value {
    let answer = app
        .call(
            Method::GET,
            &format!("/portfolios/{p}?consistency=strong"),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body
}

async fn board_titles(app: &App, p: &str) -> Vec<String> {
    portfolio_view(app, p).await["board"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_owned())
        .collect()
}

// Seen over HTTP: the SAS of one portfolio reusing another portfolio's ticket id made the
// other board show the new title and its own board empty.
async fn a_ticket_id_reused_by_another_portfolio_leaves_the_first_board_alone(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let (north, south) = (requested(&app).await, requested(&app).await);
    let shared = "00000000-0000-0000-0000-0000000000a1";
    for (p, title) in [(&north, "Feed North"), (&south, "Story South")] {
        let body = json!({"ticket_id": shared, "title": title, "folder": title, "deliverables": 1});
        app.ok(
            &app.sas.token,
            &format!("/portfolios/{p}/tickets"),
            Some(body),
        )
        .await;
    }
    assert_eq!(board_titles(&app, &north).await, vec!["Feed North"]);
    assert_eq!(board_titles(&app, &south).await, vec!["Story South"]);
    let ready = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
}

// Portfolio ids are global and a client may choose one: a taken id is refused.
async fn creating_a_portfolio_with_a_taken_id_is_refused_and_changes_nothing(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let p = app.create_portfolio(date(2026, 3, 10)).await;
    let before = app.version(&p).await;
    let answer = app
        .call(
            Method::POST,
            "/portfolios",
            Some(&app.admin),
            Some(json!({
                "portfolio_id": p,
                "client": "Someone Else",
                "team": app.team(),
                "cadence": { "every": 2, "unit": "weeks" },
                "refresh_date": date(2026, 4, 1),
            })),
        )
        .await;
    assert_eq!(
        (answer.status, answer.problem_code()),
        (StatusCode::CONFLICT, "portfolio-already-exists"),
        "{}",
        answer.body
    );
    assert_eq!(app.version(&p).await, before);
    let portfolio = portfolio_view(&app, &p).await;
    assert_eq!(portfolio["summary"]["client"], "Acme Outdoor");
}

async fn board_status(app: &App) -> Value {
    let answer = app
        .call(Method::GET, "/admin/projections", Some(&app.admin), None)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "ad_set_board")
        .unwrap()
        .clone()
}

async fn metrics_text(app: &App) -> String {
    let response = app
        .http
        .get(format!("{}/metrics", app.metrics_base))
        .send()
        .await
        .unwrap();
    response.text().await.unwrap()
}

async fn a_projection_batch_that_cannot_apply_shows_on_admin_projections_and_metrics(
    db: TestDatabase,
) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let p = requested(&app).await;
    rename_table(&app.db.database, "ad_set_tickets", "ad_set_tickets_away").await;
    let body = json!({"title": "Feed", "folder": "Spring", "deliverables": 1});
    let created = app
        .call(
            Method::POST,
            &format!("/portfolios/{p}/tickets"),
            Some(&app.sas.token),
            Some(body),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let failing = loop {
        let status = board_status(&app).await;
        if status["failure"]["failures"].as_i64().unwrap_or(0) >= 2 {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "{status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(failing["events_behind"].as_i64().unwrap() > 0, "{failing}");
    assert!(
        failing["failure"]["last_error"]
            .as_str()
            .unwrap()
            .contains("ad_set_tickets"),
        "the error names what failed: {failing}"
    );
    assert!(failing["failure"]["since"].is_string(), "{failing}");
    let text = metrics_text(&app).await;
    let gauge = text
        .lines()
        .find(|l| l.starts_with("freshet_projection_batch_failures{projection=\"ad_set_board\"}"))
        .unwrap_or_else(|| panic!("{text}"));
    assert_ne!(gauge.rsplit(' ').next(), Some("0"), "{gauge}");

    rename_table(&app.db.database, "ad_set_tickets_away", "ad_set_tickets").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let status = board_status(&app).await;
        if status["failure"].is_null() && status["events_behind"] == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(board_titles(&app, &p).await, vec!["Feed"]);
}

// A portfolio the caller may not see answers exactly like one that does not exist, for
// reads and commands: its id is not confirmed to someone outside its team.
async fn a_portfolio_the_caller_may_not_see_answers_like_one_that_does_not_exist(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let p = requested(&app).await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let requests = |id: &str| {
        vec![
            (Method::GET, format!("/portfolios/{id}"), None),
            (Method::GET, format!("/portfolios/{id}/history"), None),
            (Method::GET, format!("/portfolios/{id}/calendar"), None),
            (
                Method::GET,
                format!("/portfolios/{id}/as-of/2026-03-01T00:00:00Z"),
                None,
            ),
            (Method::GET, format!("/inbox?portfolio={id}"), None),
            (Method::GET, format!("/metrics/cycles?portfolio={id}"), None),
            (Method::POST, format!("/portfolios/{id}/decline"), None),
            (Method::POST, format!("/portfolios/{id}/tick"), None),
            (
                Method::POST,
                format!("/portfolios/{id}/notes"),
                Some(json!({"text": "hello"})),
            ),
        ]
    };
    for ((method, hidden, body), (_, missing, _)) in
        requests(&p).into_iter().zip(requests(&unknown))
    {
        let seen = app
            .call(
                method.clone(),
                &hidden,
                Some(&app.outsider.token),
                body.clone(),
            )
            .await;
        let absent = app
            .call(method.clone(), &missing, Some(&app.outsider.token), body)
            .await;
        // 404 where the answer depends on the portfolio; an Admin-only command is refused
        // to an outsider before the portfolio is looked at (403 either way).
        assert!(
            [StatusCode::NOT_FOUND, StatusCode::FORBIDDEN].contains(&seen.status),
            "{method} {hidden}: {}",
            seen.body
        );
        assert_eq!(
            (seen.status, &seen.body),
            (absent.status, &absent.body),
            "{method} {hidden} tells the portfolio exists"
        );
    }
    // The team still sees it.
    let team = app
        .call(
            Method::GET,
            &format!("/portfolios/{p}"),
            Some(&app.designer.token),
            None,
        )
        .await;
    assert_eq!(team.status, StatusCode::OK, "{}", team.body);
}

async fn a_bearer_value_not_shaped_like_a_token_is_refused_without_a_database_query(
    db: TestDatabase,
) {
    let app = App::start(db, date(2026, 3, 1)).await;
    // Without a database every lookup fails (500/503): a 401 proves none was made.
    match &app.db.database {
        Database::Postgres(pool) => pool.close().await,
        Database::Sqlite(pool) => pool.close().await,
    }
    let long = "x".repeat(150);
    let wrong_case = format!("fr_{}", "A".repeat(64));
    let short = format!("fr_{}", "a".repeat(63));
    for token in [
        "fr_nonsense",
        "abc",
        long.as_str(),
        wrong_case.as_str(),
        short.as_str(),
    ] {
        let answer = app.call(Method::GET, "/me", Some(token), None).await;
        assert_eq!(
            (answer.status, answer.problem_code()),
            (StatusCode::UNAUTHORIZED, "unauthenticated"),
            "{token}: {}",
            answer.body
        );
    }
    // A value of the right shape is looked up (and here the lookup fails).
    let shaped = format!("fr_{}", "a".repeat(64));
    let answer = app.call(Method::GET, "/me", Some(&shaped), None).await;
    assert_ne!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
}

// Unauthenticated requests with made-up methods must not each add a histogram series.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_http_methods_share_one_metric_label() {
    let app = App::start(TestDatabase::sqlite().await, date(2026, 3, 1)).await;
    for method in ["FOO1", "FOO2", "PROPFIND"] {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let answer = app.call(method, "/portfolios", None, None).await;
        assert!(answer.status.is_client_error(), "{}", answer.status);
    }
    app.call(Method::GET, "/healthz", None, None).await;
    let text = metrics_text(&app).await;
    let series: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("freshet_http_request_duration_seconds_count"))
        .collect();
    assert!(
        series.iter().any(|l| l.contains("method=\"other\"")),
        "{series:#?}"
    );
    assert!(
        series.iter().any(|l| l.contains("method=\"GET\"")),
        "{series:#?}"
    );
    for made_up in ["FOO1", "FOO2", "PROPFIND"] {
        assert!(
            !series.iter().any(|l| l.contains(made_up)),
            "{made_up} has a series of its own: {series:#?}"
        );
    }
}

/// Every `$ref` string anywhere in `value`, with where it was found.
fn refs(value: &Value, at: &str, found: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let here = format!("{at}/{key}");
                match (key.as_str(), child) {
                    ("$ref", Value::String(target)) => found.push((here, target.clone())),
                    _ => refs(child, &here, found),
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                refs(child, &format!("{at}/{i}"), found);
            }
        }
        _ => {}
    }
}

// Client generators give up on a document with a dangling `$ref`; error responses are
// problem documents (RFC 9457), so the document must say so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_ref_of_the_openapi_document_resolves_and_errors_are_problem_documents() {
    let app = App::start(TestDatabase::sqlite().await, date(2026, 3, 1)).await;
    let document = app
        .call(Method::GET, "/openapi.json", None, None)
        .await
        .body;
    let mut found = Vec::new();
    refs(&document, "", &mut found);
    assert!(found.len() > 20, "{} refs", found.len());
    let dangling: Vec<_> = found
        .iter()
        .filter(|(_, target)| {
            target
                .strip_prefix('#')
                .and_then(|pointer| document.pointer(pointer))
                .is_none()
        })
        .collect();
    assert!(dangling.is_empty(), "dangling $refs: {dangling:#?}");

    let mut errors = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Some(responses) = operation["responses"].as_object() else {
                continue;
            };
            for (status, response) in responses {
                if !(status.starts_with('4') || status.starts_with('5')) {
                    continue;
                }
                errors += 1;
                let content = response["content"].as_object();
                let types: Vec<_> = content.map(|c| c.keys().collect()).unwrap_or_default();
                assert_eq!(
                    types,
                    vec!["application/problem+json"],
                    "{method} {path} {status}"
                );
                assert_eq!(
                    response["content"]["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{method} {path} {status}"
                );
            }
        }
    }
    assert!(errors >= 40, "{errors} error responses documented");
}
