//! Recently authenticated bearer tokens, so a request costs one database query, not two.
//!
//! An entry is trusted only while this process hears of every revocation: on PostgreSQL
//! from the moment [`crate::revocations`] listens for them (each revocation notifies in its
//! transaction) until its connection drops. Every revocation it hears, and every change of
//! that state, starts a new *generation*: the cache is emptied, and a lookup that began in
//! an older generation is not remembered, so an entry never outlives a revocation it raced
//! with. On SQLite (one machine; the command line revokes from a process of its own) there
//! are no notifications, so nothing is cached. Only valid tokens are cached, keyed by their
//! hash, so the plaintext is not kept. Entries also expire after the TTL given to
//! [`Authenticator::new`](crate::Authenticator::new).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::users::User;

#[derive(Debug)]
pub(crate) struct TokenCache {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<Entries>,
    /// The generation, for those who must act on a revocation (open event streams).
    revocations: watch::Sender<u64>,
}

#[derive(Debug, Default)]
struct Entries {
    generation: u64,
    /// Whether revocations are heard right now (else nothing is remembered).
    live: bool,
    tokens: HashMap<String, (Instant, User)>,
}

/// The generation a lookup began in; see [`TokenCache::remember`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Generation(u64);

impl TokenCache {
    pub(crate) fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity,
            entries: Mutex::default(),
            revocations: watch::Sender::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The user of the token with this hash, if it was authenticated less than a TTL ago.
    pub(crate) fn get(&self, hash: &str) -> Option<User> {
        let entries = self.lock();
        if !entries.live {
            return None;
        }
        let (checked, user) = entries.tokens.get(hash)?;
        (checked.elapsed() < self.ttl).then(|| user.clone())
    }

    /// Call before looking a token up in the database; pass it to [`Self::remember`].
    pub(crate) fn generation(&self) -> Generation {
        Generation(self.lock().generation)
    }

    /// Remembers a token looked up in `generation`, unless a revocation (or a lapse in
    /// hearing them) came in since: then the lookup may predate it and is not kept.
    pub(crate) fn remember(&self, hash: String, user: User, generation: Generation) {
        if self.ttl.is_zero() || self.capacity == 0 {
            return;
        }
        let mut entries = self.lock();
        if !entries.live || entries.generation != generation.0 {
            return;
        }
        if entries.tokens.len() >= self.capacity {
            let ttl = self.ttl;
            entries
                .tokens
                .retain(|_, (checked, _)| checked.elapsed() < ttl);
            if entries.tokens.len() >= self.capacity {
                entries.tokens.clear();
            }
        }
        entries.tokens.insert(hash, (Instant::now(), user));
    }

    /// A token was revoked (here or in another process): forget every token, and tell the
    /// open event streams to check theirs.
    pub(crate) fn revoked(&self) {
        self.next_generation(None);
    }

    /// Revocations are heard from now on (`true`), or may be missed (`false`).
    pub(crate) fn set_live(&self, live: bool) {
        self.next_generation(Some(live));
    }

    fn next_generation(&self, live: Option<bool>) {
        let generation = {
            let mut entries = self.lock();
            entries.generation += 1;
            entries.tokens.clear();
            if let Some(live) = live {
                entries.live = live;
            }
            entries.generation
        };
        self.revocations.send_replace(generation);
    }

    /// Changes whenever a token may have been revoked.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.revocations.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use freshet_domain::UserId;

    use super::*;

    fn user(name: &str) -> User {
        User {
            id: UserId::from_uuid(uuid::Uuid::now_v7()),
            name: name.to_owned(),
            email: format!("{name}@example.com"),
            admin: false,
            created_at: Utc::now(),
            created_by: None,
            deactivated_at: None,
            deactivated_by: None,
        }
    }

    fn live(ttl: Duration, capacity: usize) -> TokenCache {
        let cache = TokenCache::new(ttl, capacity);
        cache.set_live(true);
        cache
    }

    fn remember(cache: &TokenCache, hash: &str, name: &str) {
        cache.remember(hash.into(), user(name), cache.generation());
    }

    #[test]
    fn entries_expire_after_the_ttl_and_a_revocation_forgets_all() {
        let cache = live(Duration::from_millis(50), 10);
        remember(&cache, "a", "ana");
        assert_eq!(cache.get("a").map(|u| u.name), Some("ana".to_owned()));
        assert!(cache.get("b").is_none());
        std::thread::sleep(Duration::from_millis(60));
        assert!(cache.get("a").is_none(), "an entry outlived its TTL");

        remember(&cache, "a", "ana");
        cache.revoked();
        assert!(cache.get("a").is_none());
    }

    #[test]
    fn a_lookup_that_raced_with_a_revocation_is_not_remembered() {
        let cache = live(Duration::from_secs(60), 10);
        let before = cache.generation();
        // The database said "valid", then a revocation came in before the answer is kept.
        cache.revoked();
        cache.remember("a".into(), user("ana"), before);
        assert!(cache.get("a").is_none(), "a stale lookup was cached");
    }

    #[test]
    fn nothing_is_cached_while_revocations_are_not_heard() {
        let cache = TokenCache::new(Duration::from_secs(60), 10);
        remember(&cache, "a", "ana");
        assert!(cache.get("a").is_none(), "cached before listening");
        cache.set_live(true);
        remember(&cache, "a", "ana");
        assert!(cache.get("a").is_some());
        let during = cache.generation();
        cache.set_live(false);
        assert!(cache.get("a").is_none(), "kept after the listener dropped");
        cache.set_live(true);
        cache.remember("b".into(), user("ben"), during);
        assert!(cache.get("b").is_none(), "a lookup of the lapse was cached");
    }

    #[test]
    fn a_full_cache_stays_within_its_capacity_and_a_zero_ttl_caches_nothing() {
        let cache = live(Duration::from_secs(60), 3);
        for i in 0..10 {
            remember(&cache, &format!("t{i}"), "ana");
            let len = cache.lock().tokens.len();
            assert!(len <= 3, "{len} entries in a cache of 3");
        }
        assert!(cache.get("t9").is_some(), "the newest entry is kept");

        let off = live(Duration::ZERO, 10);
        remember(&off, "a", "ana");
        assert!(off.get("a").is_none());
    }
}
