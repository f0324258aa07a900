//! What can go wrong with an account: the caller's input, the state of the account, or the
//! database. The HTTP API maps each to its problem document (`freshet_api::ApiError`).

use freshet_domain::UserId;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("the name must be 1 to 200 characters on one line")]
    InvalidName,
    #[error("a token's label must be 1 to 200 characters on one line")]
    InvalidLabel,
    #[error("\"{0}\" is not an email address")]
    InvalidEmail(String),
    #[error("a user with the email address {0} already exists")]
    EmailTaken(String),
    #[error("no user {0}")]
    UnknownUser(UserId),
    #[error("no token {0}")]
    UnknownToken(Uuid),
    #[error("user {0} is deactivated")]
    Deactivated(UserId),
    #[error("an Admin cannot deactivate themselves")]
    DeactivatesItself,
    #[error("no user with the email address {0}")]
    UnknownEmail(String),
    /// The password does not meet the rules; the text says which.
    #[error("{0}")]
    WeakPassword(String),
    /// The email address and password do not match an active person's (which of the
    /// two is wrong, or whether the address exists, is never told).
    #[error("that email address and password do not match")]
    WrongCredentials,
    /// A one-time link that does not work: used, expired, unknown, or its person deactivated.
    #[error("this link has expired or has already been used")]
    LinkInvalid,
    #[error("user {0} has already chosen a password")]
    AlreadySignedUp(UserId),
    /// "Invite again" moments after the last invitation: its link is on its way and works.
    /// `retry_after`: how long until inviting again is accepted, in whole seconds.
    #[error(
        "this person was invited less than a minute ago and the link in that email works, \
         so no new one was sent; if it does not arrive, try again in {} s",
        retry_after.num_seconds().max(1)
    )]
    InvitedMomentsAgo { retry_after: chrono::TimeDelta },
    #[error("the password could not be hashed")]
    Hashing,
    #[error(transparent)]
    Mail(#[from] freshet_mail::MailError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}
