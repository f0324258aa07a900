//! What can go wrong in the outbox, and what one delivery attempt can answer.

use freshet_domain::{EmailId, UserId};
use freshet_follower::UndecodableEvent;
use freshet_store::StoreError;

use crate::outbox::MessageStatus;

/// Errors of the outbox itself (database, templates, configuration, operator requests).
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("unknown SMTP security {value:?} (expected starttls, tls or plain)")]
    UnknownSecurity { value: String },
    #[error("the SMTP transport could not be set up")]
    Transport(#[source] lettre::transport::smtp::Error),
    #[error("the mail templates could not be loaded or rendered")]
    Template(#[from] minijinja::Error),
    #[error("reading the event log failed")]
    Store(#[from] StoreError),
    #[error("a stored event could not be decoded")]
    Decode(#[from] UndecodableEvent),
    #[error("outbox database error")]
    Database(#[from] sqlx::Error),
    #[error("outbox row {id} is unreadable: {reason}")]
    InvalidRow { id: String, reason: String },
    #[error("no outbox message {id}")]
    NotFound { id: EmailId },
    #[error("outbox message {id} is {status}, not failed: only failed messages can be retried")]
    NotFailed { id: EmailId, status: MessageStatus },
    #[error("{value:?} is not a usable public URL: {reason}")]
    InvalidPublicUrl { value: String, reason: &'static str },
    #[error("unknown outbox status {value:?}")]
    UnknownStatus { value: String },
    #[error("an EmailRequested event in stream {stream}, which is not a portfolio's")]
    NotAPortfolioStream { stream: String },
}

/// Why one delivery attempt did not go through; its text is stored as the last error.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("no email address is known for user {user}")]
    NoAddress { user: UserId },
    #[error("the message could not be built: {0}")]
    Build(#[from] lettre::error::Error),
    /// The SMTP server's answer (code and text), or the connection failure.
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("the SMTP server did not finish the exchange within {after:?}")]
    TimedOut { after: std::time::Duration },
    #[error("writing the .eml file failed: {0}")]
    File(#[from] std::io::Error),
}

impl DeliveryError {
    /// An attempt that cannot succeed by waiting: the message fails at once.
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::NoAddress { .. } | Self::Build(_))
    }
}
