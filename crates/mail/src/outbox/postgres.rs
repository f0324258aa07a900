//! The outbox's SQL on PostgreSQL.

use chrono::{DateTime, Utc};
use freshet_domain::{EmailId, PortfolioId, UserId};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use super::{ClaimedMessage, ListFilter, MessageStatus, NewMessage, OutboxEntry, Outcome, invalid};
use crate::error::MailError;

const ENTRY_COLUMNS: &str = "id, portfolio_id, kind, recipient, recipient_role, \
    recipient_address, subject, status, attempts, last_error, created_at, next_attempt_at, sent_at";

pub(super) async fn insert(
    conn: &mut PgConnection,
    messages: &[NewMessage],
) -> Result<u64, MailError> {
    let mut inserted = 0;
    for message in messages {
        let email = &message.email;
        inserted += sqlx::query(
            "INSERT INTO mail_outbox (id, portfolio_id, kind, recipient, recipient_role, \
             subject, body_text, body_html, email, source_event_id, created_at, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(email.id.as_uuid())
        .bind(message.portfolio.as_uuid())
        .bind(message.kind())
        .bind(email.recipient.as_uuid())
        .bind(email.role.code())
        .bind(&message.rendered.subject)
        .bind(&message.rendered.text)
        .bind(&message.rendered.html)
        .bind(Json(email))
        .bind(message.source_event_id)
        .bind(message.created_at)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    }
    Ok(inserted)
}

pub(super) async fn list(
    pool: &PgPool,
    filter: &ListFilter,
) -> Result<Vec<OutboxEntry>, MailError> {
    let rows = sqlx::query(&format!(
        "SELECT {ENTRY_COLUMNS} FROM mail_outbox \
         WHERE ($1::text IS NULL OR status = $1) \
           AND ($2::uuid IS NULL OR recipient = $2) \
           AND ($3::uuid IS NULL OR portfolio_id = $3) \
         ORDER BY created_at DESC, id LIMIT $4 OFFSET $5"
    ))
    .bind(filter.status.map(MessageStatus::as_str))
    .bind(filter.recipient.map(|user| user.as_uuid()))
    .bind(filter.portfolio.map(|portfolio| portfolio.as_uuid()))
    .bind(filter.capped_limit())
    .bind(i64::from(filter.offset))
    .fetch_all(pool)
    .await?;
    rows.iter().map(entry).collect()
}

pub(super) async fn get(pool: &PgPool, id: EmailId) -> Result<Option<OutboxEntry>, MailError> {
    let row = sqlx::query(&format!(
        "SELECT {ENTRY_COLUMNS} FROM mail_outbox WHERE id = $1"
    ))
    .bind(id.as_uuid())
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(entry).transpose()
}

pub(super) async fn retry_failed(
    pool: &PgPool,
    id: EmailId,
    now: DateTime<Utc>,
) -> Result<bool, MailError> {
    let result = sqlx::query(
        "UPDATE mail_outbox SET status = 'pending', attempts = 0, next_attempt_at = $2 \
         WHERE id = $1 AND status = 'failed'",
    )
    .bind(id.as_uuid())
    .bind(now)
    .execute(pool)
    .await?;
    Ok(result.rows_affected() == 1)
}

pub(super) async fn claim(
    pool: &PgPool,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<ClaimedMessage>, MailError> {
    // One short statement: no transaction stays open while the message is sent (an open
    // transaction id would hold back every reader of the event log).
    let rows = sqlx::query(
        "UPDATE mail_outbox SET status = 'sending', attempts = attempts + 1, \
             next_attempt_at = $2, claim_token = gen_random_uuid() \
         WHERE id IN ( \
             SELECT id FROM mail_outbox \
             WHERE status IN ('pending', 'sending') AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at, created_at \
             LIMIT $3 FOR UPDATE SKIP LOCKED) \
         RETURNING id, recipient, subject, body_text, body_html, attempts, claim_token",
    )
    .bind(now)
    .bind(until)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let attempts: i32 = row.try_get("attempts")?;
            Ok(ClaimedMessage {
                id: EmailId::from_uuid(row.try_get("id")?),
                recipient: UserId::from_uuid(row.try_get("recipient")?),
                subject: row.try_get("subject")?,
                body_text: row.try_get("body_text")?,
                body_html: row.try_get("body_html")?,
                attempts: u32::try_from(attempts).unwrap_or(0),
                claim_token: row.try_get("claim_token")?,
            })
        })
        .collect()
}

pub(super) async fn record(
    pool: &PgPool,
    message: &ClaimedMessage,
    outcome: &Outcome,
    now: DateTime<Utc>,
) -> Result<bool, MailError> {
    let query = match outcome {
        Outcome::Sent { address } => sqlx::query(
            "UPDATE mail_outbox SET status = 'sent', sent_at = $3, recipient_address = $4, \
                 claim_token = NULL \
             WHERE id = $1 AND claim_token = $2",
        )
        .bind(message.id.as_uuid())
        .bind(message.claim_token)
        .bind(now)
        .bind(address),
        Outcome::RetryAt { error, at } => sqlx::query(
            "UPDATE mail_outbox SET status = 'pending', next_attempt_at = $3, last_error = $4, \
                 claim_token = NULL \
             WHERE id = $1 AND claim_token = $2",
        )
        .bind(message.id.as_uuid())
        .bind(message.claim_token)
        .bind(*at)
        .bind(error),
        Outcome::Failed { error } => sqlx::query(
            "UPDATE mail_outbox SET status = 'failed', last_error = $3, claim_token = NULL \
             WHERE id = $1 AND claim_token = $2",
        )
        .bind(message.id.as_uuid())
        .bind(message.claim_token)
        .bind(error),
    };
    Ok(query.execute(pool).await?.rows_affected() == 1)
}

fn entry(row: &PgRow) -> Result<OutboxEntry, MailError> {
    let id: Uuid = row.try_get("id")?;
    let status: String = row.try_get("status")?;
    let attempts: i32 = row.try_get("attempts")?;
    Ok(OutboxEntry {
        id: EmailId::from_uuid(id),
        portfolio: PortfolioId::from_uuid(row.try_get("portfolio_id")?),
        kind: row.try_get("kind")?,
        recipient: UserId::from_uuid(row.try_get("recipient")?),
        recipient_role: row.try_get("recipient_role")?,
        recipient_address: row.try_get("recipient_address")?,
        subject: row.try_get("subject")?,
        status: status
            .parse()
            .map_err(|error| invalid(&id.to_string(), "status", error))?,
        attempts: u32::try_from(attempts)
            .map_err(|error| invalid(&id.to_string(), "attempts", error))?,
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        sent_at: row.try_get("sent_at")?,
    })
}
