//! Messages about a person's account rather than a portfolio: invitations and password
//! resets (asked for by the accounts crate) and the daily digest (written by the
//! automation's digest). They have no portfolio, no source event and no domain `Email`;
//! the delivery worker sends them like any other message.

use chrono::{DateTime, Utc};
use freshet_domain::{EmailId, UserId};
use freshet_store::Tx;

use crate::error::MailError;
use crate::render::Rendered;

/// What an account message is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AccountMessageKind {
    /// A link to choose a first password (a one-time secret).
    Invitation,
    /// A link to choose a new password (a one-time secret).
    PasswordReset,
    /// The morning list of a person's overdue and due-today tasks.
    Digest,
}

impl AccountMessageKind {
    /// The `kind` stored in the outbox and shown by its listing.
    pub fn code(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::PasswordReset => "password_reset",
            Self::Digest => "daily_digest",
        }
    }

    /// Whether the message's body holds a secret link: such bodies are cleared once sent
    /// (see `sql::record`), and never listed.
    pub fn carries_secret(self) -> bool {
        matches!(self, Self::Invitation | Self::PasswordReset)
    }
}

/// An account message to insert.
#[derive(Clone, Debug)]
pub struct NewAccountMessage {
    /// The caller's id for the message: a retry of the same request, or a second worker
    /// writing the same digest, gives the same id and adds nothing.
    pub id: EmailId,
    pub recipient: UserId,
    pub kind: AccountMessageKind,
    pub rendered: Rendered,
    /// The message's creation time and first due time.
    pub created_at: DateTime<Utc>,
}

/// Inserts `message` in the caller's transaction; `false` when a message with its id exists
/// already (that one is kept as it is).
pub async fn insert_account_message(
    tx: &mut Tx,
    message: &NewAccountMessage,
) -> Result<bool, MailError> {
    super::sql::insert_account(tx, message).await
}
