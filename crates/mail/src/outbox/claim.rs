//! Claiming due messages: the one outbox statement that differs by backend.
//!
//! Both run one short statement, so no transaction stays open while a message is sent (an
//! open transaction id would hold back every reader of the event log). Concurrent claimers
//! never get the same row: on PostgreSQL because the inner select skips rows another claim
//! has locked (`FOR UPDATE SKIP LOCKED`), on SQLite because writers take turns.

use chrono::{DateTime, Utc};
use freshet_domain::{EmailId, UserId};
use freshet_store::codec::{DbTime, DbUuid};
use freshet_store::{Database, on_pool};
use uuid::Uuid;

use super::ClaimedMessage;
use crate::error::MailError;

const POSTGRES: &str = "UPDATE mail_outbox SET status = 'sending', attempts = attempts + 1, \
        next_attempt_at = $2, claim_token = $4 \
    WHERE id IN ( \
        SELECT id FROM mail_outbox \
        WHERE status IN ('pending', 'sending') AND next_attempt_at <= $1 \
        ORDER BY next_attempt_at, created_at \
        LIMIT $3 FOR UPDATE SKIP LOCKED) \
    RETURNING id, recipient, subject, body_text, body_html, attempts";

/// SQLite's single writer makes the statement exclusive; it has no row locks.
const SQLITE: &str = "UPDATE mail_outbox SET status = 'sending', attempts = attempts + 1, \
        next_attempt_at = $2, claim_token = $4 \
    WHERE id IN ( \
        SELECT id FROM mail_outbox \
        WHERE status IN ('pending', 'sending') AND next_attempt_at <= $1 \
        ORDER BY next_attempt_at, created_at LIMIT $3) \
    RETURNING id, recipient, subject, body_text, body_html, attempts";

/// A claimed row, as either backend returns it.
#[derive(sqlx::FromRow)]
struct ClaimedRow {
    id: DbUuid,
    recipient: DbUuid,
    subject: String,
    body_text: String,
    body_html: String,
    attempts: i32,
}

/// Marks up to `limit` due messages `sending` until `until` under a fresh claim token.
pub(super) async fn claim(
    db: &Database,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<ClaimedMessage>, MailError> {
    let token = Uuid::new_v4();
    let sql = match db {
        Database::Postgres(_) => POSTGRES,
        Database::Sqlite(_) => SQLITE,
    };
    let rows: Vec<ClaimedRow> = on_pool!(db, pool => {
        sqlx::query_as(sql)
            .bind(DbTime(now))
            .bind(DbTime(until))
            .bind(i64::from(limit))
            .bind(DbUuid(token))
            .fetch_all(pool)
            .await?
    });
    Ok(rows
        .into_iter()
        .map(|row| ClaimedMessage {
            id: EmailId::from_uuid(row.id.0),
            recipient: UserId::from_uuid(row.recipient.0),
            subject: row.subject,
            body_text: row.body_text,
            body_html: row.body_html,
            attempts: u32::try_from(row.attempts).unwrap_or(0),
            claim_token: token,
        })
        .collect())
}
