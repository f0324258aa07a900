//! The database side of the processes: who holds which processor, where the processors
//! stand, and the email outbox draining.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// Every processor that follows the log under an advisory lock: the projections and the
/// email outbox (`freshet_mail::EmailProcessor`).
pub const PROCESSORS: [&str; 5] = [
    "inbox",
    "portfolios",
    "ad_set_board",
    "cycle_metrics",
    "mail_outbox",
];

/// Which process (application_name) holds each processor's advisory lock, if any.
pub async fn processor_holders(pool: &PgPool) -> BTreeMap<String, Option<String>> {
    let names: Vec<String> = PROCESSORS.iter().map(|n| (*n).to_owned()).collect();
    let rows: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT n.name, a.application_name::text
         FROM unnest($1::text[]) AS n(name)
         LEFT JOIN pg_locks l
           ON l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.classid = hashtext('freshet.processor')::oid
          AND l.objid = hashtext(n.name)::oid
         LEFT JOIN pg_stat_activity a ON a.pid = l.pid",
    )
    .bind(&names)
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter().collect()
}

pub type Position = (i64, i64);

pub async fn checkpoints(pool: &PgPool) -> BTreeMap<String, Position> {
    let names: Vec<String> = PROCESSORS.iter().map(|n| (*n).to_owned()).collect();
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT name, log_commit, log_position FROM checkpoints WHERE name = ANY($1)",
    )
    .bind(&names)
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter().map(|(n, c, p)| (n, (c, p))).collect()
}

/// The last committed event in the log's global order.
pub async fn head(pool: &PgPool) -> Position {
    sqlx::query_as(
        "SELECT commit_xid, position FROM events ORDER BY commit_xid DESC, position DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await
    .unwrap()
    .unwrap_or((0, 0))
}

pub async fn caught_up(pool: &PgPool) -> bool {
    let head = head(pool).await;
    let saved = checkpoints(pool).await;
    PROCESSORS
        .iter()
        .all(|name| saved.get(*name).is_some_and(|at| *at >= head))
}

/// The emails in flight (`sending`) whose claim was made before `instant` (the killed
/// worker's among them, so a superset of what may arrive twice): a claim's lease
/// runs out `MAIL_LEASE` after it was made, so these are the claims of a worker killed then.
pub async fn claims_before(pool: &PgPool, instant: DateTime<Utc>) -> BTreeSet<Uuid> {
    let lease = chrono::Duration::from_std(MAIL_LEASE).unwrap();
    sqlx::query_scalar(
        "SELECT id FROM mail_outbox WHERE status = 'sending' AND next_attempt_at <= $1",
    )
    .bind(instant + lease)
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .collect()
}

/// Waits until every `EmailRequested` has its outbox row and every row is `sent`; a killed
/// worker's claims are sent again by the survivor once their lease (`MAIL_LEASE`) lapses.
/// Account messages (a daily digest, once the run passes the digest's time of day) have no
/// `EmailRequested`: they must be sent too, but only portfolio messages are counted against
/// the events.
pub async fn drain_outbox(pool: &PgPool) {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let requested: i64 =
            sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'EmailRequested'")
                .fetch_one(pool)
                .await
                .unwrap();
        let by_status: BTreeMap<String, i64> =
            sqlx::query_as("SELECT status, count(*) FROM mail_outbox GROUP BY status")
                .fetch_all(pool)
                .await
                .unwrap()
                .into_iter()
                .collect();
        assert_eq!(
            by_status.get("failed"),
            None,
            "failed emails: {by_status:?}"
        );
        let portfolio_messages_sent: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM mail_outbox WHERE status = 'sent' AND source_event_id IS NOT NULL",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        if portfolio_messages_sent == requested && by_status.keys().all(|status| status == "sent") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the outbox did not drain in 240s: {requested} requested, \
             {portfolio_messages_sent} portfolio messages sent, {by_status:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The email lease the workers run with: short, so the test sees a crash's claims resent.
pub const MAIL_LEASE: Duration = Duration::from_secs(15);
