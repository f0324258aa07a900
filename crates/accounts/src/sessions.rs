//! Sessions of people signed in from a browser (migration `0070`). A session is 32 random
//! bytes in a cookie, stored only as its SHA-256, like a token. It ends after
//! [`SessionPolicy::idle`] without use, or [`SessionPolicy::absolute`] after it began,
//! whichever comes first; at sign-out; and, for every session of a person, when they are
//! deactivated or choose a new password (the session that chose it may stay).
//!
//! A session is looked up on every request with its user in one query and never cached:
//! a deactivation ends it at once in every process.

use chrono::{DateTime, TimeDelta, Utc};
use freshet_domain::UserId;
use freshet_store::codec::{DbTime, DbUuid};
use freshet_store::{Database, Tx, on_pool, on_tx};
use secrecy::{ExposeSecret as _, SecretString};

use crate::AccountError;
use crate::tokens::{is_secret_shaped, new_secret, token_hash};
use crate::users::{USER_COLUMNS, User, UserRow};

/// `last_seen_at` is written at most this often per session.
const LAST_SEEN_PRECISION: TimeDelta = TimeDelta::minutes(1);

/// How long sessions last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session unused this long has ended.
    pub idle: TimeDelta,
    /// A session this old has ended, however busy.
    pub absolute: TimeDelta,
}

impl Default for SessionPolicy {
    /// A working day and a night between two uses (so yesterday's email link still arrives
    /// signed in), and two weeks at most.
    fn default() -> Self {
        Self {
            idle: TimeDelta::hours(24),
            absolute: TimeDelta::days(14),
        }
    }
}

/// A session just begun: the cookie's value, shown this once, and when it ends at the latest.
#[derive(Debug)]
pub struct NewSession {
    pub secret: SecretString,
    pub expires_at: DateTime<Utc>,
}

/// A session that is still valid, and whose it is.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    /// The stored form of the session's secret: names it without revealing it.
    pub session_hash: String,
}

/// What a session's secret starts with.
const PREFIX: &str = "fs_";

const INSERT_SESSION: &str = "INSERT INTO sessions \
     (id_hash, user_id, created_at, last_seen_at, expires_at, password_version) \
     SELECT $1, $2, $3, $3, $4, $5 \
     WHERE EXISTS (SELECT 1 FROM users WHERE id = $2 AND deactivated_at IS NULL)";

/// Begins a session for `user` in `tx`, under the password version the password was checked
/// against: if the password changed since, the session never works (see [`valid`]). Always
/// a new secret: whatever session the browser had before is not reused (no fixation).
pub(crate) async fn begin(
    tx: &mut Tx,
    user: UserId,
    password_version: i64,
    policy: SessionPolicy,
    now: DateTime<Utc>,
) -> Result<NewSession, AccountError> {
    let secret = new_secret(PREFIX);
    let expires_at = now + policy.absolute;
    let inserted = on_tx!(tx, conn => {
        sqlx::query(INSERT_SESSION)
            .bind(token_hash(&secret))
            .bind(DbUuid(user.as_uuid()))
            .bind(DbTime(now))
            .bind(DbTime(expires_at))
            .bind(password_version)
            .execute(&mut **conn)
            .await?
            .rows_affected()
    });
    if inserted == 0 {
        return Err(AccountError::Deactivated(user));
    }
    Ok(NewSession {
        secret: secret.into(),
        expires_at,
    })
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    #[sqlx(flatten)]
    user: UserRow,
    last_seen_at: DbTime,
}

