//! Lists are filtered and paged in SQL, with keyset cursors: `/alerts` (no longer the first
//! 1,000 open tasks filtered in memory) and `/portfolios` for a team member.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use freshet_store::testing::TestDatabase;
use freshet_testkit::{App, date};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// Every row of a listing, page after page through its `next` cursor.
async fn all_pages(app: &App, token: &str, path: &str, rows: &str) -> Vec<Vec<Value>> {
    let mut pages = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let cursor = after
            .as_ref()
            .map_or(String::new(), |a| format!("&after={a}"));
        let answer = app
            .call(Method::GET, &format!("{path}{cursor}"), Some(token), None)
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
        pages.push(answer.body[rows].as_array().unwrap().clone());
        // A uuid cursor, or a stream version.
        match &answer.body["next"] {
            Value::String(next) => after = Some(next.clone()),
            Value::Number(next) => after = Some(next.to_string()),
            _ => break,
        }
        assert!(pages.len() < 20, "the cursor never ends");
    }
    pages
}

// B1: stall alerts are selected in SQL and paged by cursor, whatever else is open.
async fn alerts_are_filtered_and_paged_in_sql(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 10)).await;
    let mut portfolios = Vec::new();
    for _ in 0..3 {
        portfolios.push(app.create_portfolio(date(2026, 3, 10)).await);
    }
    app.clock.set_date(date(2026, 3, 11));
    for p in &portfolios {
        app.ok(&app.admin, &format!("/portfolios/{p}/tick"), None)
            .await;
    }
    // Each portfolio: the AM's kickoff, the SAS's handoff, and the decision alert to the AM
    // and the Team Lead.
    let pages = all_pages(
        &app,
        &app.admin,
        "/alerts?limit=4&consistency=strong",
        "tasks",
    )
    .await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [4, 2]);
    let alerts: Vec<&Value> = pages.iter().flatten().collect();
    assert!(
        alerts
            .iter()
            .all(|t| t["kind"] == "stall_alert:am_decision"),
        "{alerts:?}"
    );
    let ids: BTreeSet<&str> = alerts
        .iter()
        .map(|t| t["task_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 6, "each alert once");
    let mine = all_pages(&app, &app.am.token, "/alerts?limit=2", "tasks").await;
    assert_eq!(mine.iter().flatten().count(), 3, "the AM's own alerts only");
}

// B4: a team member's portfolios are selected in SQL and paged by cursor.
async fn a_members_portfolios_are_filtered_and_paged_in_sql(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let mut theirs = BTreeSet::new();
    for _ in 0..5 {
        theirs.insert(app.create_portfolio(date(2026, 5, 1)).await);
    }
    let mut others = app.team();
    others["copywriter"] = Value::String(app.outsider.id.to_string());
    others["account_manager"] = Value::String(app.outsider.id.to_string());
    let other = app
        .ok(
            &app.admin,
            "/portfolios",
            Some(serde_json::json!({
                "client": "Another team's client",
                "team": others,
                "cadence": { "every": 1, "unit": "months" },
                "refresh_date": date(2026, 5, 1),
            })),
        )
        .await;
    let other = other["portfolio_id"].as_str().unwrap().to_owned();
    let path = "/portfolios?limit=2&consistency=strong";
    let pages = all_pages(&app, &app.am.token, path, "portfolios").await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
    let seen: BTreeSet<String> = pages
        .iter()
        .flatten()
        .map(|p| p["portfolio_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen, theirs);
    let outsider = all_pages(&app, &app.outsider.token, path, "portfolios").await;
    let outsiders: Vec<&str> = outsider
        .iter()
        .flatten()
        .map(|p| p["portfolio_id"].as_str().unwrap())
        .collect();
    assert_eq!(outsiders, [other.as_str()]);
    let everything = all_pages(&app, &app.admin, path, "portfolios").await;
    assert_eq!(everything.iter().flatten().count(), 6);
}

// B2: a long history is read a page at a time; the pages together are the whole history.
async fn the_history_is_paged_by_stream_version(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let p = app.create_portfolio(date(2026, 3, 10)).await;
    for n in 0..5 {
        app.ok(
            &app.am.token,
            &format!("/portfolios/{p}/notes"),
            Some(serde_json::json!({ "text": format!("Call {n} with the client") })),
        )
        .await;
    }
    let versions = |entries: &[Value]| -> Vec<i64> {
        entries
            .iter()
            .map(|e| e["version"].as_i64().unwrap())
            .collect()
    };
    let path = format!("/portfolios/{p}/history?limit=500");
    let whole = app
        .call(Method::GET, &path, Some(&app.am.token), None)
        .await;
    let whole = versions(whole.body["entries"].as_array().unwrap());
    assert!(whole.len() > 5, "{whole:?}");
    let pages = all_pages(
        &app,
        &app.am.token,
        &format!("/portfolios/{p}/history?limit=3"),
        "entries",
    )
    .await;
    assert!(pages.iter().all(|page| page.len() <= 3));
    assert_eq!(versions(&pages.concat()), whole);
    let over = app
        .call(
            Method::GET,
            &format!("/portfolios/{p}/history?limit=100000"),
            Some(&app.am.token),
            None,
        )
        .await;
    assert_eq!(over.status, StatusCode::BAD_REQUEST, "{}", over.body);
}

freshet_store::on_both_backends!(
    alerts_are_filtered_and_paged_in_sql,
    a_members_portfolios_are_filtered_and_paged_in_sql,
    the_history_is_paged_by_stream_version
);
