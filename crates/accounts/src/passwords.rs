//! Passwords: at least [`MIN_LENGTH`] characters, no composition rules, and not one of the
//! commonest passwords (NIST SP 800-63B's advice). Stored only as an Argon2id hash in PHC
//! form (`password-auth`, with its OWASP parameters); hashing and checking take tens of
//! milliseconds of CPU on purpose, so they run on the blocking pool, never on a request's
//! executor thread.

use std::fmt;
use std::sync::LazyLock;

use secrecy::{ExposeSecret as _, SecretString};
use tokio::sync::Semaphore;

use crate::AccountError;

/// Fewer characters than this and a password is refused.
pub const MIN_LENGTH: usize = 10;
/// More than this is refused too: a hash of megabytes would be a denial of service.
pub const MAX_LENGTH: usize = 256;

/// The commonest passwords at least [`MIN_LENGTH`] long (shorter ones fail the length rule),
/// lowercase, one per line.
static COMMON: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    include_str!("common_passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
});

/// A password that meets the rules. Its `Debug` never shows it.
pub struct Password(SecretString);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

impl Password {
    /// Checks `candidate` against the rules; the error says which one it fails.
    pub fn parse(candidate: &str) -> Result<Self, AccountError> {
        let length = candidate.chars().count();
        if length < MIN_LENGTH {
            return Err(AccountError::WeakPassword(format!(
                "a password needs at least {MIN_LENGTH} characters"
            )));
        }
        if length > MAX_LENGTH {
            return Err(AccountError::WeakPassword(format!(
                "a password may have at most {MAX_LENGTH} characters"
            )));
        }
        let lowered = candidate.to_lowercase();
        if COMMON.binary_search(&lowered.as_str()).is_ok() || is_one_repeated(&lowered) {
            return Err(AccountError::WeakPassword(
                "that password is one of the commonest; choose another".into(),
            ));
        }
        Ok(Self(candidate.to_owned().into()))
    }

    /// The password's Argon2id hash (PHC string), computed on the blocking pool.
    pub(crate) async fn hash(&self) -> Result<String, AccountError> {
        let password = self.0.clone();
        hashing(move || password_auth::generate_hash(password.expose_secret())).await
    }
}

/// Whether `plaintext` matches `hash`, checked on the blocking pool. Without a hash (an
/// unknown address, or someone who has not chosen a password yet) a dummy hash is checked,
/// so the answer takes as long either way and timing does not tell who has an account.
pub(crate) async fn verify(plaintext: &str, hash: Option<&str>) -> Result<bool, AccountError> {
    let known = hash.is_some();
    let hash = hash.map(str::to_owned);
    let plaintext = SecretString::from(plaintext.to_owned());
    let matches = hashing(move || {
        let hash = hash.as_deref().unwrap_or(&DUMMY_HASH);
        password_auth::verify_password(plaintext.expose_secret(), hash).is_ok()
    })
    .await?;
    Ok(known && matches)
}

/// Hashes computed at once, in this process: each takes tens of milliseconds of a core and
/// about 19 MiB of memory, so a burst of sign-ins waits its turn instead of exhausting
/// the memory (or the blocking pool).
static HASHING: LazyLock<Semaphore> = LazyLock::new(|| {
    Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get))
});

/// Runs `work` (a hash or a check) on the blocking pool, at most one per core at once.
async fn hashing<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AccountError> {
    let _turn = HASHING.acquire().await.map_err(|_| AccountError::Hashing)?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| AccountError::Hashing)
}

/// A hash of a random password, checked when there is no real hash to check. (First
/// computed on the blocking pool, inside [`verify`].)
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let random: [u8; 16] = rand::random();
    password_auth::generate_hash(random)
});

/// `aaaaaaaaaa`, `1111111111`: one character repeated.
fn is_one_repeated(password: &str) -> bool {
    let mut chars = password.chars();
    let first = chars.next();
    chars.all(|c| Some(c) == first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_list_is_sorted_lowercase_and_long_enough_to_matter() {
        assert!(
            COMMON.windows(2).all(|pair| pair[0] < pair[1]),
            "sorted, no repeats"
        );
        assert!(COMMON.iter().all(|p| p.chars().count() >= MIN_LENGTH));
        assert!(COMMON.iter().all(|p| p.to_lowercase() == *p));
    }

    #[test]
    fn short_common_and_repeated_passwords_are_refused_with_the_rule_they_fail() {
        let refused = |candidate: &str| match Password::parse(candidate) {
            Err(AccountError::WeakPassword(reason)) => reason,
            other => panic!("{candidate:?} was not refused: {other:?}"),
        };
        assert!(refused("short").contains("at least 10"));
        assert!(refused("Password123").contains("commonest"));
        assert!(refused("QWERTYUIOP").contains("commonest"));
        assert!(refused("zzzzzzzzzzzz").contains("commonest"));
        assert!(refused(&"x".repeat(300)).contains("at most"));
        // Length counts characters, not bytes.
        assert!(refused("ééééé").contains("at least 10"));
    }

    #[test]
    fn a_long_uncommon_password_is_accepted_whatever_its_characters() {
        for candidate in ["correct horse battery", "bluetrainmonday", "Ünïcödé-ist-ok"] {
            assert!(Password::parse(candidate).is_ok(), "{candidate}");
        }
    }

    #[test]
    fn debug_never_shows_the_password() {
        let password = Password::parse("correct horse battery").expect("valid");
        assert!(!format!("{password:?}").contains("horse"));
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_no_other() {
        let password = Password::parse("correct horse battery").expect("valid");
        let hash = password.hash().await.expect("hashed");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(
            verify("correct horse battery", Some(&hash))
                .await
                .expect("checked")
        );
        assert!(
            !verify("correct horse batterY", Some(&hash))
                .await
                .expect("checked")
        );
        assert!(
            !verify("correct horse battery", None)
                .await
                .expect("checked")
        );
    }
}
