//! People: created by an Admin or the command line (with a first token, in one
//! transaction), listed, and deactivated (every token of theirs revoked with them). Who
//! created or deactivated whom, and when, is kept with the row: an actor of `None` is the
//! operator's command line.

use chrono::{DateTime, Utc};
use freshet_domain::UserId;
use freshet_store::Database;
use serde::Serialize;
use uuid::Uuid;

use crate::sql::{Codec, is_unique_violation, on_db};
use crate::tokens::{self, IssuedToken, NOTIFY_REVOCATION, REVOCATIONS_CHANNEL};
use crate::{AccountError, validation};

/// A person who uses Freshet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub admin: bool,
    pub created_at: DateTime<Utc>,
    /// The Admin who created this user; `None`: the command line.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub created_by: Option<UserId>,
    pub deactivated_at: Option<DateTime<Utc>>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub deactivated_by: Option<UserId>,
}

/// What deactivating a user did.
#[derive(Debug, Clone)]
pub struct Deactivation {
    pub user: User,
    /// Tokens revoked now (zero when the user was already deactivated).
    pub revoked_tokens: u64,
}

/// A `users` row as a backend returns it ([`USER_COLUMNS`]).
pub(crate) type UserRow<C> = (
    <C as Codec>::Id,
    String,
    String,
    bool,
    <C as Codec>::Time,
    Option<<C as Codec>::Id>,
    Option<<C as Codec>::Time>,
    Option<<C as Codec>::Id>,
);

pub(crate) fn from_row<C: Codec>(
    (id, name, email, admin, created_at, created_by, deactivated_at, deactivated_by): UserRow<C>,
) -> Result<User, sqlx::Error> {
    Ok(User {
        id: C::user_id(id)?,
        name,
        email,
        admin,
        created_at: C::at(created_at)?,
        created_by: C::by_id(created_by)?,
        deactivated_at: C::maybe_at(deactivated_at)?,
        deactivated_by: C::by_id(deactivated_by)?,
    })
}

pub(crate) const USER_COLUMNS: &str = "u.id, u.name, u.email, u.admin, u.created_at, \
                                       u.created_by, u.deactivated_at, u.deactivated_by";

const INSERT_USER: &str = "INSERT INTO users (id, name, email, admin, created_at, created_by) \
                           VALUES ($1, $2, $3, $4, $5, $6)";
const DEACTIVATE_USER: &str = "UPDATE users \
                               SET deactivated_by = CASE WHEN deactivated_at IS NULL THEN $2 \
                               ELSE deactivated_by END, \
                               deactivated_at = COALESCE(deactivated_at, $1) WHERE id = $3";
const REVOKE_USER_TOKENS: &str = "UPDATE api_tokens SET revoked_at = $1, revoked_by = $2 \
                                  WHERE user_id = $3 AND revoked_at IS NULL";

/// Creates a user with a first token labelled "initial", in one transaction: either both
/// exist or neither. `by` is the Admin creating it (`None`: the command line).
pub async fn add(
    db: &Database,
    name: &str,
    email: &str,
    admin: bool,
    by: Option<UserId>,
) -> Result<(User, IssuedToken), AccountError> {
    let (name, email) = validation::name_and_email(name, email)?;
    let user = User {
        id: UserId::from_uuid(Uuid::now_v7()),
        name,
        email,
        admin,
        created_at: Utc::now(),
        created_by: by,
        deactivated_at: None,
        deactivated_by: None,
    };
    let token = tokens::new_issued(user.id, "initial", by)?;
    let stored: Result<(), sqlx::Error> = on_db!(db, pool, C => async {
        let mut tx = pool.begin().await?;
        sqlx::query(INSERT_USER)
            .bind(C::user(user.id))
            .bind(&user.name)
            .bind(&user.email)
            .bind(user.admin)
            .bind(C::time(user.created_at))
            .bind(C::by(by))
            .execute(&mut *tx)
            .await?;
        tokens::insert_token!(C, &mut *tx, &token)?;
        tx.commit().await
    }
    .await);
    match stored {
        Err(error) if is_unique_violation(&error) => Err(AccountError::EmailTaken(user.email)),
        Err(error) => Err(error.into()),
        Ok(()) => Ok((user, token)),
    }
}

/// Deactivates a user: every token of theirs is revoked in the same transaction (at once,
/// in every process) and no new one can be issued. Deactivating twice is harmless.
#[tracing::instrument(skip_all, fields(user.id = %user))]
pub async fn deactivate(
    db: &Database,
    user: UserId,
    by: Option<UserId>,
) -> Result<Deactivation, AccountError> {
    if by == Some(user) {
        return Err(AccountError::DeactivatesItself);
    }
    let now = Utc::now();
    let (found, revoked_tokens): (u64, u64) = on_db!(db, pool, C => {
        let mut tx = pool.begin().await?;
        let found = sqlx::query(DEACTIVATE_USER)
            .bind(C::time(now))
            .bind(C::by(by))
            .bind(C::user(user))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let revoked = sqlx::query(REVOKE_USER_TOKENS)
            .bind(C::time(now))
            .bind(C::by(by))
            .bind(C::user(user))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if C::NOTIFIES {
            sqlx::query(NOTIFY_REVOCATION)
                .bind(REVOCATIONS_CHANNEL)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        (found, revoked)
    });
    if found == 0 {
        return Err(AccountError::UnknownUser(user));
    }
    let user = get(db, user)
        .await?
        .ok_or(AccountError::UnknownUser(user))?;
    tracing::info!(revoked_tokens, "user deactivated");
    Ok(Deactivation {
        user,
        revoked_tokens,
    })
}

/// The user `id`, if any.
pub async fn get(db: &Database, id: UserId) -> Result<Option<User>, AccountError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
    Ok(on_db!(db, pool, C => sqlx::query_as::<_, UserRow<C>>(&sql)
        .bind(C::user(id))
        .fetch_optional(pool)
        .await?
        .map(from_row::<C>)
        .transpose()?))
}

/// Every user, oldest first, deactivated ones included.
pub async fn list(db: &Database) -> Result<Vec<User>, AccountError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.created_at, u.id");
    Ok(on_db!(db, pool, C => sqlx::query_as::<_, UserRow<C>>(&sql)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(from_row::<C>)
        .collect::<Result<_, _>>()?))
}
