//! The database goes away under load and comes back (issue 14): every request is answered,
//! none with a 500; what could not be done is a 503 with `Retry-After`; nothing that was
//! acknowledged is lost, and a retry with the same idempotency key does nothing twice.
//! PostgreSQL only: the server reaches it through a proxy that the test cuts, as a restart
//! or a network fault would (restarting the shared server would upset the tests running
//! beside this one).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use freshet_store::testing::TestDatabase;
use freshet_store::{Database, StreamId};
use freshet_testkit::proxy::Proxy;
use freshet_testkit::{App, date};
use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::postgres::PgConnectOptions;
use tokio::sync::Mutex;

/// Clients sending Notes at once, each on a portfolio of its own.
const CLIENTS: usize = 4;
/// Between two Notes of one client: a steady load, not a flood of thousands of Notes.
const PACE: Duration = Duration::from_millis(20);
/// Longer than the pool's wait for a connection, so requests made during it give up.
const OUTAGE: Duration = Duration::from_secs(7);

/// One Note sent: its idempotency key, its text, and the answers it got.
struct Attempt {
    key: String,
    portfolio: String,
    note: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_outage_under_load_answers_503_and_loses_nothing_acknowledged() {
    let Some(mut db) = TestDatabase::postgres().await else {
        return;
    };
    let direct = db.database.clone();
    let options = PgConnectOptions::from_str(db.url()).unwrap();
    let target = tokio::net::lookup_host((options.get_host(), options.get_port()))
        .await
        .unwrap()
        .next()
        .unwrap();
    let proxy = Proxy::start(target).await;
    db.database = Database::connect_postgres(
        options
            .host(&proxy.address.ip().to_string())
            .port(proxy.address.port()),
    )
    .await
    .unwrap();
    let app = Arc::new(App::start(db, date(2026, 3, 1)).await);
    let mut portfolios = Vec::new();
    for _ in 0..CLIENTS {
        portfolios.push(app.create_portfolio(date(2026, 3, 10)).await);
    }

    let attempts = Arc::new(Mutex::new(Vec::<Attempt>::new()));
    let unanswered = Arc::new(Mutex::new(Vec::<String>::new()));
    let started = Instant::now();
    let load_until = OUTAGE + Duration::from_secs(5);
    let mut clients = Vec::new();
    for (client, portfolio) in portfolios.iter().cloned().enumerate() {
        let (app, attempts, unanswered) = (app.clone(), attempts.clone(), unanswered.clone());
        clients.push(tokio::spawn(async move {
            let mut unavailable = 0;
            for n in 0.. {
                if started.elapsed() > load_until {
                    break;
                }
                let attempt = Attempt {
                    key: uuid::Uuid::new_v4().to_string(),
                    portfolio: portfolio.clone(),
                    note: format!("client {client}, note {n}"),
                };
                let sent = Instant::now();
                let answer = note(&app, &attempt).await;
                match answer.status {
                    status if status.is_success() => {}
                    StatusCode::SERVICE_UNAVAILABLE => {
                        assert_eq!(
                            answer.problem_code(),
                            "database-unavailable",
                            "{}",
                            answer.body
                        );
                        assert!(
                            answer.headers.contains_key("retry-after"),
                            "{:?}",
                            answer.headers
                        );
                        // Promptly: at most the pool's wait for a connection.
                        assert!(
                            sent.elapsed() < Duration::from_secs(15),
                            "{:?}",
                            sent.elapsed()
                        );
                        unanswered.lock().await.push(attempt.key.clone());
                        unavailable += 1;
                    }
                    other => panic!("{other} for {}: {}", attempt.note, answer.body),
                }
                attempts.lock().await.push(attempt);
                tokio::time::sleep(PACE).await;
            }
            unavailable
        }));
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    proxy.cut();
    tokio::time::sleep(OUTAGE).await;
    proxy.restore();
    let mut unavailable = 0;
    for client in clients {
        unavailable += client.await.unwrap();
    }
    eprintln!(
        "[{:?}] load over: {unavailable} unavailable",
        started.elapsed()
    );
    assert!(unavailable > 0, "the outage was not noticed");

    // Each Note that got no answer is sent again with its key, until it is answered.
    let attempts = attempts.lock().await;
    let unanswered = unanswered.lock().await;
    for attempt in attempts.iter().filter(|a| unanswered.contains(&a.key)) {
        let mut tries = 0;
        loop {
            let answer = note(&app, attempt).await;
            if answer.status.is_success() {
                break;
            }
            tries += 1;
            assert!(
                tries < 40,
                "{} still refused: {}",
                attempt.note,
                answer.body
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    // The log, read past the proxy: every Note exactly once.
    let store = direct.event_store().await.unwrap();
    let mut logged = BTreeMap::<String, usize>::new();
    for portfolio in &portfolios {
        let stream = StreamId::new(format!("portfolio-{portfolio}")).unwrap();
        for event in store.read_stream(&stream, 1).await.unwrap() {
            if event.event_type == "PortfolioNoteLogged" {
                let text = event.payload["text"].as_str().unwrap().to_owned();
                *logged.entry(text).or_default() += 1;
            }
        }
    }
    for attempt in attempts.iter() {
        assert_eq!(
            logged.get(&attempt.note),
            Some(&1),
            "{} (key {}) is in the log once",
            attempt.note,
            attempt.key
        );
    }
    assert_eq!(logged.len(), attempts.len(), "nothing but the Notes sent");
}

async fn note(app: &App, attempt: &Attempt) -> freshet_testkit::Answer {
    app.call_with(
        Method::POST,
        &format!("/portfolios/{}/notes", attempt.portfolio),
        Some(&app.am.token),
        Some(json!({ "text": attempt.note })),
        &[("idempotency-key", &attempt.key)],
    )
    .await
}
