//! People: created by an Admin or the command line (with a first token, in one
//! transaction), listed, and deactivated (every token of theirs revoked with them). Who
//! created or deactivated whom, and when, is kept with the row: an actor of `None` is the
//! operator's command line.

use chrono::{DateTime, Utc};
use freshet_domain::UserId;
use freshet_store::codec::{DbTime, DbUuid};
use freshet_store::{Database, Tx, on_pool, on_tx};
use serde::Serialize;
use uuid::Uuid;

use crate::tokens::{self, IssuedToken};
use crate::{AccountError, links, sessions, validation};

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

/// A `users` row as either backend returns it ([`USER_COLUMNS`]).
#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: DbUuid,
    name: String,
    email: String,
    admin: bool,
    created_at: DbTime,
    created_by: Option<DbUuid>,
    deactivated_at: Option<DbTime>,
    deactivated_by: Option<DbUuid>,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        Self {
            id: UserId::from_uuid(row.id.0),
            name: row.name,
            email: row.email,
            admin: row.admin,
            created_at: row.created_at.0,
            created_by: row.created_by.map(actor),
            deactivated_at: row.deactivated_at.map(|at| at.0),
            deactivated_by: row.deactivated_by.map(actor),
        }
    }
}

/// An actor as stored: the user's id (`None`, the command line, is stored as `NULL`).
pub(crate) fn db_actor(by: Option<UserId>) -> Option<DbUuid> {
    by.map(|user| DbUuid(user.as_uuid()))
}

/// A stored actor's user.
pub(crate) fn actor(id: DbUuid) -> UserId {
    UserId::from_uuid(id.0)
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
    let mut tx = Tx::begin(db).await?;
    let id = UserId::from_uuid(Uuid::now_v7());
    let user = insert(&mut tx, id, name, email, admin, by, Utc::now()).await?;
    let token = tokens::new_issued(user.id, "initial", by)?;
    tokens::insert_token(&mut tx, &token).await?;
    tx.commit().await?;
    Ok((user, token))
}

/// Creates a user who already has an id elsewhere (the benchmarks' generated people),
/// with no token and no password.
pub async fn add_with_id(
    db: &Database,
    id: UserId,
    name: &str,
    email: &str,
) -> Result<User, AccountError> {
    let mut tx = Tx::begin(db).await?;
    let user = insert(&mut tx, id, name, email, false, None, Utc::now()).await?;
    tx.commit().await?;
    Ok(user)
}

/// Inserts a new user `id` (no password, no token) in `tx`.
pub(crate) async fn insert(
    tx: &mut Tx,
    id: UserId,
    name: &str,
    email: &str,
    admin: bool,
    by: Option<UserId>,
    now: DateTime<Utc>,
) -> Result<User, AccountError> {
    let (name, email) = validation::name_and_email(name, email)?;
    let user = User {
        id,
        name,
        email,
        admin,
        created_at: now,
        created_by: by,
        deactivated_at: None,
        deactivated_by: None,
    };
    let inserted = on_tx!(tx, conn => {
        sqlx::query(INSERT_USER)
            .bind(DbUuid(user.id.as_uuid()))
            .bind(&user.name)
            .bind(&user.email)
            .bind(user.admin)
            .bind(DbTime(user.created_at))
            .bind(db_actor(by))
            .execute(&mut **conn)
            .await
            .map(|done| done.rows_affected())
    });
    match inserted {
        Err(error) if is_unique_violation(&error) => Err(AccountError::EmailTaken(user.email)),
        Err(error) => Err(error.into()),
        Ok(_) => Ok(user),
    }
}

/// Stores `hash` as the password of `user` in `tx`, if they are active, and ends every
/// unused link of theirs: the new password version (`None`: not an active user). Sessions
/// begun under the old version stop working; which of them to end or carry over is the
/// caller's call.
pub(crate) async fn store_password(
    tx: &mut Tx,
    user: UserId,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>, sqlx::Error> {
    let version: Option<i64> = on_tx!(tx, conn => {
        sqlx::query_scalar(
            "UPDATE users SET password_hash = $1, password_changed_at = $2, \
             password_version = password_version + 1 \
             WHERE id = $3 AND deactivated_at IS NULL RETURNING password_version",
        )
        .bind(hash)
        .bind(DbTime(now))
        .bind(DbUuid(user.as_uuid()))
        .fetch_optional(&mut **conn)
        .await?
    });
    links::end_all(tx, user, now).await?;
    Ok(version)
}

/// Whether `user` may be invited (again), read in `tx`: they exist, are active, and have not
/// chosen a password yet.
pub(crate) async fn check_invitable(tx: &mut Tx, user: UserId) -> Result<(), AccountError> {
    let standing: Option<(bool, bool)> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT deactivated_at IS NOT NULL, password_hash IS NOT NULL FROM users \
             WHERE id = $1",
        )
        .bind(DbUuid(user.as_uuid()))
        .fetch_optional(&mut **conn)
        .await?
    });
    match standing {
        None => Err(AccountError::UnknownUser(user)),
        Some((true, _)) => Err(AccountError::Deactivated(user)),
        Some((false, true)) => Err(AccountError::AlreadySignedUp(user)),
        Some((false, false)) => Ok(()),
    }
}

/// Every user as [`list`] gives them, each with whether they have chosen a password, in
/// one query (the People page's rows).
pub async fn list_with_password(db: &Database) -> Result<Vec<(User, bool)>, AccountError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: UserRow,
        has_password: bool,
    }
    let sql = format!(
        "SELECT {USER_COLUMNS}, u.password_hash IS NOT NULL AS has_password \
         FROM users u ORDER BY u.created_at, u.id"
    );
    let rows: Vec<Row> = on_pool!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await?);
    Ok(rows
        .into_iter()
        .map(|row| (User::from(row.user), row.has_password))
        .collect())
}

/// Deactivates a user: every token of theirs is revoked in the same transaction (at once,
/// in every process) and no new one can be issued; every session and unused link of theirs
/// ends with it. Deactivating twice is harmless.
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
    let (now, by, id) = (DbTime(now), db_actor(by), DbUuid(user.as_uuid()));
    let mut tx = Tx::begin(db).await?;
    // The user's row, then their tokens; both statements take `($1 now, $2 by, $3 user)`.
    let mut affected = [0; 2];
    for (sql, rows) in [DEACTIVATE_USER, REVOKE_USER_TOKENS]
        .into_iter()
        .zip(&mut affected)
    {
        *rows = on_tx!(&mut tx, conn => {
            sqlx::query(sql)
                .bind(now)
                .bind(by)
                .bind(id)
                .execute(&mut **conn)
                .await?
                .rows_affected()
        });
    }
    sessions::end_all(&mut tx, user, None).await?;
    links::end_all(&mut tx, user, now.0).await?;
    tokens::notify_revocation(&mut tx).await?;
    tx.commit().await?;
    let [found, revoked_tokens] = affected;
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
    let row: Option<UserRow> = on_pool!(db, pool => {
        sqlx::query_as(&sql)
            .bind(DbUuid(id.as_uuid()))
            .fetch_optional(pool)
            .await?
    });
    Ok(row.map(User::from))
}

/// Every user, oldest first, deactivated ones included.
pub async fn list(db: &Database) -> Result<Vec<User>, AccountError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.created_at, u.id");
    let rows: Vec<UserRow> = on_pool!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await?);
    Ok(rows.into_iter().map(User::from).collect())
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}
