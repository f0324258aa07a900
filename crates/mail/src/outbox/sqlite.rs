//! The outbox's SQL on SQLite. Ids are hyphenated UUID text; times are fixed-width UTC text,
//! so `<=` on the text is `<=` in time.

use chrono::{DateTime, Utc};
use freshet_domain::{EmailId, PortfolioId, UserId};
use freshet_store::codec::{parse_sqlite_time, sqlite_time as time};
use sqlx::sqlite::SqliteRow;
use sqlx::types::Json;
use sqlx::{Row, SqliteConnection, SqlitePool};
use uuid::Uuid;

use super::{ClaimedMessage, ListFilter, MessageStatus, NewMessage, OutboxEntry, Outcome, invalid};
use crate::error::MailError;

const ENTRY_COLUMNS: &str = "id, portfolio_id, kind, recipient, recipient_role, \
    recipient_address, subject, status, attempts, last_error, created_at, next_attempt_at, sent_at";

fn parse_time(id: &str, what: &str, text: &str) -> Result<DateTime<Utc>, MailError> {
    parse_sqlite_time(text).map_err(|error| invalid(id, what, error))
}

fn parse_uuid(id: &str, what: &str, text: &str) -> Result<Uuid, MailError> {
    Uuid::parse_str(text).map_err(|error| invalid(id, what, error))
}

pub(super) async fn insert(
    conn: &mut SqliteConnection,
    messages: &[NewMessage],
) -> Result<u64, MailError> {
    let mut inserted = 0;
    for message in messages {
        let email = &message.email;
        let created_at = time(message.created_at);
        inserted += sqlx::query(
            "INSERT INTO mail_outbox (id, portfolio_id, kind, recipient, recipient_role, \
             subject, body_text, body_html, email, source_event_id, created_at, next_attempt_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(email.id.to_string())
        .bind(message.portfolio.to_string())
        .bind(message.kind())
        .bind(email.recipient.to_string())
        .bind(email.role.code())
        .bind(&message.rendered.subject)
        .bind(&message.rendered.text)
        .bind(&message.rendered.html)
        .bind(Json(email))
        .bind(message.source_event_id.to_string())
        .bind(created_at)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    }
    Ok(inserted)
}

pub(super) async fn list(
    pool: &SqlitePool,
    filter: &ListFilter,
) -> Result<Vec<OutboxEntry>, MailError> {
    let rows = sqlx::query(&format!(
        "SELECT {ENTRY_COLUMNS} FROM mail_outbox \
         WHERE (?1 IS NULL OR status = ?1) \
           AND (?2 IS NULL OR recipient = ?2) \
           AND (?3 IS NULL OR portfolio_id = ?3) \
         ORDER BY created_at DESC, id LIMIT ?4 OFFSET ?5"
    ))
    .bind(filter.status.map(MessageStatus::as_str))
    .bind(filter.recipient.map(|user| user.to_string()))
    .bind(filter.portfolio.map(|portfolio| portfolio.to_string()))
    .bind(filter.capped_limit())
    .bind(i64::from(filter.offset))
    .fetch_all(pool)
    .await?;
    rows.iter().map(entry).collect()
}

pub(super) async fn get(pool: &SqlitePool, id: EmailId) -> Result<Option<OutboxEntry>, MailError> {
    let row = sqlx::query(&format!(
        "SELECT {ENTRY_COLUMNS} FROM mail_outbox WHERE id = ?1"
    ))
    .bind(id.to_string())
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(entry).transpose()
}

pub(super) async fn retry_failed(
    pool: &SqlitePool,
    id: EmailId,
    now: DateTime<Utc>,
) -> Result<bool, MailError> {
    let result = sqlx::query(
        "UPDATE mail_outbox SET status = 'pending', attempts = 0, next_attempt_at = ?2 \
         WHERE id = ?1 AND status = 'failed'",
    )
    .bind(id.to_string())
    .bind(time(now))
    .execute(pool)
    .await?;
    Ok(result.rows_affected() == 1)
}

pub(super) async fn claim(
    pool: &SqlitePool,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<ClaimedMessage>, MailError> {
    // One statement under SQLite's single write lock: two claimers never get the same row.
    let token = Uuid::new_v4();
    let rows = sqlx::query(
        "UPDATE mail_outbox SET status = 'sending', attempts = attempts + 1, \
             next_attempt_at = ?2, claim_token = ?4 \
         WHERE id IN ( \
             SELECT id FROM mail_outbox \
             WHERE status IN ('pending', 'sending') AND next_attempt_at <= ?1 \
             ORDER BY next_attempt_at, created_at LIMIT ?3) \
         RETURNING id, recipient, subject, body_text, body_html, attempts",
    )
    .bind(time(now))
    .bind(time(until))
    .bind(i64::from(limit))
    .bind(token.to_string())
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let id: String = row.try_get("id")?;
            let recipient: String = row.try_get("recipient")?;
            let attempts: i64 = row.try_get("attempts")?;
            Ok(ClaimedMessage {
                id: EmailId::from_uuid(parse_uuid(&id, "id", &id)?),
                recipient: UserId::from_uuid(parse_uuid(&id, "recipient", &recipient)?),
                subject: row.try_get("subject")?,
                body_text: row.try_get("body_text")?,
                body_html: row.try_get("body_html")?,
                attempts: u32::try_from(attempts).unwrap_or(0),
                claim_token: token,
            })
        })
        .collect()
}

