//! One-time links (migration `0070`): an invitation to choose a first password, or a
//! password reset. A link's secret (32 random bytes, `fl_…`) is emailed once and stored
//! only as its SHA-256; it works for [`LINK_LIFETIME`], once. Opening the page it leads to
//! only looks ([`holder`]); choosing the password uses it ([`redeem`]), which also ends
//! every session of the person, every other link of theirs, and begins a new session.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use freshet_domain::UserId;
use freshet_store::codec::{DbTime, DbUuid};
use freshet_store::{Database, Tx, on_pool, on_tx};
use secrecy::SecretString;

use crate::AccountError;
use crate::passwords::Password;
use crate::sessions::{self, NewSession, SessionPolicy};
use crate::tokens::{is_secret_shaped, new_secret, token_hash};
use crate::users::{self, USER_COLUMNS, User, UserRow, db_actor};

/// How long a link works.
pub const LINK_LIFETIME: TimeDelta = TimeDelta::hours(72);

/// What a link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// A new person chooses their first password.
    Invitation,
    /// Someone who forgot their password chooses a new one.
    PasswordReset,
}

impl LinkPurpose {
    fn code(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::PasswordReset => "password_reset",
        }
    }
}

impl fmt::Display for LinkPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Invitation => "invitation",
            Self::PasswordReset => "password reset",
        })
    }
}

/// A link just made: its secret (emailed, never stored) and when it stops working.
#[derive(Debug)]
pub struct NewLink {
    pub secret: SecretString,
    pub expires_at: DateTime<Utc>,
}

/// What a link's secret starts with.
const PREFIX: &str = "fl_";

/// Makes a link for `user` in `tx`. `by`: the Admin who invites (`None`: the command line
/// or, for a reset, the person themselves).
pub(crate) async fn make(
    tx: &mut Tx,
    user: UserId,
    purpose: LinkPurpose,
    by: Option<UserId>,
    now: DateTime<Utc>,
) -> Result<NewLink, sqlx::Error> {
    let secret = new_secret(PREFIX);
    let expires_at = now + LINK_LIFETIME;
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO account_links \
             (secret_hash, user_id, purpose, created_at, created_by, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_hash(&secret))
        .bind(DbUuid(user.as_uuid()))
        .bind(purpose.code())
        .bind(DbTime(now))
        .bind(db_actor(by))
        .bind(DbTime(expires_at))
        .execute(&mut **conn)
        .await?
        .rows_affected()
    });
    Ok(NewLink {
        secret: secret.into(),
        expires_at,
    })
}

/// Links of `purpose` made for `user` since `since`, used or not, counted in `tx` after
/// taking the user's row lock: concurrent requests for one person count one after the
/// other, so a limit on them holds.
pub(crate) async fn count_since(
    tx: &mut Tx,
    user: UserId,
    purpose: LinkPurpose,
    since: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let id = DbUuid(user.as_uuid());
    lock_user(tx, user).await?;
    Ok(on_tx!(tx, conn => {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM account_links \
             WHERE user_id = $1 AND purpose = $2 AND created_at > $3",
        )
        .bind(id)
        .bind(purpose.code())
        .bind(DbTime(since))
        .fetch_one(&mut **conn)
        .await?
    }))
}

/// When the last link of `purpose` was made for `user`, read in `tx` after taking the
/// user's row lock, as [`count_since`] does.
pub(crate) async fn last_made(
    tx: &mut Tx,
    user: UserId,
    purpose: LinkPurpose,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    lock_user(tx, user).await?;
    let last: Option<DbTime> = on_tx!(tx, conn => {
        sqlx::query_scalar(
            "SELECT MAX(created_at) FROM account_links WHERE user_id = $1 AND purpose = $2",
        )
        .bind(DbUuid(user.as_uuid()))
        .bind(purpose.code())
        .fetch_one(&mut **conn)
        .await?
    });
    Ok(last.map(|last| last.0))
}

