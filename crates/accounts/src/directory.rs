//! The mail outbox's address book: each user's name and address from the users table.

use async_trait::async_trait;
use freshet_domain::UserId;
use freshet_mail::{Directory, Mailbox};
use freshet_store::Database;

use crate::users;

/// The mail outbox's [`Directory`] backed by the users table.
#[derive(Debug, Clone)]
pub struct UserDirectory {
    db: Database,
}

impl UserDirectory {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl Directory for UserDirectory {
    async fn address(&self, user: UserId) -> Option<Mailbox> {
        match users::get(&self.db, user).await {
            Ok(Some(user)) => {
                let mut mailbox: Mailbox = user.email.parse().ok()?;
                mailbox.name = Some(user.name);
                Some(mailbox)
            }
            Ok(None) => None,
            Err(error) => {
                tracing::warn!(user.id = %user, error = %error, "could not look up a user's address");
                None
            }
        }
    }
}
