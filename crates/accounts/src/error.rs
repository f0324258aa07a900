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
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}
