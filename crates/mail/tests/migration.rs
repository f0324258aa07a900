//! Migration 0071 rebuilds SQLite's outbox to make a message's portfolio, source event and
//! domain email optional: the rows written before it and the indexes are still there.
#![allow(clippy::unwrap_used)]

use std::borrow::Cow;
use std::path::Path;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

const REBUILD: i64 = 71;

#[tokio::test]
async fn the_sqlite_outbox_rebuild_keeps_every_row_and_index() {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteConnectOptions::new()
        .filename(dir.path().join("outbox.db"))
        .create_if_missing(true);
    let pool = SqlitePoolOptions::new()
        .connect_with(options)
        .await
        .unwrap();
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/sqlite");
    let mut before = Migrator::new(folder.as_path()).await.unwrap();
    before.migrations = Cow::Owned(
        before
            .migrations
            .iter()
            .filter(|migration| migration.version < REBUILD)
            .cloned()
            .collect(),
    );
    before.run(&pool).await.unwrap();
    sqlx::query(
        "INSERT INTO mail_outbox (id, portfolio_id, kind, recipient, recipient_role, \
         recipient_address, subject, body_text, body_html, email, source_event_id, status, \
         attempts, last_error, created_at, next_attempt_at, sent_at) VALUES \
         ('e1', 'p1', 'kickoff', 'u1', 'am', 'a@agency.test', 'Subject', 'Text', 'Html', \
          '{\"kind\":\"kickoff\"}', 'ev1', 'sent', 2, 'refused once', \
          '2027-03-01T12:00:00.000000Z', '2027-03-01T12:00:00.000000Z', \
          '2027-03-01T12:01:00.000000Z')",
    )
    .execute(&pool)
    .await
    .unwrap();

    Migrator::new(folder.as_path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();

    let row: (String, String, String, String, i64, String, String) = sqlx::query_as(
        "SELECT portfolio_id, email, source_event_id, status, attempts, last_error, sent_at \
         FROM mail_outbox WHERE id = 'e1'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        row,
        (
            "p1".to_owned(),
            "{\"kind\":\"kickoff\"}".to_owned(),
            "ev1".to_owned(),
            "sent".to_owned(),
            2,
            "refused once".to_owned(),
            "2027-03-01T12:01:00.000000Z".to_owned()
        )
    );
    let mut indexes: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'mail_outbox' \
         AND name NOT LIKE 'sqlite_autoindex%'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    indexes.sort();
    assert_eq!(
        indexes,
        [
            "mail_outbox_due",
            "mail_outbox_listing",
            "mail_outbox_recipient"
        ]
    );
    // An account message: no portfolio, source event or email. Half of one is refused.
    let account = "INSERT INTO mail_outbox (id, portfolio_id, kind, recipient, recipient_role, \
         subject, body_text, body_html, created_at, next_attempt_at) VALUES \
         ($1, $2, 'invitation', 'u1', '', 'S', 'T', 'H', '2027-03-02T12:00:00.000000Z', \
          '2027-03-02T12:00:00.000000Z')";
    sqlx::query(account)
        .bind("e2")
        .bind(None::<String>)
        .execute(&pool)
        .await
        .unwrap();
    assert!(
        sqlx::query(account)
            .bind("e3")
            .bind(Some("p1"))
            .execute(&pool)
            .await
            .is_err(),
        "a portfolio's message without its email is refused"
    );
    let digest_on: i64 = sqlx::query_scalar(
        "SELECT dflt_value FROM pragma_table_info('users') WHERE name = 'daily_digest'",
    )
    .fetch_one(&pool)
    .await
    .map(|value: String| value.parse().unwrap())
    .unwrap();
    assert_eq!(digest_on, 1, "the daily digest is on by default");
}
