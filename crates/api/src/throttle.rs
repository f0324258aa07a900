//! Slowing down guessing: an address whose credentials failed
//! [`ApiOptions::auth_failure_limit`](crate::ApiOptions) times, each failure within
//! [`ApiOptions::auth_failure_window`](crate::ApiOptions) of the one before, is answered
//! `429` with `Retry-After` until a window passes without a counted failure. While it is
//! held back its credentials are not even looked up: a right guess is refused like a wrong
//! one, and the guessing costs the database nothing.
//!
//! What counts is a *different* wrong credential: the same stale token sent again and again
//! (a reconnecting browser tab) is refused at once and counted once, so it cannot lock its
//! office out. An attempt counts from its start, so requests sent at once cannot pass the
//! limit together. Only requests that present credentials are counted or held back. One
//! IPv6 host is its /64. Counts are per process: behind N API processes an address gets N
//! times the limit before all of them hold it back.
//!
//! Behind a reverse proxy every request comes from the proxy's address; with
//! [`ApiOptions::trust_forwarded_for`](crate::ApiOptions) the client's address is the last
//! one of `X-Forwarded-For`, the one the proxy itself appended.

use std::hash::{BuildHasher, Hash, RandomState};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use moka::ops::compute::{CompResult, Op};
use moka::sync::Cache;

/// Failed attempts counted per key (an address today; an account too, once people sign in
/// with passwords). An attempt counts from the moment it starts, so requests sent at once
/// cannot slip past the limit together; one that does not fail is taken back. The count of
/// a key is forgotten a window after its last counted attempt.
#[derive(Debug)]
pub(crate) struct FailureThrottle<K: Hash + Eq + Send + Sync + 'static> {
    attempts: Cache<K, u32>,
    /// Credentials (by a keyed hash) that already failed from a key: sending one again
    /// guesses nothing new (a stale token in a reconnecting tab), so it is refused at once
    /// and not counted again.
    failed: Cache<(K, u64), ()>,
    hasher: RandomState,
    limit: u32,
    window: Duration,
}

/// Why an attempt is not even looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The key failed `limit` times of late: try again in `retry_after`.
    HeldBack { retry_after: Duration },
    /// This very credential already failed from this key.
    AlreadyFailed,
}

/// An attempt under way, counted for its key. [`Attempt::failed`] keeps it counted; dropped
/// otherwise (it succeeded, or could not be decided), it is taken back.
#[derive(Debug)]
pub(crate) struct Attempt<'a, K: Hash + Eq + Clone + Send + Sync + 'static> {
    throttle: &'a FailureThrottle<K>,
    key: K,
    /// The credential's keyed hash; `None` when each attempt counts, whatever it presents.
    credential: Option<u64>,
    failed: bool,
}

/// Keys tracked at once; beyond it the least recently used are forgotten first.
const CAPACITY: u64 = 100_000;