/// Takes `user`'s row lock in `tx`. Every transaction that changes a person's links takes
/// it before it touches them (as a password change or a deactivation updates the person's
/// row first), so two of them never wait for each other in a cycle.
async fn lock_user(tx: &mut Tx, user: UserId) -> Result<(), sqlx::Error> {
    // A no-op write: the portable way to take a row lock (SQLite's writer is one anyway).
    on_tx!(tx, conn => {
        sqlx::query("UPDATE users SET name = name WHERE id = $1")
            .bind(DbUuid(user.as_uuid()))
            .execute(&mut **conn)
            .await?
            .rows_affected()
    });
    Ok(())
}

/// The active person a working link `secret` of `purpose` is for, if it works: unused,
/// unexpired. Uses nothing (a mail scanner opening the link changes nothing).
pub async fn holder(
    db: &Database,
    secret: &str,
    purpose: LinkPurpose,
    now: DateTime<Utc>,
) -> Result<Option<User>, AccountError> {
    if !is_secret_shaped(secret, PREFIX) {
        return Ok(None);
    }
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM account_links l JOIN users u ON u.id = l.user_id \
         WHERE l.secret_hash = $1 AND l.purpose = $2 AND l.used_at IS NULL \
         AND l.expires_at > $3 AND u.deactivated_at IS NULL"
    );
    let row: Option<UserRow> = on_pool!(db, pool => {
        sqlx::query_as(&sql)
            .bind(token_hash(secret))
            .bind(purpose.code())
            .bind(DbTime(now))
            .fetch_optional(pool)
            .await?
    });
    Ok(row.map(User::from))
}

/// Uses the link `secret`: sets `password` as its person's password, ends their sessions
/// and other links, and begins a session for this browser, all in one transaction. A link
/// that does not work (used, expired, unknown, or its person deactivated) is
/// [`AccountError::LinkInvalid`] and changes nothing.
pub async fn redeem(
    db: &Database,
    secret: &str,
    purpose: LinkPurpose,
    password: &Password,
    policy: SessionPolicy,
    now: DateTime<Utc>,
) -> Result<(User, NewSession), AccountError> {
    // A link that does not work costs no password hash (tens of milliseconds and megabytes
    // of memory each): made-up links cannot be used to load the server. It is checked
    // again, for good, in the transaction.
    let Some(holder) = holder(db, secret, purpose, now).await? else {
        return Err(AccountError::LinkInvalid);
    };
    let hash = password.hash().await?;
    let mut tx = Tx::begin(db).await?;
    lock_user(&mut tx, holder.id).await?;
    let used: Option<DbUuid> = on_tx!(&mut tx, conn => {
        sqlx::query_scalar(
            "UPDATE account_links SET used_at = $1 \
             WHERE secret_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1 \
             RETURNING user_id",
        )
        .bind(DbTime(now))
        .bind(token_hash(secret))
        .bind(purpose.code())
        .fetch_optional(&mut **conn)
        .await?
    });
    let user = used
        .map(users::actor)
        .filter(|user| *user == holder.id)
        .ok_or(AccountError::LinkInvalid)?;
    let version = users::store_password(&mut tx, user, &hash, now)
        .await?
        .ok_or(AccountError::LinkInvalid)?;
    sessions::end_all(&mut tx, user, None).await?;
    let session = sessions::begin(&mut tx, user, version, policy, now).await?;
    tx.commit().await?;
    let user = users::get(db, user)
        .await?
        .ok_or(AccountError::LinkInvalid)?;
    tracing::info!(user.id = %user.id, purpose = %purpose, "password chosen through a link");
    Ok((user, session))
}

/// Ends every unused link of `user` in `tx` (their password just changed, or they were
/// deactivated).
pub(crate) async fn end_all(
    tx: &mut Tx,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    Ok(on_tx!(tx, conn => {
        sqlx::query("UPDATE account_links SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL")
            .bind(DbTime(now))
            .bind(DbUuid(user.as_uuid()))
            .execute(&mut **conn)
            .await?
            .rows_affected()
    }))
}
