//! The command line: subcommands, and flags with `FRESHET_*` environment fallbacks.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{NaiveDate, NaiveTime};
use clap::{Args, Parser, Subcommand, ValueEnum};
use freshet_mail::PublicUrl;
use secrecy::SecretString;

#[derive(Debug, Parser)]
#[command(
    name = "freshet",
    version,
    about = "Runs an agency's Creative Refresh process."
)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: Commands,
}

/// Settings every subcommand shares.
#[derive(Debug, Args)]
pub struct Common {
    /// `sqlite://path` (the embedded default) or `postgres://user@host/db`. Its value is
    /// never shown by `--help`: it may hold a password.
    #[arg(
        long,
        env = "FRESHET_DATABASE_URL",
        hide_env_values = true,
        default_value = "sqlite://freshet-data/freshet.db",
        value_parser = secret,
        global = true
    )]
    pub database_url: SecretString,
    /// The agency's time zone: "today" is the calendar date there (R3).
    #[arg(long, env = "FRESHET_TIME_ZONE", default_value = "UTC", global = true)]
    pub time_zone: String,
    /// Days after the refresh date by which the AM must have decided (B1).
    #[arg(
        long,
        env = "FRESHET_DEADLINE_AM_DECISION_DAYS",
        default_value_t = 0,
        global = true
    )]
    pub deadline_am_decision_days: u32,
    /// Days after the refresh date by which every ticket must exist (B1).
    #[arg(
        long,
        env = "FRESHET_DEADLINE_TICKETS_DAYS",
        default_value_t = 2,
        global = true
    )]
    pub deadline_tickets_days: u32,
    /// Days an Ad Set may wait for the client (B1).
    #[arg(
        long,
        env = "FRESHET_DEADLINE_CLIENT_REVIEW_DAYS",
        default_value_t = 7,
        global = true
    )]
    pub deadline_client_review_days: u32,
    /// Days between sign-off and implementation (B1).
    #[arg(
        long,
        env = "FRESHET_DEADLINE_IMPLEMENTATION_DAYS",
        default_value_t = 3,
        global = true
    )]
    pub deadline_implementation_days: u32,
    /// How long an Idempotency-Key is remembered: a retry within it gets the first outcome;
    /// afterwards the key names a new request (and the worker deletes it), e.g. 24h or 90m.
    #[arg(
        long,
        env = "FRESHET_IDEMPOTENCY_KEY_TTL",
        default_value = "24h",
        value_parser = parse_duration,
        global = true
    )]
    pub idempotency_key_ttl: Duration,
    /// The address people reach Freshet at: the base of every link in the emails it sends
    /// (invitations, password resets, task emails, the daily digest). Behind a TLS proxy it
    /// must be the https address people use, e.g. https://freshet.agency.example, not the
    /// address Freshet listens on. It also decides whether the session cookie is Secure.
    /// Freshet is served at the root of its host: no path.
    #[arg(
        long,
        env = "FRESHET_PUBLIC_URL",
        default_value = PublicUrl::DEFAULT,
        value_parser = parse_public_url,
        global = true
    )]
    pub public_url: PublicUrl,
    /// Log format.
    #[arg(long, env = "FRESHET_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Commands {
    /// Run Freshet: the HTTP API, the workers (projections, scheduler, email), or both.
    Serve(Box<ServeArgs>),
    /// Apply the database migrations and exit.
    Migrate,
    /// Run every date trigger due on a date (default: today), then exit.
    Tick {
        /// The agency date to run, e.g. 2027-03-01.
        #[arg(long)]
        at: Option<NaiveDate>,
    },
    /// Rebuild read models from the event log while the current ones keep serving.
    Rebuild {
        /// The projection to rebuild (inbox, portfolios, board, metrics).
        projection: Option<String>,
        /// Rebuild every projection.
        #[arg(long, conflicts_with = "projection")]
        all: bool,
    },
    /// Manage users and their API tokens.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Look into the email outbox.
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// Move in from another tool (HubSpot); a dry run unless --apply.
    #[command(subcommand)]
    Import(crate::hubspot::ImportCommand),
    /// The portfolios (or one portfolio's tickets) as CSV, for a spreadsheet.
    Export(crate::hubspot::ExportArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Role {
    /// The HTTP API only (stateless; run as many as needed).
    Api,
    /// Projections, scheduler and email delivery.
    Worker,
    /// Both, in one process (the default, and the only choice on SQLite).
    All,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address the HTTP API listens on.
    #[arg(long, env = "FRESHET_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Address Prometheus metrics are served on (`/metrics`), apart from the API; loopback
    /// by default, so only the host's own scraper reads them.
    #[arg(long, env = "FRESHET_METRICS_LISTEN", default_value = "127.0.0.1:9464")]
    pub metrics_listen: SocketAddr,
    #[arg(long, env = "FRESHET_ROLE", value_enum, default_value_t = Role::All)]
    pub role: Role,
    /// Load a few demo portfolios and users and print their tokens. Only on a loopback
    /// address and SQLite, unless --force; tokens of earlier starts are revoked.
    #[arg(long)]
    pub demo: bool,
    /// With --demo: also on an address beyond loopback, or on PostgreSQL.
    #[arg(long, requires = "demo")]
    pub force: bool,
    /// How often the scheduler looks for due triggers, e.g. 60s or 5m.
    #[arg(long, env = "FRESHET_TICK_INTERVAL", default_value = "60s", value_parser = parse_duration)]
    pub tick_interval: Duration,
    /// When the daily digest of overdue and due-today tasks goes out, as HH:MM in the
    /// agency's time zone (--time-zone); checked at every scheduler tick.
    #[arg(long, env = "FRESHET_DIGEST_TIME", default_value = "08:00", value_parser = parse_time_of_day)]
    pub digest_time: NaiveTime,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub sessions: SessionArgs,
    #[command(flatten)]
    pub mail: MailArgs,
}

/// How long people stay signed in from a browser (see deploy/README.md, "Sign-in").
#[derive(Debug, Args)]
pub struct SessionArgs {
    /// A session unused this long has ended (the person signs in again).
    #[arg(long, env = "FRESHET_SESSION_IDLE", default_value = "24h", value_parser = parse_duration)]
    pub session_idle: Duration,
    /// A session this old has ended, however busy.
    #[arg(long, env = "FRESHET_SESSION_LIFETIME", default_value = "14d", value_parser = parse_duration)]
    pub session_lifetime: Duration,
    /// Failed sign-ins to one account, or from one address, each within
    /// --sign-in-failure-window of the one before, after which sign-in is refused there
    /// until a window passes quietly.
    #[arg(long, env = "FRESHET_SIGN_IN_FAILURE_LIMIT", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub sign_in_failure_limit: u32,
    #[arg(long, env = "FRESHET_SIGN_IN_FAILURE_WINDOW", default_value = "15m", value_parser = parse_duration)]
    pub sign_in_failure_window: Duration,
}

impl SessionArgs {
    pub fn policy(&self) -> anyhow::Result<freshet_accounts::SessionPolicy> {
        let delta = |duration: Duration, flag: &str| {
            chrono::TimeDelta::from_std(duration).map_err(|_| anyhow::anyhow!("{flag} is too long"))
        };
        let policy = freshet_accounts::SessionPolicy {
            idle: delta(self.session_idle, "--session-idle")?,
            absolute: delta(self.session_lifetime, "--session-lifetime")?,
        };
        if policy.idle > policy.absolute {
            anyhow::bail!("--session-idle cannot be longer than --session-lifetime");
        }
        Ok(policy)
    }
}

/// Time and connection limits of the HTTP API (see deploy/README.md, "Limits").
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// A request not answered within this is stopped with a 503 (an event stream counts
    /// until its first byte).
    #[arg(long, env = "FRESHET_REQUEST_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub request_timeout: Duration,
    /// A connection that has not sent its complete request headers within this is closed.
    #[arg(long, env = "FRESHET_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub header_read_timeout: Duration,
    /// Requests served at once; more are answered 503 at once.
    #[arg(long, env = "FRESHET_MAX_CONCURRENT_REQUESTS", default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrent_requests: u32,
    /// Inbox event streams open at once, in all; one more is answered 503.
    #[arg(long, env = "FRESHET_MAX_STREAMS", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_streams: u32,
    /// Inbox event streams one person may have open at once; one more is answered 429.
    #[arg(long, env = "FRESHET_MAX_STREAMS_PER_USER", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_streams_per_user: u32,
    /// Failed authentications from one address, each within --auth-failure-window of the
    /// one before, after which the address is answered 429 until a window passes quietly.
    #[arg(long, env = "FRESHET_AUTH_FAILURE_LIMIT", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub auth_failure_limit: u32,
    #[arg(long, env = "FRESHET_AUTH_FAILURE_WINDOW", default_value = "60s", value_parser = parse_duration)]
    pub auth_failure_window: Duration,
    /// Count failures by the last address of X-Forwarded-For: only behind a reverse proxy
    /// that appends the client's address to it (nginx: $proxy_add_x_forwarded_for).
    #[arg(long, env = "FRESHET_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,
    /// On SIGTERM, how long in-flight requests may take before every connection is dropped
    /// (open event streams end at once).
    #[arg(long, env = "FRESHET_SHUTDOWN_GRACE", default_value = "5s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,
}

