//! Signing in with an email address and a password, and changing a password: by the person
//! (who knows the current one) or by an operator at the command line.

use chrono::{DateTime, Utc};
use freshet_domain::UserId;
use freshet_store::codec::DbUuid;
use freshet_store::{Database, Tx, on_pool};

use crate::AccountError;
use crate::passwords::{self, Password};
use crate::sessions::{self, NewSession, SessionPolicy};
use crate::users::{self, USER_COLUMNS, User, UserRow};

#[derive(sqlx::FromRow)]
struct CredentialRow {
    #[sqlx(flatten)]
    user: UserRow,
    password_hash: Option<String>,
    password_version: i64,
}

/// A user as sign-in sees them: their password hash (if they chose one) and its version.
struct Credentials {
    user: User,
    hash: Option<String>,
    version: i64,
}

/// The user with `email` (any case) and their credentials, deactivated or not.
async fn by_email(db: &Database, email: &str) -> Result<Option<Credentials>, AccountError> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, u.password_hash, u.password_version FROM users u \
         WHERE lower(u.email) = lower($1)"
    );
    let row: Option<CredentialRow> = on_pool!(db, pool => {
        sqlx::query_as(&sql).bind(email.trim()).fetch_optional(pool).await?
    });
    Ok(row.map(|row| Credentials {
        user: row.user.into(),
        hash: row.password_hash,
        version: row.password_version,
    }))
}

async fn hash_of(db: &Database, user: UserId) -> Result<Option<String>, AccountError> {
    let hash: Option<Option<String>> = on_pool!(db, pool => {
        sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
            .bind(DbUuid(user.as_uuid()))
            .fetch_optional(pool)
            .await?
    });
    Ok(hash.flatten())
}

/// Signs a person in: a new session when `email` and `password` match an active person
/// with a password, else [`AccountError::WrongCredentials`], the same answer and about the
/// same time whether the address is unknown, has no password yet, is deactivated, or the
/// password is wrong.
#[tracing::instrument(skip_all)]
pub async fn sign_in(
    db: &Database,
    email: &str,
    password: &str,
    policy: SessionPolicy,
    now: DateTime<Utc>,
) -> Result<(User, NewSession), AccountError> {
    let found = by_email(db, email).await?;
    let hash = found.as_ref().and_then(|found| found.hash.as_deref());
    let matches = passwords::verify(password, hash).await?;
    let (user, version) = match found {
        Some(found) if matches && found.user.deactivated_at.is_none() => {
            (found.user, found.version)
        }
        _ => return Err(AccountError::WrongCredentials),
    };
    // Under the version checked: should the password change before this commits, the
    // session never works.
    let mut tx = Tx::begin(db).await?;
    let session = sessions::begin(&mut tx, user.id, version, policy, now).await?;
    tx.commit().await?;
    tracing::info!(user.id = %user.id, "signed in");
    Ok((user, session))
}

/// A person changes their own password, knowing the current one. Every other session of
/// theirs ends; the one named `keep` (the session they changed it from) goes on.
pub async fn change_password(
    db: &Database,
    user: UserId,
    current: &str,
    new: &Password,
    keep: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    let stored = hash_of(db, user).await?;
    if !passwords::verify(current, stored.as_deref()).await? {
        return Err(AccountError::WrongCredentials);
    }
    let hash = new.hash().await?;
    let mut tx = Tx::begin(db).await?;
    let version = users::store_password(&mut tx, user, &hash, now)
        .await?
        .ok_or(AccountError::Deactivated(user))?;
    sessions::end_all(&mut tx, user, keep).await?;
    if let Some(keep) = keep {
        sessions::carry_over(&mut tx, keep, version).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// An operator sets the password of the person with `email` (`freshet users
/// set-password`): every session of theirs ends.
pub async fn set_password(
    db: &Database,
    email: &str,
    password: &Password,
    now: DateTime<Utc>,
) -> Result<User, AccountError> {
    let user = by_email(db, email)
        .await?
        .ok_or_else(|| AccountError::UnknownEmail(email.trim().to_owned()))?
        .user;
    let hash = password.hash().await?;
    let mut tx = Tx::begin(db).await?;
    users::store_password(&mut tx, user.id, &hash, now)
        .await?
        .ok_or(AccountError::Deactivated(user.id))?;
    sessions::end_all(&mut tx, user.id, None).await?;
    tx.commit().await?;
    Ok(user)
}

/// The user with `email`, if any (for a password reset request).
pub(crate) async fn user_by_email(
    db: &Database,
    email: &str,
) -> Result<Option<User>, AccountError> {
    Ok(by_email(db, email).await?.map(|found| found.user))
}
