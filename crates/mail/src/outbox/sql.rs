//! The outbox's SQL, written once: portable statements (`$1` parameters) run on either
//! backend through `on_pool!`/`on_tx!`, with ids and instants bound and read through the
//! store's codec (`uuid`/`timestamptz` on PostgreSQL, fixed-width text on SQLite, where
//! `<=` on the text is `<=` in time). Only the claim differs by backend (`claim`).

use chrono::{DateTime, Utc};
use freshet_domain::{EmailId, PortfolioId, UserId};
use freshet_store::codec::{DbTime, DbUuid};
use freshet_store::{Database, Tx, on_pool, on_tx};
use sqlx::types::Json;

use super::{
    ClaimedMessage, ListFilter, MessageStatus, NewAccountMessage, NewMessage, OutboxEntry, Outcome,
    invalid,
};
use crate::error::MailError;

const ENTRY_COLUMNS: &str = "id, portfolio_id, kind, recipient, recipient_role, \
    recipient_address, subject, status, attempts, last_error, created_at, next_attempt_at, sent_at";

const INSERT: &str = "INSERT INTO mail_outbox (id, portfolio_id, kind, recipient, \
    recipient_role, subject, body_text, body_html, email, source_event_id, created_at, \
    next_attempt_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
    ON CONFLICT (id) DO NOTHING";

pub(super) async fn insert(tx: &mut Tx, messages: &[NewMessage]) -> Result<u64, MailError> {
    let mut inserted = 0;
    for message in messages {
        let email = &message.email;
        inserted += on_tx!(tx, conn => {
            sqlx::query(INSERT)
                .bind(DbUuid(email.id.as_uuid()))
                .bind(DbUuid(message.portfolio.as_uuid()))
                .bind(message.kind())
                .bind(DbUuid(email.recipient.as_uuid()))
                .bind(email.role.code())
                .bind(&message.rendered.subject)
                .bind(&message.rendered.text)
                .bind(&message.rendered.html)
                .bind(Json(email))
                .bind(DbUuid(message.source_event_id))
                .bind(DbTime(message.created_at))
                .execute(&mut **conn)
                .await?
                .rows_affected()
        });
    }
    Ok(inserted)
}

/// An account message has no portfolio, source event or domain email, and no role.
const INSERT_ACCOUNT: &str = "INSERT INTO mail_outbox (id, kind, recipient, recipient_role, \
    subject, body_text, body_html, created_at, next_attempt_at) \
    VALUES ($1, $2, $3, '', $4, $5, $6, $7, $7) \
    ON CONFLICT (id) DO NOTHING";

pub(super) async fn insert_account(
    tx: &mut Tx,
    message: &NewAccountMessage,
) -> Result<bool, MailError> {
    let inserted = on_tx!(tx, conn => {
        sqlx::query(INSERT_ACCOUNT)
            .bind(DbUuid(message.id.as_uuid()))
            .bind(message.kind.code())
            .bind(DbUuid(message.recipient.as_uuid()))
            .bind(&message.rendered.subject)
            .bind(&message.rendered.text)
            .bind(&message.rendered.html)
            .bind(DbTime(message.created_at))
            .execute(&mut **conn)
            .await?
            .rows_affected()
    });
    Ok(inserted == 1)
}

pub(super) async fn list(
    db: &Database,
    filter: &ListFilter,
) -> Result<Vec<OutboxEntry>, MailError> {
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM mail_outbox \
         WHERE ($1 IS NULL OR status = $1) \
           AND ($2 IS NULL OR recipient = $2) \
           AND ($3 IS NULL OR portfolio_id = $3) \
         ORDER BY created_at DESC, id LIMIT $4 OFFSET $5"
    );
    let status = filter.status.map(MessageStatus::as_str);
    let recipient = filter.recipient.map(|user| DbUuid(user.as_uuid()));
    let portfolio = filter
        .portfolio
        .map(|portfolio| DbUuid(portfolio.as_uuid()));
    let rows: Vec<EntryRow> = on_pool!(db, pool => {
        sqlx::query_as(&sql)
            .bind(status)
            .bind(recipient)
            .bind(portfolio)
            .bind(filter.capped_limit())
            .bind(i64::from(filter.offset))
            .fetch_all(pool)
            .await?
    });
    rows.into_iter().map(EntryRow::into_entry).collect()
}