#[derive(Debug, Args)]
pub struct MailArgs {
    /// SMTP server; without one, emails are written as .eml files to --mail-dir.
    #[arg(long, env = "FRESHET_SMTP_HOST")]
    pub smtp_host: Option<String>,
    #[arg(long, env = "FRESHET_SMTP_PORT", default_value_t = 587)]
    pub smtp_port: u16,
    /// starttls, tls or plain.
    #[arg(long, env = "FRESHET_SMTP_SECURITY", default_value = "starttls")]
    pub smtp_security: String,
    #[arg(long, env = "FRESHET_SMTP_USERNAME")]
    pub smtp_username: Option<String>,
    /// Never logged.
    #[arg(long, env = "FRESHET_SMTP_PASSWORD", hide_env_values = true, value_parser = secret)]
    pub smtp_password: Option<SecretString>,
    /// The From address of every email.
    #[arg(
        long,
        env = "FRESHET_MAIL_FROM",
        default_value = "Freshet <freshet@localhost>"
    )]
    pub mail_from: String,
    /// Where emails go when no SMTP server is configured.
    #[arg(long, env = "FRESHET_MAIL_DIR", default_value = "freshet-data/mail")]
    pub mail_dir: PathBuf,
    /// How long a worker owns an email it is sending: after a crash, another worker sends
    /// it again once this lapses. Keep it well above the SMTP timeout (30 s).
    #[arg(long, env = "FRESHET_MAIL_LEASE", default_value = "5m", value_parser = parse_duration)]
    pub mail_lease: Duration,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user and print their API token (shown once) and its id.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        /// May set up portfolios, teams and users, and act for any role.
        #[arg(long)]
        admin: bool,
    },
    /// Invite a person: they are emailed a link (valid 72 hours, once) to a page where they
    /// choose their password. The running Freshet's mail worker sends it; links start with
    /// --public-url.
    Invite {
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        /// May set up portfolios, teams and users, and act for any role.
        #[arg(long)]
        admin: bool,
    },
    /// Email a new invitation to someone who has not chosen a password yet (the earlier
    /// links stop working).
    InviteAgain {
        /// The user's id or email address.
        user: String,
    },
    /// Set a user's password, read from standard input (one line); every session of theirs
    /// ends. For example: `printf '%s' "$PASSWORD" | freshet users set-password amy@agency.example`.
    SetPassword {
        /// The user's id or email address.
        user: String,
    },
    /// List every user: created (when, by whom), deactivated (when, by whom).
    List,
    /// List a user's tokens: label, created, last used, revoked (when, by whom).
    Tokens {
        /// The user's id or email address.
        user: String,
    },
    /// Revoke a token: it stops working at once, in every process.
    Revoke {
        /// The token's id (see `freshet users tokens`).
        token: uuid::Uuid,
    },
    /// Deactivate a user: every token revoked and every session ended at once; lists the
    /// tasks they left open.
    Deactivate {
        /// The user's id or email address.
        user: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// List emails with their status, attempts and last error.
    List {
        /// pending, sending, sent or failed.
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Give a failed email a fresh set of delivery attempts.
    Retry { id: uuid::Uuid },
}

fn parse_duration(input: &str) -> Result<Duration, String> {
    let input = input.trim();
    let (number, unit) = input.split_at(
        input
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(input.len()),
    );
    let value: u64 = number
        .parse()
        .map_err(|_| format!("\"{input}\" is not a duration like 30s, 5m, 1h or 14d"))?;
    let too_long = || format!("\"{input}\" is too long");
    let seconds = match unit {
        "" | "s" => value,
        "m" => value.checked_mul(60).ok_or_else(too_long)?,
        "h" => value.checked_mul(3600).ok_or_else(too_long)?,
        "d" => value.checked_mul(86_400).ok_or_else(too_long)?,
        "ms" if value > 0 => return Ok(Duration::from_millis(value)),
        "ms" => 0,
        _ => {
            return Err(format!(
                "unknown unit \"{unit}\" in \"{input}\": use ms, s, m, h or d"
            ));
        }
    };
    if seconds == 0 {
        return Err("the interval must be longer than zero".to_owned());
    }
    Ok(Duration::from_secs(seconds))
}

fn parse_public_url(input: &str) -> Result<PublicUrl, String> {
    input
        .parse()
        .map_err(|error: freshet_mail::MailError| error.to_string())
}

fn parse_time_of_day(input: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(input.trim(), "%H:%M")
        .map_err(|_| format!("\"{input}\" is not a time of day like 08:00 or 17:30"))
}

/// A value that may hold a password: kept as a [`SecretString`], so that neither `Debug`
/// output nor a log line can show it.
fn secret(value: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_the_configuration_never_appear_in_its_debug_output() {
        let cli = Cli::try_parse_from([
            "freshet",
            "--database-url",
            "postgres://freshet:db-hunter2@db.internal/freshet",
            "serve",
            "--smtp-host",
            "smtp.example",
            "--smtp-username",
            "mailer",
            "--smtp-password",
            "smtp-hunter2",
        ])
        .expect("the arguments parse");
        let shown = format!("{cli:?}");
        assert!(shown.contains("mailer"), "{shown}");
        assert!(!shown.contains("db-hunter2"), "{shown}");
        assert!(!shown.contains("smtp-hunter2"), "{shown}");
    }

    #[test]
    fn durations_parse_with_units_and_refuse_nonsense() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("0s").is_err());
        assert!(
            parse_duration("0ms").is_err(),
            "a zero interval would stop a timer"
        );
        assert!(parse_duration("99999999999999999999h").is_err());
        assert!(parse_duration("9999999999999999999h").is_err(), "overflow");
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 fortnights").is_err());
    }

    #[test]
    fn the_public_url_and_the_digest_time_have_defaults_and_refuse_nonsense() {
        let cli = Cli::try_parse_from(["freshet", "serve"]).expect("the defaults parse");
        assert_eq!(cli.common.public_url, PublicUrl::default());
        let Commands::Serve(serve) = cli.command else {
            panic!("serve")
        };
        assert_eq!(
            serve.digest_time,
            NaiveTime::from_hms_opt(8, 0, 0).expect("08:00")
        );
        let behind_proxy = Cli::try_parse_from([
            "freshet",
            "--public-url",
            "https://freshet.agency.example/",
            "migrate",
        ])
        .expect("an https URL parses");
        assert!(behind_proxy.common.public_url.is_https());
        assert!(
            Cli::try_parse_from(["freshet", "--public-url", "freshet.example", "migrate"]).is_err()
        );
        assert!(Cli::try_parse_from(["freshet", "serve", "--digest-time", "8am"]).is_err());
        assert!(Cli::try_parse_from(["freshet", "serve", "--digest-time", "25:00"]).is_err());
    }

    #[test]
    fn the_cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