pub(super) async fn record(
    pool: &SqlitePool,
    message: &ClaimedMessage,
    outcome: &Outcome,
    now: DateTime<Utc>,
) -> Result<bool, MailError> {
    let query = match outcome {
        Outcome::Sent { address } => sqlx::query(
            "UPDATE mail_outbox SET status = 'sent', sent_at = ?3, recipient_address = ?4, \
                 claim_token = NULL \
             WHERE id = ?1 AND claim_token = ?2",
        )
        .bind(message.id.to_string())
        .bind(message.claim_token.to_string())
        .bind(time(now))
        .bind(address),
        Outcome::RetryAt { error, at } => sqlx::query(
            "UPDATE mail_outbox SET status = 'pending', next_attempt_at = ?3, last_error = ?4, \
                 claim_token = NULL \
             WHERE id = ?1 AND claim_token = ?2",
        )
        .bind(message.id.to_string())
        .bind(message.claim_token.to_string())
        .bind(time(*at))
        .bind(error),
        Outcome::Failed { error } => sqlx::query(
            "UPDATE mail_outbox SET status = 'failed', last_error = ?3, claim_token = NULL \
             WHERE id = ?1 AND claim_token = ?2",
        )
        .bind(message.id.to_string())
        .bind(message.claim_token.to_string())
        .bind(error),
    };
    Ok(query.execute(pool).await?.rows_affected() == 1)
}

fn entry(row: &SqliteRow) -> Result<OutboxEntry, MailError> {
    let id: String = row.try_get("id")?;
    let text = |column: &str| row.try_get::<String, _>(column);
    let status: String = text("status")?;
    let attempts: i64 = row.try_get("attempts")?;
    let sent_at: Option<String> = row.try_get("sent_at")?;
    Ok(OutboxEntry {
        id: EmailId::from_uuid(parse_uuid(&id, "id", &id)?),
        portfolio: PortfolioId::from_uuid(parse_uuid(&id, "portfolio", &text("portfolio_id")?)?),
        kind: text("kind")?,
        recipient: UserId::from_uuid(parse_uuid(&id, "recipient", &text("recipient")?)?),
        recipient_role: text("recipient_role")?,
        recipient_address: row.try_get("recipient_address")?,
        subject: text("subject")?,
        status: status
            .parse()
            .map_err(|error| invalid(&id, "status", error))?,
        attempts: u32::try_from(attempts).map_err(|error| invalid(&id, "attempts", error))?,
        last_error: row.try_get("last_error")?,
        created_at: parse_time(&id, "created_at", &text("created_at")?)?,
        next_attempt_at: parse_time(&id, "next_attempt_at", &text("next_attempt_at")?)?,
        sent_at: sent_at
            .map(|at| parse_time(&id, "sent_at", &at))
            .transpose()?,
    })
}
