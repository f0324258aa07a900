//! `freshet serve` as a real process: how it ends (SIGTERM with open event streams), how it
//! treats slow clients, and what `--demo` refuses (issue 14).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::fleet::{Fleet, free_address, wait_healthy};
use futures::StreamExt;

/// A fleet on a fresh SQLite file in a directory of its own (kept while the fleet runs).
fn fleet() -> (tempfile::TempDir, Fleet) {
    let data = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/freshet.db", data.path().display());
    let fleet = Fleet::new(
        crate::fleet::freshet_binary(),
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

/// The `export NAME=value` lines `serve --demo` printed so far.
fn demo_export(log: &str, name: &str) -> Option<String> {
    let prefix = format!("export {name}=");
    log.lines()
        .rev()
        .find_map(|line| line.strip_prefix(&prefix))
        .map(|value| value.trim().to_owned())
}

/// Starts `serve --demo` under `name` and waits for its tokens; Amy's token.
async fn start_demo(fleet: &mut Fleet, name: &str, listen: &str) -> String {
    fleet.spawn(name, &["serve", "--demo", "--listen", listen], &[]);
    wait_healthy(fleet, name, &format!("http://{listen}")).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(token) = demo_export(&fleet.get(name).log_text(), "AMY") {
            return token;
        }
        assert!(Instant::now() < deadline, "no demo tokens printed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn me_status(base: &str, token: &str) -> reqwest::StatusCode {
    reqwest::Client::new()
        .get(format!("{base}/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn a_second_demo_start_revokes_the_tokens_of_the_first() {
    let (_data, mut fleet) = fleet();
    let listen = free_address();
    let base = format!("http://{listen}");
    let first = start_demo(&mut fleet, "demo-1", &listen).await;
    assert_eq!(me_status(&base, &first).await, reqwest::StatusCode::OK);
    fleet.get("demo-1").terminate();
    assert!(
        fleet
            .get("demo-1")
            .wait_exit(Duration::from_secs(10))
            .is_some()
    );
    let second = start_demo(&mut fleet, "demo-2", &listen).await;
    assert_ne!(first, second);
    assert_eq!(me_status(&base, &second).await, reqwest::StatusCode::OK);
    assert_eq!(
        me_status(&base, &first).await,
        reqwest::StatusCode::UNAUTHORIZED,
        "the first start's token still works"
    );
}

/// Runs `serve --demo` with `args` and expects it to refuse to start: its output.
fn demo_refused(fleet: &mut Fleet, name: &str, args: &[&str], env: &[(&str, String)]) -> String {
    let mut all = vec!["serve", "--demo"];
    all.extend_from_slice(args);
    fleet.spawn(name, &all, env);
    let status = fleet.get(name).wait_exit(Duration::from_secs(30));
    let log = fleet.get(name).log_text();
    let Some(status) = status else {
        panic!("`freshet {}` started:\n{log}", all.join(" "));
    };
    assert!(!status.success(), "{log}");
    assert!(
        demo_export(&log, "AMY").is_none(),
        "tokens were printed:\n{log}"
    );
    log
}

#[tokio::test]
async fn the_demo_refuses_a_listen_address_beyond_loopback_unless_forced() {
    let (_data, mut fleet) = fleet();
    let port = free_address().rsplit(':').next().unwrap().to_owned();
    let everywhere = format!("0.0.0.0:{port}");
    let log = demo_refused(&mut fleet, "open", &["--listen", &everywhere], &[]);
    assert!(log.contains("--force"), "{log}");
    fleet.spawn(
        "forced",
        &["serve", "--demo", "--force", "--listen", &everywhere],
        &[],
    );
    wait_healthy(&mut fleet, "forced", &format!("http://127.0.0.1:{port}")).await;
}

#[tokio::test]
async fn the_demo_refuses_postgresql_unless_forced() {
    let Some(db) = freshet_store::testing::TestDatabase::postgres().await else {
        return;
    };
    let (_data, mut fleet) = fleet();
    let listen = free_address();
    let url = db.url().to_owned();
    let log = demo_refused(
        &mut fleet,
        "postgres",
        &["--listen", &listen],
        &[("FRESHET_DATABASE_URL", url)],
    );
    assert!(log.contains("--force"), "{log}");
}
