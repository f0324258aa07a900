//! How mail leaves Freshet: SMTP (host, port, security, credentials) or `.eml` files in a
//! folder, the From address, and the retry budget. Secrets never reach a log line.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::Mailbox;
use secrecy::SecretString;

/// The folder the embedded default writes `.eml` files to.
pub const DEFAULT_MAIL_DIR: &str = "./freshet-data/mail";

/// Everything the outbox needs to render and deliver messages.
#[derive(Clone, Debug)]
pub struct MailConfig {
    /// The sender of every message, e.g. `Freshet <freshet@agency.example>`.
    pub from: Mailbox,
    pub delivery: Delivery,
    pub retry: RetryPolicy,
}

impl MailConfig {
    /// The embedded default: `.eml` files in [`DEFAULT_MAIL_DIR`], nothing sent.
    pub fn embedded() -> Self {
        Self {
            from: Mailbox::new(
                Some("Freshet".to_owned()),
                lettre::Address::new("freshet", "localhost")
                    .unwrap_or_else(|_| unreachable!("a constant, valid address")),
            ),
            delivery: Delivery::Folder {
                dir: PathBuf::from(DEFAULT_MAIL_DIR),
            },
            retry: RetryPolicy::default(),
        }
    }
}

/// Where messages go.
#[derive(Clone, Debug)]
pub enum Delivery {
    /// Sent through an SMTP server.
    Smtp(SmtpConfig),
    /// Written as `<email-id>.eml` files to a folder (and logged): for a newcomer's machine.
    Folder { dir: PathBuf },
}

/// An SMTP relay.
#[derive(Clone, Debug)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub credentials: Option<SmtpCredentials>,
    /// How long one SMTP exchange (connect to QUIT) may take before it counts as a failed
    /// attempt.
    pub timeout: Duration,
}

impl SmtpConfig {
    /// A plain-text relay on `host:port` without credentials (a local sink or test server).
    pub fn plain(host: impl Into<String>, port: u16) -> Self {
        Self {
            host: host.into(),
            port,
            security: Security::Plain,
            credentials: None,
            timeout: Duration::from_secs(30),
        }
    }
}

/// How the connection to the SMTP server is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// Connect in plain text, then upgrade with STARTTLS (required); usually port 587.
    StartTls,
    /// TLS from the first byte ("SMTPS"); usually port 465.
    Tls,
    /// No encryption at all: only for local sinks and tests.
    Plain,
}

impl std::str::FromStr for Security {
    type Err = crate::MailError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "starttls" => Ok(Self::StartTls),
            "tls" | "smtps" => Ok(Self::Tls),
            "plain" | "none" => Ok(Self::Plain),
            _ => Err(crate::MailError::UnknownSecurity {
                value: s.to_owned(),
            }),
        }
    }
}

/// SMTP login. The password is redacted from `Debug`.
#[derive(Clone, Debug)]
pub struct SmtpCredentials {
    pub username: String,
    pub password: SecretString,
}

/// Exponential backoff between delivery attempts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; after the last one the message is `failed`.
    pub max_attempts: u32,
    /// Wait after the first failed attempt; doubled after each further one.
    pub initial_backoff: Duration,
    /// The wait never grows beyond this.
    pub max_backoff: Duration,
    /// A claimed message whose worker has not recorded an outcome within this time is
    /// claimed again (the worker is presumed dead). Longer than any SMTP exchange.
    pub lease: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            initial_backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(60 * 60),
            lease: Duration::from_secs(5 * 60),
        }
    }
}

impl RetryPolicy {
    /// The wait after the `attempts`-th failed attempt (1-based).
    pub fn backoff(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        self.initial_backoff
            .saturating_mul(1 << doublings)
            .min(self.max_backoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_appears_in_debug_output() {
        let config = SmtpConfig {
            credentials: Some(SmtpCredentials {
                username: "mailer".to_owned(),
                password: "hunter2".into(),
            }),
            ..SmtpConfig::plain("smtp.example", 587)
        };
        let shown = format!("{config:?}");
        assert!(shown.contains("mailer"));
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(5),
            lease: Duration::from_secs(60),
        };
        let waits: Vec<u64> = (1..=5).map(|n| policy.backoff(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 5, 5]);
    }

    #[test]
    fn security_parses_from_configuration_words() {
        assert_eq!(
            "STARTTLS".parse::<Security>().ok(),
            Some(Security::StartTls)
        );
        assert_eq!("tls".parse::<Security>().ok(), Some(Security::Tls));
        assert_eq!("plain".parse::<Security>().ok(), Some(Security::Plain));
        assert!("ssl3".parse::<Security>().is_err());
    }
}
