//! What a hostile or careless client sends cannot reach another team's data, grow the
//! server's state, or cost a database query; and the API document is exact (issue 14).
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use freshet_api::ApiOptions;
use freshet_store::Database;
use freshet_store::testing::TestDatabase;
use freshet_testkit::{App, date, rename_table};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

freshet_store::on_both_backends!(
    a_ticket_id_reused_by_another_portfolio_leaves_the_first_board_alone,
    creating_a_portfolio_with_a_taken_id_is_refused_and_changes_nothing,
    a_projection_batch_that_cannot_apply_shows_on_admin_projections_and_metrics,
    a_portfolio_the_caller_may_not_see_answers_like_one_that_does_not_exist,
    a_bearer_value_not_shaped_like_a_token_is_refused_without_a_database_query,
    my_inbox_stream_misses_nothing_beyond_a_thousand_tasks,
    a_database_missing_the_newest_migration_is_not_ready,
    my_inbox_stream_sends_a_new_snapshot_when_the_inbox_is_rebuilt_under_it,
);

// /readyz asks the store's migrator: a database an older binary migrated is not ready.
async fn a_database_missing_the_newest_migration_is_not_ready(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    app.create_portfolio(date(2026, 3, 10)).await;
    let ready = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    freshet_store::on_pool!(&app.db.database, pool => {
        sqlx::query(
            "DELETE FROM _sqlx_migrations \
             WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
        )
        .execute(pool)
        .await
        .unwrap();
    });
    let ready = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(
        ready.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        ready.body
    );
    assert_eq!(ready.problem_code(), "not-ready");
}

/// Three failures from one address hold it back for a minute.
fn throttled(trust_forwarded_for: bool) -> ApiOptions {
    ApiOptions {
        auth_failure_limit: 3,
        auth_failure_window: Duration::from_secs(60),
        trust_forwarded_for,
        ..ApiOptions::default()
    }
}

/// A well-shaped token that no one holds, the `n`th of many.
fn wrong_token(n: u32) -> String {
    format!("fr_{n:064x}")
}

// Repeated 401s from one address are slowed down: once held back, even the right token is
// refused (so a right guess cannot be told from a wrong one), with a time to come back.
#[tokio::test]
async fn an_address_whose_tokens_keep_failing_is_held_back_and_others_are_not() {
    let app = App::start_with(
        TestDatabase::sqlite().await,
        date(2026, 3, 1),
        throttled(true),
    )
    .await;
    // A stale token sent again and again guesses nothing new: it does not count twice.
    let stale = [("x-forwarded-for", "198.51.100.9")];
    for _ in 0..10 {
        let answer = app
            .call_with(
                Method::GET,
                "/me/inbox",
                Some(&wrong_token(0)),
                None,
                &stale,
            )
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
    }
    let same_office = app
        .call_with(Method::GET, "/me/inbox", Some(&app.admin), None, &stale)
        .await;
    assert_eq!(same_office.status, StatusCode::OK, "{}", same_office.body);
    let guesser = [("x-forwarded-for", "198.51.100.7")];
    for n in 1..=3 {
        let answer = app
            .call_with(
                Method::GET,
                "/me/inbox",
                Some(&wrong_token(n)),
                None,
                &guesser,
            )
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
    }
    let held = app
        .call_with(Method::GET, "/me/inbox", Some(&app.admin), None, &guesser)
        .await;
    assert_eq!(held.status, StatusCode::TOO_MANY_REQUESTS, "{}", held.body);
    assert_eq!(held.problem_code(), "too-many-failures");
    assert_eq!(held.headers["retry-after"], "60");
    let neighbour = [("x-forwarded-for", "198.51.100.8")];
    let other = app
        .call_with(Method::GET, "/me/inbox", Some(&app.admin), None, &neighbour)
        .await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.body);
}

// Without a trusted proxy the connection's peer is the address: a forged X-Forwarded-For
// does not spread the failures over invented addresses.
#[tokio::test]
async fn a_forged_forwarded_address_does_not_escape_the_hold() {
    let app = App::start_with(
        TestDatabase::sqlite().await,
        date(2026, 3, 1),
        throttled(false),
    )
    .await;
    for n in 0..3 {
        let forged = format!("203.0.113.{n}");
        let answer = app
            .call_with(
                Method::GET,
                "/me/inbox",
                Some(&wrong_token(n)),
                None,
                &[("x-forwarded-for", &forged)],
            )
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
    }
    let held = app
        .call_with(
            Method::GET,
            "/me/inbox",
            Some(&app.admin),
            None,
            &[("x-forwarded-for", "203.0.113.99")],
        )
        .await;
    assert_eq!(held.status, StatusCode::TOO_MANY_REQUESTS, "{}", held.body);
}

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
    assert_eq!(
        (answer.status, answer.problem_code()),
        (StatusCode::SERVICE_UNAVAILABLE, "database-unavailable"),
        "{}",
        answer.body
    );
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

