//! Slowing down guessing: an address whose credentials failed
//! [`ApiOptions::auth_failure_limit`](crate::ApiOptions) times, each failure within
//! [`ApiOptions::auth_failure_window`](crate::ApiOptions) of the one before, is answered
//! `429` with `Retry-After` until a whole window passes without an attempt. While it is held
//! back its credentials are not even looked up: a right guess is refused like a wrong one,
//! and the guessing costs the database nothing. Each refused attempt counts as a failure, so
//! an address that keeps trying stays held back. Only requests that present credentials
//! are counted or held back.
//!
//! Behind a reverse proxy every request comes from the proxy's address; with
//! [`ApiOptions::trust_forwarded_for`](crate::ApiOptions) the client's address is the last
//! one of `X-Forwarded-For`, the one the proxy itself appended.

use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use moka::sync::Cache;

/// Failures counted per key (an address today; an account too, once people sign in with
/// passwords). The count of a key is forgotten a window after its last failure.
#[derive(Debug)]
pub(crate) struct FailureThrottle<K: Hash + Eq + Send + Sync + 'static> {
    failures: Cache<K, u32>,
    limit: u32,
    window: Duration,
}

/// The key is held back: try again in `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeldBack {
    pub(crate) retry_after: Duration,
}

/// Keys tracked at once; beyond it the least recently failing are forgotten first.
const CAPACITY: u64 = 100_000;

impl<K: Hash + Eq + Clone + Send + Sync + 'static> FailureThrottle<K> {
    pub(crate) fn new(limit: u32, window: Duration) -> Self {
        Self {
            failures: Cache::builder()
                .max_capacity(CAPACITY)
                // A write (each failure) restarts the window.
                .time_to_live(window)
                .build(),
            limit,
            window,
        }
    }

    /// Refuses a key that has failed `limit` times in a row; the refusal counts as a
    /// failure of its own.
    pub(crate) fn check(&self, key: &K) -> Result<(), HeldBack> {
        if self.failures.get(key).unwrap_or(0) < self.limit {
            return Ok(());
        }
        self.failed(key);
        Err(HeldBack {
            retry_after: self.window,
        })
    }

    /// Counts a failure of `key`.
    pub(crate) fn failed(&self, key: &K) {
        self.failures
            .entry_by_ref(key)
            .and_upsert_with(|entry| entry.map_or(1, |entry| entry.into_value().saturating_add(1)));
    }
}

/// The address a request came from: the peer of its connection, or behind a trusted proxy
/// the last address of `X-Forwarded-For`. `None` for a request that did not come through a
/// listener (a test calling the router directly).
pub(crate) fn client_address(parts: &Parts, trust_forwarded_for: bool) -> Option<IpAddr> {
    if trust_forwarded_for
        && let Some(forwarded) = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .next_back()
            .and_then(|address| address.trim().parse::<IpAddr>().ok())
    {
        return Some(forwarded);
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_held_back_after_its_limit_of_failures_and_others_are_not() {
        let throttle = FailureThrottle::new(3, Duration::from_secs(60));
        let guesser: IpAddr = [192, 0, 2, 1].into();
        let neighbour: IpAddr = [192, 0, 2, 2].into();
        for _ in 0..3 {
            assert_eq!(throttle.check(&guesser), Ok(()));
            throttle.failed(&guesser);
        }
        assert_eq!(
            throttle.check(&guesser),
            Err(HeldBack {
                retry_after: Duration::from_secs(60)
            })
        );
        assert_eq!(throttle.check(&neighbour), Ok(()));
    }

    #[test]
    fn failures_are_forgotten_a_window_after_the_last_one() {
        let throttle = FailureThrottle::new(1, Duration::from_millis(200));
        let guesser: IpAddr = [192, 0, 2, 1].into();
        throttle.failed(&guesser);
        assert!(throttle.check(&guesser).is_err());
        std::thread::sleep(Duration::from_millis(450));
        assert_eq!(throttle.check(&guesser), Ok(()));
    }

    #[test]
    fn each_failure_restarts_the_window() {
        let throttle = FailureThrottle::new(3, Duration::from_millis(300));
        let guesser: IpAddr = [192, 0, 2, 1].into();
        for _ in 0..3 {
            throttle.failed(&guesser);
            std::thread::sleep(Duration::from_millis(150));
        }
        // 450 ms after the first failure, 150 ms after the last: all three still count.
        assert!(throttle.check(&guesser).is_err());
    }

    fn parts(forwarded: Option<&str>, peer: Option<SocketAddr>) -> Parts {
        let mut request = axum::http::Request::builder();
        if let Some(forwarded) = forwarded {
            request = request.header("x-forwarded-for", forwarded);
        }
        let (mut parts, ()) = request.body(()).expect("a request").into_parts();
        if let Some(peer) = peer {
            parts.extensions.insert(ConnectInfo(peer));
        }
        parts
    }

    #[test]
    fn the_forwarded_address_counts_only_behind_a_trusted_proxy() {
        let proxy: SocketAddr = ([10, 0, 0, 5], 41_000).into();
        let spoofed = parts(Some("203.0.113.9, 198.51.100.7"), Some(proxy));
        assert_eq!(
            client_address(&spoofed, true),
            Some([198, 51, 100, 7].into()),
            "the proxy appends the real peer last; earlier entries are the client's to invent"
        );
        assert_eq!(client_address(&spoofed, false), Some(proxy.ip()));
        // The proxy's entry is last; an earlier one must never stand in for it.
        let garbled = parts(Some("203.0.113.9, nonsense"), Some(proxy));
        assert_eq!(client_address(&garbled, true), Some(proxy.ip()));
        assert_eq!(client_address(&parts(None, None), true), None);
    }
}