impl<K: Hash + Eq + Clone + Send + Sync + 'static> FailureThrottle<K> {
    pub(crate) fn new(limit: u32, window: Duration) -> Self {
        Self {
            // A write (each counted attempt) restarts the window.
            attempts: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(window)
                .build(),
            failed: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(window)
                .build(),
            hasher: RandomState::new(),
            limit,
            window,
        }
    }

    /// Starts an attempt of `key` with `credential`, unless the key is held back or the
    /// credential already failed from it. A refused attempt does not extend the hold.
    pub(crate) fn attempt(&self, key: K, credential: &str) -> Result<Attempt<'_, K>, Refused> {
        let credential = self.hasher.hash_one(credential);
        if self.failed.contains_key(&(key.clone(), credential)) {
            return Err(Refused::AlreadyFailed);
        }
        self.count(key, Some(credential))
    }

    /// Starts an attempt of `key` that counts whatever it presents (a password typed again
    /// may be typed right this time), unless the key is held back.
    pub(crate) fn attempt_each(&self, key: K) -> Result<Attempt<'_, K>, Refused> {
        self.count(key, None)
    }

    fn count(&self, key: K, credential: Option<u64>) -> Result<Attempt<'_, K>, Refused> {
        let limit = self.limit;
        let counted = self.attempts.entry_by_ref(&key).and_compute_with(|entry| {
            let count = entry.map_or(0, |entry| entry.into_value());
            if count >= limit {
                Op::Nop
            } else {
                Op::Put(count + 1)
            }
        });
        match counted {
            CompResult::Unchanged(_) | CompResult::StillNone(_) => Err(Refused::HeldBack {
                retry_after: self.window,
            }),
            _ => Ok(Attempt {
                throttle: self,
                key,
                credential,
                failed: false,
            }),
        }
    }

    fn take_back(&self, key: &K) {
        self.attempts.entry_by_ref(key).and_compute_with(|entry| {
            match entry.map(|entry| entry.into_value()) {
                Some(count) if count > 1 => Op::Put(count - 1),
                Some(_) => Op::Remove,
                None => Op::Nop,
            }
        });
    }
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static> Attempt<'_, K> {
    /// The credential was wrong: the attempt stays counted, and the same credential from
    /// the same key is refused at once from now on.
    pub(crate) fn failed(mut self) {
        self.failed = true;
        if let Some(credential) = self.credential {
            self.throttle
                .failed
                .insert((self.key.clone(), credential), ());
        }
    }
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static> Drop for Attempt<'_, K> {
    fn drop(&mut self) {
        if !self.failed {
            self.throttle.take_back(&self.key);
        }
    }
}

/// Failed sign-ins counted per account (its email address, lowercased) and per address.
/// An account held back cannot be signed in to from anywhere for a window: a guesser
/// spreading over many addresses gains nothing, at the price that someone could keep a
/// person's sign-in blocked; they can still reset their password, which signs them in. An
/// address may fail [`ADDRESS_FACTOR`] times as often, since a whole office may sign in
/// from one (a NAT), typos and all.
#[derive(Debug)]
pub struct SignInThrottle {
    by_address: FailureThrottle<IpAddr>,
    by_account: FailureThrottle<String>,
}

/// A sign-in under way; [`SignInAttempt::failed`] keeps it counted.
#[derive(Debug)]
pub struct SignInAttempt<'a> {
    address: Option<Attempt<'a, IpAddr>>,
    account: Attempt<'a, String>,
}

/// How many more failures an address may have than an account.
pub const ADDRESS_FACTOR: u32 = 10;

impl SignInThrottle {
    /// `limit` failures per account; [`ADDRESS_FACTOR`] times as many per address.
    pub(crate) fn new(limit: u32, window: Duration) -> Self {
        Self {
            by_address: FailureThrottle::new(limit.saturating_mul(ADDRESS_FACTOR), window),
            by_account: FailureThrottle::new(limit, window),
        }
    }

    /// Starts a sign-in to `email` from `address`, unless either is held back: then how
    /// long to wait.
    pub fn attempt(
        &self,
        address: Option<IpAddr>,
        email: &str,
    ) -> Result<SignInAttempt<'_>, Duration> {
        let held_back = |refused| match refused {
            Refused::HeldBack { retry_after } => retry_after,
            Refused::AlreadyFailed => self.by_account.window,
        };
        let address = address
            .map(|address| self.by_address.attempt_each(counted_as(address)))
            .transpose()
            .map_err(held_back)?;
        let account = self
            .by_account
            .attempt_each(email.trim().to_lowercase())
            .map_err(held_back)?;
        Ok(SignInAttempt { address, account })
    }
}

impl SignInAttempt<'_> {
    /// The email address and password did not match: both counts keep the attempt.
    pub fn failed(self) {
        if let Some(address) = self.address {
            address.failed();
        }
        self.account.failed();
    }
}

/// One IPv6 host usually holds a whole /64: its addresses count as one.
fn counted_as(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(v6.to_bits() & !u128::from(u64::MAX))),
        },
        v4 => v4,
    }
}

