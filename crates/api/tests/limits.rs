//! Limits on time and connections (issue 14): event streams per user and in all, the
//! request timeout and the concurrency limit, and 503 problems with `Retry-After` while the
//! database cannot be reached; and 429 with `Retry-After` for "Invite again" too soon.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use freshet_service::Clock;
use freshet_store::testing::TestDatabase;
use freshet_testkit::{Answer, App, date};
use futures::StreamExt;
use reqwest::{Method, StatusCode};

freshet_store::on_both_backends!(
    a_person_opening_more_event_streams_than_allowed_gets_429,
    while_the_database_is_unreachable_requests_answer_503_with_retry_after,
    the_process_serves_a_bounded_number_of_event_streams_in_all,
    a_request_not_answered_within_the_request_timeout_gets_503,
    requests_beyond_the_concurrency_limit_get_503_at_once,
    inviting_again_moments_after_an_invitation_gets_429_with_the_seconds_left,
);

/// Sends the headers of a `POST /portfolios` announcing a body that never comes: a request
/// the server works on (reading its body) until it gives up. The connection, to keep it.
async fn stalled_request(app: &App) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let address = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /portfolios HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{",
        app.admin
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// The status line and headers the server sent on `stream`, read until it closes or 10 s.
async fn answer_on(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buffer = [0_u8; 1024];
        while let Ok(n) = stream.read(&mut buffer).await {
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buffer[..n]);
            if answer.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
    })
    .await;
    String::from_utf8_lossy(&answer).into_owned()
}

async fn the_process_serves_a_bounded_number_of_event_streams_in_all(db: TestDatabase) {
    let options = freshet_api::ApiOptions {
        max_streams: 2,
        ..freshet_api::ApiOptions::default()
    };
    let app = App::start_with(db, date(2026, 3, 1), options).await;
    let _am = open_stream(&app, &app.am.token).await.ok().unwrap();
    let _sas = open_stream(&app, &app.sas.token).await.ok().unwrap();
    let Err(refused) = open_stream(&app, &app.designer.token).await else {
        panic!("a third stream was opened");
    };
    assert_problem_with_retry_after(&refused, StatusCode::SERVICE_UNAVAILABLE, "stream-capacity");
}

async fn a_request_not_answered_within_the_request_timeout_gets_503(db: TestDatabase) {
    let options = freshet_api::ApiOptions {
        request_timeout: Duration::from_millis(500),
        ..freshet_api::ApiOptions::default()
    };
    let app = App::start_with(db, date(2026, 3, 1), options).await;
    let started = std::time::Instant::now();
    let mut stalled = stalled_request(&app).await;
    let answer = answer_on(&mut stalled).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 1"),
        "{answer}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // An event stream outlives the timeout: it counts until its first byte only.
    let response = open_stream(&app, &app.am.token).await.ok().unwrap();
    let mut body = response.bytes_stream();
    let _snapshot = body.next().await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let next = tokio::time::timeout(Duration::from_millis(200), body.next()).await;
    assert!(
        !matches!(next, Ok(None)),
        "the stream was cut by the request timeout"
    );
}

async fn requests_beyond_the_concurrency_limit_get_503_at_once(db: TestDatabase) {
    let options = freshet_api::ApiOptions {
        max_concurrent_requests: 1,
        ..freshet_api::ApiOptions::default()
    };
    let app = App::start_with(db, date(2026, 3, 1), options).await;
    let mut stalled = stalled_request(&app).await;
    // Let the server take up the stalled request first (else it is the one refused).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let refused = app
        .call(Method::GET, "/me", Some(&app.am.token), None)
        .await;
    if refused.status != StatusCode::SERVICE_UNAVAILABLE {
        panic!(
            "not refused ({}); the stalled request got: {}",
            refused.status,
            answer_on(&mut stalled).await
        );
    }
    assert_problem_with_retry_after(&refused, StatusCode::SERVICE_UNAVAILABLE, "overloaded");
    // Liveness is never refused.
    let health = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    // Once the stalled request is gone, requests are served again.
    drop(stalled);
    let served = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let answer = app
                .call(Method::GET, "/me", Some(&app.am.token), None)
                .await;
            if answer.status == StatusCode::OK {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(served.is_ok(), "the limit's place was not given back");
}

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

// "Invite again" right after an invitation is refused (its link is on its way), and the
// answer tells an API client when it may ask again: not a `conflict`, which would read as
// "never" like a person who has already chosen a password.
async fn inviting_again_moments_after_an_invitation_gets_429_with_the_seconds_left(
    db: TestDatabase,
) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let invited = app
        .call(
            Method::POST,
            "/admin/invitations",
            Some(&app.admin),
            Some(serde_json::json!({"name": "New Person", "email": "new@example.com"})),
        )
        .await;
    assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.body);
    let again = format!(
        "/admin/users/{}/invitation",
        invited.body["user"]["id"].as_str().unwrap()
    );
    app.clock
        .set(app.clock.now() + chrono::TimeDelta::seconds(20));
    let refused = app.call(Method::POST, &again, Some(&app.admin), None).await;
    assert_problem_with_retry_after(
        &refused,
        StatusCode::TOO_MANY_REQUESTS,
        "invited-moments-ago",
    );
    let seconds: i64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        seconds, 40,
        "a minute after the invitation, 20 s of it gone"
    );
    app.clock
        .set(app.clock.now() + chrono::TimeDelta::seconds(seconds));
    let sent = app.call(Method::POST, &again, Some(&app.admin), None).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.body);
}
