//! Who a bearer token belongs to, for any front end that authenticates (the HTTP API, the
//! web app): a lookup through this process's short-lived cache of authenticated tokens
//! ([`crate::cache`]), kept honest by the revocation listener ([`crate::revocations`]), so
//! a request costs one database query, not two, and a revocation applies at once.

use std::sync::Arc;
use std::time::Duration;

use freshet_store::Database;
use tokio::sync::watch;

use crate::cache::TokenCache;
use crate::revocations::{self, ListenerTask};
use crate::tokens::{self, is_token_shaped, token_hash};
use crate::{AccountError, Deactivation, User, users};
use freshet_domain::UserId;
use uuid::Uuid;

/// A token that authenticated: its user, and the token's hash (to check it again later).
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: User,
    pub token_hash: String,
}

/// Authenticates bearer tokens through a cache. On PostgreSQL it listens for revocations in
/// the background (until dropped), so it must be created inside a Tokio runtime; on SQLite
/// it caches nothing (see [`crate::cache`]).
#[derive(Debug)]
pub struct Authenticator {
    db: Database,
    cache: Arc<TokenCache>,
    _revocations: Option<ListenerTask>,
}

impl Authenticator {
    /// Remembers up to `capacity` tokens for `ttl` each; a zero `ttl` caches nothing.
    pub fn new(db: Database, ttl: Duration, capacity: usize) -> Self {
        let cache = Arc::new(TokenCache::new(ttl, capacity));
        // SQLite has no notifications: its cache stays off.
        let revocations = match &db {
            Database::Postgres(pool) => Some(revocations::spawn(pool.clone(), Arc::clone(&cache))),
            Database::Sqlite(_) => None,
        };
        Self {
            db,
            cache,
            _revocations: revocations,
        }
    }

    /// The active user holding this unrevoked plaintext `token`, if any. A value without
    /// the shape of a token is refused without a lookup.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Authenticated>, AccountError> {
        if !is_token_shaped(token) {
            return Ok(None);
        }
        let hash = token_hash(token);
        if let Some(user) = self.cache.get(&hash) {
            return Ok(Some(Authenticated {
                user,
                token_hash: hash,
            }));
        }
        let generation = self.cache.generation();
        let Some(user) = tokens::authenticate(&self.db, &hash).await? else {
            return Ok(None);
        };
        self.cache.remember(hash.clone(), user.clone(), generation);
        Ok(Some(Authenticated {
            user,
            token_hash: hash,
        }))
    }

    /// Revokes a token ([`tokens::revoke`]) and forgets this process's cached tokens at
    /// once, also when the revocation failed half-way (forgetting costs one lookup per
    /// token); other processes hear of it (PostgreSQL).
    pub async fn revoke(&self, token: Uuid, by: Option<UserId>) -> Result<(), AccountError> {
        let revoked = tokens::revoke(&self.db, token, by).await;
        self.cache.revoked();
        revoked
    }

    /// Deactivates a user ([`users::deactivate`]) and forgets this process's cached tokens
    /// at once, like [`Self::revoke`].
    pub async fn deactivate(
        &self,
        user: UserId,
        by: Option<UserId>,
    ) -> Result<Deactivation, AccountError> {
        let deactivated = users::deactivate(&self.db, user, by).await;
        self.cache.revoked();
        deactivated
    }

    /// Changes whenever a token may have been revoked (here or, on PostgreSQL, in any
    /// process): whoever keeps a token in use (an open event stream) checks it again with
    /// [`tokens::authenticate`], which never asks the cache.
    pub fn revocations(&self) -> watch::Receiver<u64> {
        self.cache.subscribe()
    }
}
