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

/// Waits until every `EmailRequested` has its outbox row and every row is `sent`.
///
/// The killed worker's claims stay `sending` until their lease lapses (five minutes by
/// default, `RetryPolicy::lease`). Rather than wait that long, once the claims older than
/// the kill are still unfinished 40 s later (beyond any SMTP exchange of a live worker, whose
/// timeout is 30 s), the test lets their leases lapse now. Returns those emails' ids: only
/// they may arrive twice (at-least-once delivery across a crash).
pub async fn drain_outbox(pool: &PgPool, killed_at: DateTime<Utc>) -> BTreeSet<Uuid> {
    let lease = freshet_mail::RetryPolicy::default().lease;
    let claimed_before_kill = killed_at + lease + chrono::Duration::seconds(1);
    let mut orphans = BTreeSet::new();
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
        let sent = by_status.get("sent").copied().unwrap_or(0);
        if sent == requested && by_status.len() == 1 {
            return orphans;
        }
        let db_now: DateTime<Utc> = sqlx::query_scalar("SELECT now()")
            .fetch_one(pool)
            .await
            .unwrap();
        if db_now > killed_at + chrono::Duration::seconds(40) {
            let lapsed: Vec<Uuid> = sqlx::query_scalar(
                "UPDATE mail_outbox SET next_attempt_at = now()
                 WHERE status = 'sending' AND next_attempt_at <= $1 AND next_attempt_at > now()
                 RETURNING id",
            )
            .bind(claimed_before_kill)
            .fetch_all(pool)
            .await
            .unwrap();
            orphans.extend(lapsed);
        }
        assert!(
            Instant::now() < deadline,
            "the outbox did not drain in 240s: {requested} requested, {by_status:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
