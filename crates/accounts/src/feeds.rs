//! Private calendar feeds (migration `0090`): each person may have one secret address
//! (`fc_<64 hex>`) at which a calendar application reads their dates without signing in.
//! The secret is shown once, when it is made, and stored only as its SHA-256. Making a new
//! one replaces the old (which stops working at once); stopping deletes it. A deactivated
//! person's feed never answers.

use chrono::{DateTime, Utc};
use freshet_domain::UserId;
use freshet_store::codec::{DbTime, DbUuid};
use freshet_store::{Database, on_pool};
use secrecy::SecretString;

use crate::AccountError;
use crate::tokens::{is_secret_shaped, new_secret, token_hash};
use crate::users::{USER_COLUMNS, User, UserRow};

/// What a feed's secret starts with.
pub const PREFIX: &str = "fc_";

/// A new address for `user`'s feed, replacing any earlier one: its secret, shown this once.
#[tracing::instrument(skip_all, fields(user.id = %user), err)]
pub async fn renew(
    db: &Database,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<SecretString, AccountError> {
    // Only for an active person; the upsert replaces the old hash in one statement.
    const SQL: &str = "INSERT INTO calendar_feeds (user_id, secret_hash, created_at) \
        SELECT $1, $2, $3 WHERE EXISTS \
        (SELECT 1 FROM users WHERE id = $1 AND deactivated_at IS NULL) \
        ON CONFLICT (user_id) DO UPDATE SET secret_hash = excluded.secret_hash, \
        created_at = excluded.created_at";
    let secret = new_secret(PREFIX);
    let changed = on_pool!(db, pool => {
        sqlx::query(SQL)
            .bind(DbUuid(user.as_uuid()))
            .bind(token_hash(&secret))
            .bind(DbTime(now))
            .execute(pool)
            .await?
            .rows_affected()
    });
    if changed == 0 {
        return Err(AccountError::UnknownUser(user));
    }
    Ok(secret.into())
}

/// Stops `user`'s feed: its address no longer answers. Nothing happens without one.
#[tracing::instrument(skip_all, fields(user.id = %user), err)]
pub async fn stop(db: &Database, user: UserId) -> Result<(), AccountError> {
    const SQL: &str = "DELETE FROM calendar_feeds WHERE user_id = $1";
    on_pool!(db, pool => {
        sqlx::query(SQL).bind(DbUuid(user.as_uuid())).execute(pool).await?;
    });
    Ok(())
}

/// When `user`'s current address was made; `None` without one.
pub async fn made_at(db: &Database, user: UserId) -> Result<Option<DateTime<Utc>>, AccountError> {
    const SQL: &str = "SELECT created_at FROM calendar_feeds WHERE user_id = $1";
    let at: Option<DbTime> = on_pool!(db, pool => {
        sqlx::query_scalar(SQL)
            .bind(DbUuid(user.as_uuid()))
            .fetch_optional(pool)
            .await?
    });
    Ok(at.map(|at| at.0))
}

/// Whose feed `secret` is: an active person, or `None` (unknown, replaced, stopped,
/// deactivated, or not even shaped like a secret, which is refused without a query).
pub async fn owner(db: &Database, secret: &str) -> Result<Option<User>, AccountError> {
    if !is_secret_shaped(secret, PREFIX) {
        return Ok(None);
    }
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM calendar_feeds f JOIN users u ON u.id = f.user_id \
         WHERE f.secret_hash = $1 AND u.deactivated_at IS NULL"
    );
    let row: Option<UserRow> = on_pool!(db, pool => {
        sqlx::query_as(&sql)
            .bind(token_hash(secret))
            .fetch_optional(pool)
            .await?
    });
    Ok(row.map(User::from))
}