/// The address a request came from: the peer of its connection, or behind a trusted proxy
/// the last address of `X-Forwarded-For`. `None` for a request that did not come through a
/// listener (a test calling the router directly).
pub fn client_address(parts: &Parts, trust_forwarded_for: bool) -> Option<IpAddr> {
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
        return Some(counted_as(forwarded));
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| counted_as(peer.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_secs(60);

    fn fail(throttle: &FailureThrottle<IpAddr>, address: IpAddr, credential: &str) {
        throttle
            .attempt(address, credential)
            .expect("not held back")
            .failed();
    }

    #[test]
    fn an_address_is_held_back_after_its_limit_of_failures_and_others_are_not() {
        let throttle = FailureThrottle::new(3, WINDOW);
        let guesser: IpAddr = [192, 0, 2, 1].into();
        let neighbour: IpAddr = [192, 0, 2, 2].into();
        for guess in ["a", "b", "c"] {
            fail(&throttle, guesser, guess);
        }
        assert_eq!(
            throttle.attempt(guesser, "d").err(),
            Some(Refused::HeldBack {
                retry_after: WINDOW
            })
        );
        assert!(throttle.attempt(neighbour, "d").is_ok());
    }

    #[test]
    fn attempts_sent_at_once_cannot_pass_the_limit_together() {
        let throttle = FailureThrottle::new(3, WINDOW);
        let guesser: IpAddr = [192, 0, 2, 1].into();
        let started: Vec<_> = (0..10)
            .map(|n| throttle.attempt(guesser, &n.to_string()))
            .collect();
        assert_eq!(started.iter().filter(|attempt| attempt.is_ok()).count(), 3);
    }

    #[test]
    fn attempts_that_do_not_fail_are_taken_back() {
        let throttle = FailureThrottle::new(3, WINDOW);
        let client: IpAddr = [192, 0, 2, 1].into();
        for _ in 0..100 {
            drop(throttle.attempt(client, "right").expect("never held back"));
        }
    }

    #[test]
    fn the_same_wrong_credential_counts_once_and_is_refused_at_once() {
        let throttle = FailureThrottle::new(3, WINDOW);
        let office: IpAddr = [192, 0, 2, 1].into();
        fail(&throttle, office, "revoked");
        for _ in 0..100 {
            assert_eq!(
                throttle.attempt(office, "revoked").err(),
                Some(Refused::AlreadyFailed)
            );
        }
        // The rest of the office still gets in.
        assert!(throttle.attempt(office, "right").is_ok());
    }

    #[test]
    fn failures_are_forgotten_a_window_after_the_last_one() {
        let throttle = FailureThrottle::new(1, Duration::from_millis(200));
        let guesser: IpAddr = [192, 0, 2, 1].into();
        fail(&throttle, guesser, "a");
        assert!(throttle.attempt(guesser, "b").is_err());
        std::thread::sleep(Duration::from_millis(600));
        assert!(throttle.attempt(guesser, "b").is_ok());
    }

    #[test]
    fn each_failure_restarts_the_window() {
        let throttle = FailureThrottle::new(3, Duration::from_secs(2));
        let guesser: IpAddr = [192, 0, 2, 1].into();
        for guess in ["a", "b", "c"] {
            fail(&throttle, guesser, guess);
            std::thread::sleep(Duration::from_millis(700));
        }
        // 2.1 s after the first failure, 0.7 s after the last: all three still count.
        assert!(throttle.attempt(guesser, "d").is_err());
    }

    #[test]
    fn an_ipv6_host_counts_as_its_64_block() {
        let one: IpAddr = "2001:db8:1:2::1".parse().expect("an address");
        let other: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("an address");
        let elsewhere: IpAddr = "2001:db8:1:3::1".parse().expect("an address");
        assert_eq!(counted_as(one), counted_as(other));
        assert_ne!(counted_as(one), counted_as(elsewhere));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().expect("an address");
        assert_eq!(counted_as(mapped), IpAddr::from([192, 0, 2, 1]));
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