/// Writes `count` open inbox rows for `assignee`, due long ago (so they sort first), straight
/// into the inbox's active generation: a person with a long inbox without a long setup.
async fn old_open_tasks(db: &Database, assignee: &str, count: usize) {
    use freshet_store::codec::DbUuid;
    use sqlx::QueryBuilder;
    use uuid::Uuid;
    // Ids are UUIDs on both backends (`uuid` on PostgreSQL): bound through the store's codec.
    let assignee = DbUuid(Uuid::parse_str(assignee).unwrap());
    let portfolio = DbUuid(Uuid::from_u128(0x01d));
    let due = date(2000, 1, 1);
    let at = chrono::DateTime::UNIX_EPOCH;
    let rows: Vec<usize> = (0..count).collect();
    for chunk in rows.chunks(500) {
        macro_rules! insert {
            ($pool:expr) => {{
                let mut sql = QueryBuilder::new(
                    "INSERT INTO inbox_tasks (generation, task_id, portfolio_id, client, \
                     assignee, role, kind, title, cycle, round, due_on, sort_due, is_open, \
                     context, assigned_at) ",
                );
                sql.push_values(chunk, |mut row, n| {
                    row.push_bind(1_i64)
                        .push_bind(DbUuid(Uuid::from_u128(*n as u128)))
                        .push_bind(portfolio)
                        .push_bind("Old Client")
                        .push_bind(assignee)
                        .push_bind("am")
                        .push_bind("reach_out_to_client")
                        .push_bind("Reach out")
                        .push_bind(1_i64)
                        .push_bind(1_i64)
                        .push_bind(due)
                        .push_bind(due)
                        .push_bind(true)
                        .push_bind("{}")
                        .push_bind(at);
                });
                sql.build().execute($pool).await.unwrap();
            }};
        }
        match db {
            Database::Postgres(pool) => insert!(pool),
            Database::Sqlite(pool) => insert!(pool),
        }
    }
}

// Seen: the stream read at most 1,000 of a person's tasks, first by due date, for its
// snapshot and for every change: past that, new tasks never reached the page.
async fn my_inbox_stream_misses_nothing_beyond_a_thousand_tasks(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let first = app.create_portfolio(date(2026, 3, 10)).await;
    let kickoff = app.task_of(&app.am.token, "reach_out_to_client").await;
    old_open_tasks(&app.db.database, &app.am.id, 1_200).await;
    let mut events = app.inbox_events(&app.am.token).await;
    let snapshot = events.next("snapshot").await;
    let ids: Vec<&str> = snapshot
        .as_array()
        .unwrap()
        .iter()
        .map(|task| task["task_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 1_201, "every open task of mine");
    assert!(ids.contains(&kickoff.as_str()), "{kickoff} of {first}");
    // A new task due after all of them still arrives.
    let second = app.create_portfolio(date(2026, 3, 12)).await;
    let tasks = events.next("tasks").await;
    let arrived: Vec<&str> = tasks
        .as_array()
        .unwrap()
        .iter()
        .map(|task| task["portfolio_id"].as_str().unwrap())
        .collect();
    assert_eq!(arrived, [second.as_str()], "{tasks}");
}

// A rebuild writes rows stamped with the positions of the events they come from, long
// before an open stream's cursor: the stream must start over rather than miss them. The
// switch itself wakes the stream: no commit has to follow the rebuild (one that came while
// it was still building found the old generation and the stream waited on; CI saw it).
async fn my_inbox_stream_sends_a_new_snapshot_when_the_inbox_is_rebuilt_under_it(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    app.create_portfolio(date(2026, 3, 10)).await;
    let mut events = app.inbox_events(&app.am.token).await;
    let first = events.next("snapshot").await;
    assert_eq!(first.as_array().unwrap().len(), 1, "{first}");
    // The last commit before the rebuild: the stream has read it from the old generation.
    app.create_portfolio(date(2026, 3, 12)).await;
    let arrived = events.next("tasks").await;
    assert_eq!(arrived.as_array().unwrap().len(), 1, "{arrived}");
    // On PostgreSQL that commit's hint also comes back through LISTEN: let it pass before
    // the rebuild starts (starting changes the inbox's generations, so a late hint would
    // bring a snapshot before the switch, and this test would not need the switch's own).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = app
        .call(
            Method::POST,
            "/admin/projections/inbox/rebuild",
            Some(&app.admin),
            None,
        )
        .await;
    assert!(started.status.is_success(), "{}", started.body);
    let mut phase = Value::Null;
    for _ in 0..200 {
        let statuses = app
            .call(Method::GET, "/admin/projections", Some(&app.admin), None)
            .await
            .body;
        phase = statuses
            .as_array()
            .unwrap()
            .iter()
            .find(|status| status["name"] == "inbox")
            .map(|inbox| inbox["rebuild"]["phase"].clone())
            .unwrap();
        if phase == "done" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(phase, "done");
    let again = events.next("snapshot").await;
    let mut ids: Vec<&str> = again
        .as_array()
        .unwrap()
        .iter()
        .map(|task| task["task_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    let mut expected: Vec<&str> = [&first, &arrived]
        .iter()
        .map(|tasks| tasks[0]["task_id"].as_str().unwrap())
        .collect();
    expected.sort_unstable();
    assert_eq!(ids, expected, "{again}");
}