pub(super) async fn get(db: &Database, id: EmailId) -> Result<Option<OutboxEntry>, MailError> {
    let sql = format!("SELECT {ENTRY_COLUMNS} FROM mail_outbox WHERE id = $1");
    let row: Option<EntryRow> = on_pool!(db, pool => {
        sqlx::query_as(&sql)
            .bind(DbUuid(id.as_uuid()))
            .fetch_optional(pool)
            .await?
    });
    row.map(EntryRow::into_entry).transpose()
}

pub(super) async fn counts(db: &Database) -> Result<Vec<(MessageStatus, i64)>, MailError> {
    const SQL: &str = "SELECT status, COUNT(*) FROM mail_outbox GROUP BY status";
    let rows: Vec<(String, i64)> = on_pool!(db, pool => sqlx::query_as(SQL).fetch_all(pool).await?);
    rows.into_iter()
        .map(|(status, count)| Ok((status.parse()?, count)))
        .collect()
}

pub(super) async fn retry_failed(
    db: &Database,
    id: EmailId,
    now: DateTime<Utc>,
) -> Result<bool, MailError> {
    const SQL: &str = "UPDATE mail_outbox SET status = 'pending', attempts = 0, \
        next_attempt_at = $2 WHERE id = $1 AND status = 'failed'";
    let changed = on_pool!(db, pool => {
        sqlx::query(SQL)
            .bind(DbUuid(id.as_uuid()))
            .bind(DbTime(now))
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(changed == 1)
}

pub(super) async fn record(
    db: &Database,
    message: &ClaimedMessage,
    outcome: &Outcome,
    now: DateTime<Utc>,
) -> Result<bool, MailError> {
    // The body of a sent invitation or password reset is cleared: its secret link has no
    // business staying in the table (`AccountMessageKind::carries_secret`).
    const SENT: &str = "UPDATE mail_outbox SET status = 'sent', sent_at = $3, \
        recipient_address = $4, claim_token = NULL, \
        body_text = CASE WHEN kind IN ('invitation', 'password_reset') THEN '' \
            ELSE body_text END, \
        body_html = CASE WHEN kind IN ('invitation', 'password_reset') THEN '' \
            ELSE body_html END \
        WHERE id = $1 AND claim_token = $2";
    const RETRY: &str = "UPDATE mail_outbox SET status = 'pending', next_attempt_at = $3, \
        last_error = $4, claim_token = NULL WHERE id = $1 AND claim_token = $2";
    const FAILED: &str = "UPDATE mail_outbox SET status = 'failed', last_error = $3, \
        claim_token = NULL WHERE id = $1 AND claim_token = $2";
    let id = DbUuid(message.id.as_uuid());
    let token = DbUuid(message.claim_token);
    let changed = on_pool!(db, pool => {
        let query = match outcome {
            Outcome::Sent { address } => sqlx::query(SENT)
                .bind(id)
                .bind(token)
                .bind(DbTime(now))
                .bind(address),
            Outcome::RetryAt { error, at } => sqlx::query(RETRY)
                .bind(id)
                .bind(token)
                .bind(DbTime(*at))
                .bind(error),
            Outcome::Failed { error } => sqlx::query(FAILED).bind(id).bind(token).bind(error),
        };
        query.execute(pool).await?.rows_affected()
    });
    Ok(changed == 1)
}

/// One row of `ENTRY_COLUMNS`, as either backend returns it.
#[derive(sqlx::FromRow)]
struct EntryRow {
    id: DbUuid,
    portfolio_id: Option<DbUuid>,
    kind: String,
    recipient: DbUuid,
    recipient_role: String,
    recipient_address: Option<String>,
    subject: String,
    status: String,
    attempts: i32,
    last_error: Option<String>,
    created_at: DbTime,
    next_attempt_at: DbTime,
    sent_at: Option<DbTime>,
}

impl EntryRow {
    fn into_entry(self) -> Result<OutboxEntry, MailError> {
        let id = self.id.0.to_string();
        Ok(OutboxEntry {
            id: EmailId::from_uuid(self.id.0),
            portfolio: self.portfolio_id.map(|id| PortfolioId::from_uuid(id.0)),
            kind: self.kind,
            recipient: UserId::from_uuid(self.recipient.0),
            recipient_role: self.recipient_role,
            recipient_address: self.recipient_address,
            subject: self.subject,
            status: self
                .status
                .parse()
                .map_err(|error| invalid(&id, "status", error))?,
            attempts: u32::try_from(self.attempts)
                .map_err(|error| invalid(&id, "attempts", error))?,
            last_error: self.last_error,
            created_at: self.created_at.0,
            next_attempt_at: self.next_attempt_at.0,
            sent_at: self.sent_at.map(|at| at.0),
        })
    }
}
