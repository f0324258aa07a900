//! Who a user is by email. Users are not in the database yet (the API's users table will
//! bring names and addresses); until then the outbox asks a [`Directory`].

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;
use freshet_domain::UserId;
use lettre::message::Mailbox;

/// Resolves a user to a display name and an email address.
#[async_trait]
pub trait Directory: Send + Sync + std::fmt::Debug {
    /// The user's mailbox, or `None` when no address is known (the message then fails with
    /// a clear error and can be retried once the address exists).
    async fn address(&self, user: UserId) -> Option<Mailbox>;
}

/// A directory held in memory: for tests, demos and the embedded default.
#[derive(Clone, Debug, Default)]
pub struct InMemoryDirectory {
    entries: Arc<RwLock<HashMap<UserId, Mailbox>>>,
}

impl InMemoryDirectory {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces the user's mailbox.
    pub fn insert(&self, user: UserId, mailbox: Mailbox) {
        self.entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(user, mailbox);
    }

    /// Builder form of [`insert`](Self::insert).
    pub fn with(self, user: UserId, mailbox: Mailbox) -> Self {
        self.insert(user, mailbox);
        self
    }
}

#[async_trait]
impl Directory for InMemoryDirectory {
    async fn address(&self, user: UserId) -> Option<Mailbox> {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&user)
            .cloned()
    }
}