/// The active person whose valid session `secret` is, if any; a value without the shape of
/// a secret is refused without a lookup. Notes the use (to the minute).
pub async fn authenticate(
    db: &Database,
    secret: &str,
    policy: SessionPolicy,
    now: DateTime<Utc>,
) -> Result<Option<SignedIn>, AccountError> {
    if !is_secret_shaped(secret, PREFIX) {
        return Ok(None);
    }
    let hash = token_hash(secret);
    let Some(row) = valid(db, &hash, policy, now).await? else {
        return Ok(None);
    };
    if row.last_seen_at.0 < now - LAST_SEEN_PRECISION {
        on_pool!(db, pool => {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
                .bind(DbTime(now))
                .bind(&hash)
                .execute(pool)
                .await?
                .rows_affected()
        });
    }
    Ok(Some(SignedIn {
        user: row.user.into(),
        session_hash: hash,
    }))
}

/// Whether the session stored as `hash` is still valid (an open event stream asks now and
/// then). Does not count as a use.
pub async fn is_valid(
    db: &Database,
    hash: &str,
    policy: SessionPolicy,
    now: DateTime<Utc>,
) -> Result<bool, AccountError> {
    Ok(valid(db, hash, policy, now).await?.is_some())
}

/// A session is valid while its person is active, it is within both lifetimes, and it was
/// begun under the person's current password: a session written after a password change
/// (a sign-in that checked the old password a moment before) is dead however late it lands.
async fn valid(
    db: &Database,
    hash: &str,
    policy: SessionPolicy,
    now: DateTime<Utc>,
) -> Result<Option<SessionRow>, AccountError> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, s.last_seen_at FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.id_hash = $1 AND u.deactivated_at IS NULL \
         AND s.expires_at > $2 AND s.last_seen_at > $3 \
         AND s.password_version = u.password_version"
    );
    Ok(on_pool!(db, pool => {
        sqlx::query_as(&sql)
            .bind(hash)
            .bind(DbTime(now))
            .bind(DbTime(now - policy.idle))
            .fetch_optional(pool)
            .await?
    }))
}

/// Ends the session `secret` (sign-out). Ending one that has already ended is harmless.
pub async fn end(db: &Database, secret: &SecretString) -> Result<(), AccountError> {
    let hash = token_hash(secret.expose_secret());
    on_pool!(db, pool => {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(&hash)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(())
}

/// Moves the session `hash` to `password_version` in `tx` (the session a person changed
/// their password from goes on under the new one).
pub(crate) async fn carry_over(
    tx: &mut Tx,
    hash: &str,
    password_version: i64,
) -> Result<u64, sqlx::Error> {
    Ok(on_tx!(tx, conn => {
        sqlx::query("UPDATE sessions SET password_version = $1 WHERE id_hash = $2")
            .bind(password_version)
            .bind(hash)
            .execute(&mut **conn)
            .await?
            .rows_affected()
    }))
}

/// Ends every session of `user` in `tx` but the one named `keep` (by its hash).
pub(crate) async fn end_all(
    tx: &mut Tx,
    user: UserId,
    keep: Option<&str>,
) -> Result<u64, sqlx::Error> {
    Ok(on_tx!(tx, conn => {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
            .bind(DbUuid(user.as_uuid()))
            .bind(keep.unwrap_or(""))
            .execute(&mut **conn)
            .await?
            .rows_affected()
    }))
}

/// Deletes the sessions that have ended by `now` under `policy`: the number deleted.
pub async fn delete_ended(
    db: &Database,
    policy: SessionPolicy,
    now: DateTime<Utc>,
) -> Result<u64, AccountError> {
    Ok(on_pool!(db, pool => {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
            .bind(DbTime(now))
            .bind(DbTime(now - policy.idle))
            .execute(pool)
            .await?
            .rows_affected()
    }))
}

/// Deletes ended sessions every ten minutes until `stop` (by the system clock).
pub async fn clean_up(
    db: Database,
    policy: SessionPolicy,
    stop: impl std::future::Future<Output = ()>,
) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return,
            _ = every.tick() => match delete_ended(&db, policy, Utc::now()).await {
                Ok(0) => {}
                Ok(deleted) => tracing::debug!(deleted, "ended sessions deleted"),
                Err(error) => tracing::warn!(error = %error, "could not delete ended sessions"),
            },
        }
    }
}
