//! `freshet serve` as a real process: how it ends (SIGTERM with open event streams), how it
//! treats slow clients, and what `--demo` refuses (issue 14).
#![allow(clippy::unwrap_used)]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use futures::StreamExt;
use support::fleet::{Fleet, free_address, wait_healthy};

/// A fleet on a fresh SQLite file in a directory of its own (kept while the fleet runs).
fn fleet() -> (tempfile::TempDir, Fleet) {
    let data = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/freshet.db", data.path().display());
    let fleet = Fleet::new(
        env!("CARGO_BIN_EXE_freshet"),
        &[("FRESHET_DATABASE_URL", url)],
    );
    (data, fleet)
}

/// `freshet users add`: the token it prints.
fn add_user(fleet: &mut Fleet, email: &str) -> String {
    let output = fleet.run(
        "users-add",
        &["users", "add", "--name", "Amy", "--email", email],
        Duration::from_secs(60),
    );
    output
        .lines()
        .find_map(|line| line.strip_prefix("token (shown once): "))
        .unwrap_or_else(|| panic!("no token in:\n{output}"))
        .trim()
        .to_owned()
}

#[tokio::test]
async fn sigterm_ends_open_event_streams_and_the_process_within_seconds() {
    let (_data, mut fleet) = fleet();
    let token = add_user(&mut fleet, "amy@example.com");
    let listen = free_address();
    fleet.spawn("serve", &["serve", "--listen", &listen], &[]);
    let base = format!("http://{listen}");
    wait_healthy(&mut fleet, "serve", &base).await;
    let response = reqwest::Client::new()
        .get(format!("{base}/me/inbox/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let mut body = response.bytes_stream();
    let first = tokio::time::timeout(Duration::from_secs(10), body.next())
        .await
        .unwrap();
    assert!(first.is_some(), "the snapshot comes first");
    fleet.get("serve").terminate();
    let started = Instant::now();
    let status = fleet.get("serve").wait_exit(Duration::from_secs(10));
    assert!(
        status.is_some(),
        "still running 10 s after SIGTERM with a stream open:\n{}",
        fleet.get("serve").log_text()
    );
    assert!(
        status.unwrap().success(),
        "{}",
        fleet.get("serve").log_text()
    );
    assert!(started.elapsed() < Duration::from_secs(8));
    // The client saw its stream end.
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(_)) = body.next().await {}
    })
    .await;
    assert!(ended.is_ok(), "the stream did not end");
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let (_data, mut fleet) = fleet();
    let listen = free_address();
    fleet.spawn(
        "serve",
        &["serve", "--listen", &listen, "--header-read-timeout", "1s"],
        &[],
    );
    let base = format!("http://{listen}");
    wait_healthy(&mut fleet, "serve", &base).await;
    let silent_listen = listen.clone();
    let silent = tokio::task::spawn_blocking(move || {
        // A connection that never sends a byte is closed as well.
        let mut silent = TcpStream::connect(&silent_listen).unwrap();
        silent
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let started = Instant::now();
        let _ = silent.read_to_end(&mut Vec::new());
        started.elapsed()
    });
    let answered = tokio::task::spawn_blocking(move || {
        let mut slow = TcpStream::connect(&listen).unwrap();
        slow.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: freshet\r\n")
            .unwrap();
        let started = Instant::now();
        let mut answer = Vec::new();
        // Ends (EOF, or a reset) when the server gives up on the headers.
        let _ = slow.read_to_end(&mut answer);
        (
            started.elapsed(),
            String::from_utf8_lossy(&answer).into_owned(),
        )
    })
    .await
    .unwrap();
    assert!(
        answered.0 < Duration::from_secs(5),
        "the connection stayed open {:?}",
        answered.0
    );
    assert!(!answered.1.contains("200 OK"), "{}", answered.1);
    let silent = silent.await.unwrap();
    assert!(
        silent < Duration::from_secs(5),
        "a silent connection stayed {silent:?}"
    );
}
