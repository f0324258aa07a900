//! The outbox table: rows written from `EmailRequested` events, claimed by delivery workers,
//! listed for the API and the CLI, and retried by an operator.

mod account;
mod claim;
mod sql;

pub use account::{AccountMessageKind, NewAccountMessage, insert_account_message};

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use freshet_domain::{Email, EmailId, PortfolioId, UserId};
use freshet_store::{Database, Tx};
use uuid::Uuid;

use crate::error::MailError;
use crate::render::{Rendered, kind_code};

/// Where a message is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageStatus {
    /// Waiting for its (next) attempt.
    Pending,
    /// Claimed by a worker that is sending it now.
    Sending,
    /// Accepted by the SMTP server (or written to the mail folder).
    Sent,
    /// Every attempt failed, or it cannot be sent (no address); see `last_error`.
    Failed,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }
}

impl fmt::Display for MessageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MessageStatus {
    type Err = MailError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending" => Ok(Self::Pending),
            "sending" => Ok(Self::Sending),
            "sent" => Ok(Self::Sent),
            "failed" => Ok(Self::Failed),
            other => Err(MailError::UnknownStatus {
                value: other.to_owned(),
            }),
        }
    }
}

/// A message to insert: one per `EmailRequested` event.
#[derive(Clone, Debug)]
pub struct NewMessage {
    pub portfolio: PortfolioId,
    pub email: Email,
    pub rendered: Rendered,
    /// The `EmailRequested` event it comes from.
    pub source_event_id: Uuid,
    /// When the event was recorded: the message's creation time and first due time.
    pub created_at: DateTime<Utc>,
}

impl NewMessage {
    pub(crate) fn kind(&self) -> &'static str {
        kind_code(self.email.kind)
    }
}

/// One row of the outbox listing. It never holds a message's body: an invitation's or a
/// password reset's is a secret link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEntry {
    pub id: EmailId,
    /// The portfolio the email is about; `None` for account messages.
    pub portfolio: Option<PortfolioId>,
    /// `kickoff`, `deliverables_due`, `ready_for_review`, `creatives_approved`,
    /// `creatives_live`, `stall_alert`, ... or an account message's
    /// [`AccountMessageKind::code`] (`invitation`, `password_reset`, `daily_digest`).
    pub kind: String,
    pub recipient: UserId,
    /// The role the recipient gets the email as (`am`, `sas`, ...); empty for account
    /// messages, which are to the person whatever their roles.
    pub recipient_role: String,
    /// The address it was sent to, once resolved.
    pub recipient_address: Option<String>,
    pub subject: String,
    pub status: MessageStatus,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Which rows to list, newest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListFilter {
    pub status: Option<MessageStatus>,
    pub recipient: Option<UserId>,
    pub portfolio: Option<PortfolioId>,
    /// At most this many rows (capped at 500).
    pub limit: u32,
    /// Rows to skip, for pagination.
    pub offset: u32,
}

impl Default for ListFilter {
    fn default() -> Self {
        Self {
            status: None,
            recipient: None,
            portfolio: None,
            limit: 50,
            offset: 0,
        }
    }
}

impl ListFilter {
    pub(crate) fn capped_limit(&self) -> i64 {
        i64::from(self.limit.min(500))
    }
}

/// A message a worker claimed and now owns until its lease lapses.
#[derive(Clone, Debug)]
pub struct ClaimedMessage {
    pub id: EmailId,
    pub recipient: UserId,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    /// Attempts so far, this one included.
    pub attempts: u32,
    pub(crate) claim_token: Uuid,
}

/// How a delivery attempt ended, to record on the claimed row.
#[derive(Clone, Debug)]
pub(crate) enum Outcome {
    Sent { address: String },
    RetryAt { error: String, at: DateTime<Utc> },
    Failed { error: String },
}

/// Inserts `messages` in the caller's transaction; an id already present is left alone,
/// so replaying events never yields a second message. Returns how many rows were new.
pub async fn insert_messages(tx: &mut Tx, messages: &[NewMessage]) -> Result<u64, MailError> {
    sql::insert(tx, messages).await
}

/// The outbox on a database: listing, operator retries, and the workers' claims.
#[derive(Clone, Debug)]
pub struct Outbox {
    db: Database,
}

impl Outbox {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Messages matching `filter`, newest first.
    pub async fn list(&self, filter: &ListFilter) -> Result<Vec<OutboxEntry>, MailError> {
        sql::list(&self.db, filter).await
    }

    /// How many messages are in each status, counted by the database (no listing cap).
    pub async fn counts(&self) -> Result<Vec<(MessageStatus, i64)>, MailError> {
        sql::counts(&self.db).await
    }

    /// One message, if it exists.
    pub async fn get(&self, id: EmailId) -> Result<Option<OutboxEntry>, MailError> {
        sql::get(&self.db, id).await
    }

    /// Puts a failed message back in the queue with a fresh retry budget, due `now`.
    #[tracing::instrument(skip_all, fields(email.id = %id), err)]
    pub async fn retry_failed(&self, id: EmailId, now: DateTime<Utc>) -> Result<(), MailError> {
        if sql::retry_failed(&self.db, id, now).await? {
            return Ok(());
        }
        match self.get(id).await? {
            None => Err(MailError::NotFound { id }),
            Some(entry) => Err(MailError::NotFailed {
                id,
                status: entry.status,
            }),
        }
    }

    /// Claims up to `limit` due messages for `lease`: pending ones whose time has come and
    /// sending ones whose worker let the lease lapse. Concurrent claimers never get the
    /// same message (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: one writer at a time).
    pub async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<ClaimedMessage>, MailError> {
        let lease = chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
        let until = now
            .checked_add_signed(lease)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        claim::claim(&self.db, now, until, limit).await
    }

    /// Records the outcome of an attempt; `false` if the claim was lost meanwhile (the
    /// lease lapsed and another worker claimed the message).
    pub(crate) async fn record(
        &self,
        message: &ClaimedMessage,
        outcome: &Outcome,
        now: DateTime<Utc>,
    ) -> Result<bool, MailError> {
        sql::record(&self.db, message, outcome, now).await
    }
}

/// A stored value that does not parse back.
pub(crate) fn invalid(id: &str, what: &str, error: impl fmt::Display) -> MailError {
    MailError::InvalidRow {
        id: id.to_owned(),
        reason: format!("{what}: {error}"),
    }
}
