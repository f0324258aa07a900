//! Recently authenticated bearer tokens, so a request costs one database query, not two.
//!
//! An entry lives for [`ApiOptions::token_cache_ttl`](crate::ApiOptions): a token revoked
//! through this process stops working at once (the revocation clears the cache); one revoked
//! through another process stops working here within the TTL. Only valid tokens are cached,
//! keyed by their hash, so the plaintext is not kept.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::users::User;

#[derive(Debug)]
pub(crate) struct TokenCache {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<String, (Instant, User)>>,
}

impl TokenCache {
    pub(crate) fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity,
            entries: Mutex::default(),
        }
    }

    /// The user of the token with this hash, if it was authenticated less than a TTL ago.
    pub(crate) fn get(&self, hash: &str) -> Option<User> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let (checked, user) = entries.get(hash)?;
        (checked.elapsed() < self.ttl).then(|| user.clone())
    }

    pub(crate) fn remember(&self, hash: String, user: User) {
        if self.ttl.is_zero() || self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity {
            let ttl = self.ttl;
            entries.retain(|_, (checked, _)| checked.elapsed() < ttl);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(hash, (Instant::now(), user));
    }

    /// Forgets every token, e.g. after a revocation.
    pub(crate) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
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
        }
    }

    #[test]
    fn entries_expire_after_the_ttl_and_clear_forgets_all() {
        let cache = TokenCache::new(Duration::from_millis(50), 10);
        cache.remember("a".into(), user("ana"));
        assert_eq!(cache.get("a").map(|u| u.name), Some("ana".to_owned()));
        assert!(cache.get("b").is_none());
        std::thread::sleep(Duration::from_millis(60));
        assert!(cache.get("a").is_none(), "an entry outlived its TTL");

        cache.remember("a".into(), user("ana"));
        cache.clear();
        assert!(cache.get("a").is_none());
    }

    #[test]
    fn a_full_cache_stays_within_its_capacity_and_a_zero_ttl_caches_nothing() {
        let cache = TokenCache::new(Duration::from_secs(60), 3);
        for i in 0..10 {
            cache.remember(format!("t{i}"), user("ana"));
            let len = cache.entries.lock().unwrap().len();
            assert!(len <= 3, "{len} entries in a cache of 3");
        }
        assert!(cache.get("t9").is_some(), "the newest entry is kept");

        let off = TokenCache::new(Duration::ZERO, 10);
        off.remember("a".into(), user("ana"));
        assert!(off.get("a").is_none());
    }
}
