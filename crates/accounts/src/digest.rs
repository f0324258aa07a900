//! Who gets the daily digest: each person may turn it off (`users.daily_digest`, migration
//! `0071`); deactivated people never get it. The digest itself (which tasks, when, once a
//! day) is `freshet-automation`'s.

use freshet_domain::UserId;
use freshet_store::codec::DbUuid;
use freshet_store::{Database, on_pool};

use crate::users::{USER_COLUMNS, UserRow};
use crate::{AccountError, User};

/// Turns `user`'s daily digest on or off.
#[tracing::instrument(skip_all, fields(user.id = %user, on), err)]
pub async fn set_daily_digest(db: &Database, user: UserId, on: bool) -> Result<(), AccountError> {
    const SQL: &str = "UPDATE users SET daily_digest = $1 WHERE id = $2";
    let changed = on_pool!(db, pool => {
        sqlx::query(SQL)
            .bind(on)
            .bind(DbUuid(user.as_uuid()))
            .execute(pool)
            .await?
            .rows_affected()
    });
    if changed == 0 {
        return Err(AccountError::UnknownUser(user));
    }
    Ok(())
}

/// Whether `user` gets the daily digest; `None` for an unknown user.
pub async fn daily_digest(db: &Database, user: UserId) -> Result<Option<bool>, AccountError> {
    const SQL: &str = "SELECT daily_digest FROM users WHERE id = $1";
    let on: Option<bool> = on_pool!(db, pool => {
        sqlx::query_scalar(SQL)
            .bind(DbUuid(user.as_uuid()))
            .fetch_optional(pool)
            .await?
    });
    Ok(on)
}

/// Everyone who may get a digest: active, with the daily digest on; oldest first.
pub async fn digest_recipients(db: &Database) -> Result<Vec<User>, AccountError> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u \
         WHERE u.daily_digest AND u.deactivated_at IS NULL ORDER BY u.created_at, u.id"
    );
    let rows: Vec<UserRow> = on_pool!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await?);
    Ok(rows.into_iter().map(User::from).collect())
}
