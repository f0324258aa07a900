//! People and their bearer tokens (migrations `0030`, `0052`). A token is 32 random bytes,
//! shown once in plaintext (`fr_<64 hex>`) and stored only as its SHA-256; it can be revoked,
//! and a user deactivated (every token revoked). Who created, revoked or deactivated what,
//! and when, is kept with the rows: an actor of `None` is the operator's command line.
//! `UserDirectory` gives the mail outbox each user's address from the same table.
//!
//! On PostgreSQL every revocation also sends `NOTIFY` [`REVOCATIONS_CHANNEL`] in its
//! transaction, so every process forgets its cached tokens when it commits.

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use freshet_domain::UserId;
use freshet_mail::{Directory, Mailbox};
use freshet_store::Database;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{Postgres, Sqlite, Transaction};
use utoipa::ToSchema;
use uuid::Uuid;

/// The channel a revocation notifies (PostgreSQL), in the transaction that revokes.
pub const REVOCATIONS_CHANNEL: &str = "freshet_tokens";

/// `last_used_at` is written at most this often per token.
const LAST_USED_PRECISION: TimeDelta = TimeDelta::minutes(1);

/// A person who uses Freshet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct User {
    #[schema(value_type = String, format = Uuid)]
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub admin: bool,
    pub created_at: DateTime<Utc>,
    /// The Admin who created this user; `None`: the command line.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub created_by: Option<UserId>,
    pub deactivated_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub deactivated_by: Option<UserId>,
}

/// A token's record (never its plaintext or hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TokenInfo {
    pub id: Uuid,
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub label: String,
    pub created_at: DateTime<Utc>,
    /// The Admin who issued it; `None`: the command line.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub created_by: Option<UserId>,
    /// When it last authenticated a request (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The Admin who revoked it (or deactivated its user); `None`: the command line.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub revoked_by: Option<UserId>,
}

/// A token just issued: its record and its plaintext, shown this once and never stored.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub info: TokenInfo,
    pub secret: SecretString,
}

/// What deactivating a user did.
#[derive(Debug, Clone)]
pub struct Deactivation {
    pub user: User,
    /// Tokens revoked now (zero when the user was already deactivated).
    pub revoked_tokens: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    #[error("the name must be 1 to 200 characters on one line")]
    InvalidName,
    #[error("a token's label must be 1 to 200 characters on one line")]
    InvalidLabel,
    #[error("\"{0}\" is not an email address")]
    InvalidEmail(String),
    #[error("a user with the email address {0} already exists")]
    EmailTaken(String),
    #[error("no user {0}")]
    UnknownUser(UserId),
    #[error("no token {0}")]
    UnknownToken(Uuid),
    #[error("user {0} is deactivated")]
    Deactivated(UserId),
    #[error("an Admin cannot deactivate themselves")]
    DeactivatesItself,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<UsersError> for crate::ApiError {
    fn from(error: UsersError) -> Self {
        use crate::ApiError;
        match error {
            UsersError::InvalidName | UsersError::InvalidLabel | UsersError::InvalidEmail(_) => {
                ApiError::malformed("invalid-value", error.to_string())
            }
            UsersError::EmailTaken(_)
            | UsersError::Deactivated(_)
            | UsersError::DeactivatesItself => ApiError::Conflict(error.to_string()),
            UsersError::UnknownUser(_) | UsersError::UnknownToken(_) => {
                ApiError::NotFound(error.to_string())
            }
            UsersError::Database(error) => ApiError::failure(&error),
        }
    }
}

fn sqlite_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, sqlx::Error> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

fn parse_optional_time(text: Option<String>) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    text.as_deref().map(parse_time).transpose()
}

fn parse_uuid(text: &str) -> Result<Uuid, sqlx::Error> {
    Uuid::parse_str(text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

fn parse_user_id(text: Option<String>) -> Result<Option<UserId>, sqlx::Error> {
    text.as_deref()
        .map(|id| parse_uuid(id).map(UserId::from_uuid))
        .transpose()
}

/// The stored form of a plaintext token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether `value` has the shape of a token ([`new_token`]: `fr_` and 64 lowercase hex
/// digits). Anything else cannot match one, so it is refused without a lookup.
pub fn is_token_shaped(value: &str) -> bool {
    value.strip_prefix("fr_").is_some_and(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("fr_{}", hex::encode(bytes))
}

/// A name or a label: trimmed, 1 to 200 characters on one line, nothing hidden (the
/// domain's rule for names, `freshet_domain::values::single_line`).
fn one_line(input: &str, what: &'static str) -> Option<String> {
    freshet_domain::values::single_line(input, what, 200).ok()
}

/// The bare address `input` is (`amy@agency.example`), trimmed. A display name or angle
/// brackets (`Bob <amy@…>`) are refused: the address is unique, so it must be stored as
/// the address alone.
fn bare_address(input: &str) -> Result<String, UsersError> {
    let email = input.trim();
    let bare = email.len() <= 254
        && !email
            .chars()
            .any(|c| c.is_whitespace() || freshet_domain::values::is_hidden(c))
        && email
            .parse::<Mailbox>()
            .is_ok_and(|mailbox| mailbox.name.is_none() && mailbox.email.to_string() == email);
    if bare {
        Ok(email.to_owned())
    } else {
        Err(UsersError::InvalidEmail(email.to_owned()))
    }
}

fn validate(name: &str, email: &str) -> Result<(String, String), UsersError> {
    let name = one_line(name, "name").ok_or(UsersError::InvalidName)?;
    Ok((name, bare_address(email)?))
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

const INSERT_USER: &str = "INSERT INTO users (id, name, email, admin, created_at, created_by) \
                           VALUES ($1, $2, $3, $4, $5, $6)";

/// Inserts the token only while its user exists and is active, in the same statement, so a
/// token cannot be issued to a user being deactivated at the same time.
const INSERT_TOKEN: &str = "INSERT INTO api_tokens \
                            (id, user_id, token_hash, label, created_at, created_by) \
                            SELECT $1, $2, $3, $4, $5, $6 \
                            WHERE EXISTS \
                            (SELECT 1 FROM users WHERE id = $2 AND deactivated_at IS NULL)";

fn new_issued(user: UserId, label: &str, by: Option<UserId>) -> Result<IssuedToken, UsersError> {
    let label = one_line(label, "label").ok_or(UsersError::InvalidLabel)?;
    Ok(IssuedToken {
        info: TokenInfo {
            id: Uuid::now_v7(),
            user_id: user,
            label,
            created_at: Utc::now(),
            created_by: by,
            last_used_at: None,
            revoked_at: None,
            revoked_by: None,
        },
        secret: new_token().into(),
    })
}

async fn insert_token_pg(
    tx: &mut Transaction<'_, Postgres>,
    token: &IssuedToken,
) -> Result<u64, sqlx::Error> {
    let info = &token.info;
    Ok(sqlx::query(INSERT_TOKEN)
        .bind(info.id)
        .bind(info.user_id.as_uuid())
        .bind(token_hash(token.secret.expose_secret()))
        .bind(&info.label)
        .bind(info.created_at)
        .bind(info.created_by.as_ref().map(UserId::as_uuid))
        .execute(&mut **tx)
        .await?
        .rows_affected())
}

async fn insert_token_sqlite(
    tx: &mut Transaction<'_, Sqlite>,
    token: &IssuedToken,
) -> Result<u64, sqlx::Error> {
    let info = &token.info;
    Ok(sqlx::query(INSERT_TOKEN)
        .bind(info.id.to_string())
        .bind(info.user_id.to_string())
        .bind(token_hash(token.secret.expose_secret()))
        .bind(&info.label)
        .bind(sqlite_time(info.created_at))
        .bind(info.created_by.map(|by| by.to_string()))
        .execute(&mut **tx)
        .await?
        .rows_affected())
}

/// Creates a user with a first token labelled "initial", in one transaction: either both
/// exist or neither. `by` is the Admin creating it (`None`: the command line).
pub async fn add(
    db: &Database,
    name: &str,
    email: &str,
    admin: bool,
    by: Option<UserId>,
) -> Result<(User, IssuedToken), UsersError> {
    let (name, email) = validate(name, email)?;
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
    let token = new_issued(user.id, "initial", by)?;
    let stored = match db {
        Database::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            let inserted = sqlx::query(INSERT_USER)
                .bind(user.id.as_uuid())
                .bind(&user.name)
                .bind(&user.email)
                .bind(user.admin)
                .bind(user.created_at)
                .bind(by.as_ref().map(UserId::as_uuid))
                .execute(&mut *tx)
                .await;
            match inserted {
                Ok(_) => match insert_token_pg(&mut tx, &token).await {
                    Ok(_) => tx.commit().await,
                    Err(error) => Err(error),
                },
                Err(error) => Err(error),
            }
        }
        Database::Sqlite(pool) => {
            let mut tx = pool.begin().await?;
            let inserted = sqlx::query(INSERT_USER)
                .bind(user.id.to_string())
                .bind(&user.name)
                .bind(&user.email)
                .bind(user.admin)
                .bind(sqlite_time(user.created_at))
                .bind(by.map(|by| by.to_string()))
                .execute(&mut *tx)
                .await;
            match inserted {
                Ok(_) => match insert_token_sqlite(&mut tx, &token).await {
                    Ok(_) => tx.commit().await,
                    Err(error) => Err(error),
                },
                Err(error) => Err(error),
            }
        }
    };
    match stored {
        Err(error) if is_unique_violation(&error) => Err(UsersError::EmailTaken(user.email)),
        Err(error) => Err(error.into()),
        Ok(()) => Ok((user, token)),
    }
}

/// Issues a new token for `user`, who must exist and be active. `by` is the Admin issuing it
/// (`None`: the command line).
pub async fn issue_token(
    db: &Database,
    user: UserId,
    label: &str,
    by: Option<UserId>,
) -> Result<IssuedToken, UsersError> {
    let token = new_issued(user, label, by)?;
    let inserted = match db {
        Database::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            let inserted = insert_token_pg(&mut tx, &token).await?;
            tx.commit().await?;
            inserted
        }
        Database::Sqlite(pool) => {
            let mut tx = pool.begin().await?;
            let inserted = insert_token_sqlite(&mut tx, &token).await?;
            tx.commit().await?;
            inserted
        }
    };
    if inserted == 0 {
        return Err(match get(db, user).await? {
            None => UsersError::UnknownUser(user),
            Some(_) => UsersError::Deactivated(user),
        });
    }
    Ok(token)
}

/// Marks a token revoked by `by`, keeping the first revocation's time and actor.
const REVOKE_TOKEN: &str = "UPDATE api_tokens \
                            SET revoked_by = CASE WHEN revoked_at IS NULL THEN $2 ELSE revoked_by END, \
                            revoked_at = COALESCE(revoked_at, $1) WHERE id = $3";
const DEACTIVATE_USER: &str = "UPDATE users \
                               SET deactivated_by = CASE WHEN deactivated_at IS NULL THEN $2 \
                               ELSE deactivated_by END, \
                               deactivated_at = COALESCE(deactivated_at, $1) WHERE id = $3";
const REVOKE_USER_TOKENS: &str = "UPDATE api_tokens SET revoked_at = $1, revoked_by = $2 \
                                  WHERE user_id = $3 AND revoked_at IS NULL";
const NOTIFY_REVOCATION: &str = "SELECT pg_notify($1, '')";

/// Revokes a token: it stops working at once, in every process. Revoking twice is harmless
/// (the first revocation's time and actor are kept).
#[tracing::instrument(skip_all, fields(token.id = %token))]
pub async fn revoke_token(
    db: &Database,
    token: Uuid,
    by: Option<UserId>,
) -> Result<(), UsersError> {
    let now = Utc::now();
    let affected = match db {
        Database::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            let affected = sqlx::query(REVOKE_TOKEN)
                .bind(now)
                .bind(by.as_ref().map(UserId::as_uuid))
                .bind(token)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query(NOTIFY_REVOCATION)
                .bind(REVOCATIONS_CHANNEL)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            affected
        }
        Database::Sqlite(pool) => sqlx::query(REVOKE_TOKEN)
            .bind(sqlite_time(now))
            .bind(by.map(|by| by.to_string()))
            .bind(token.to_string())
            .execute(pool)
            .await?
            .rows_affected(),
    };
    if affected == 0 {
        return Err(UsersError::UnknownToken(token));
    }
    Ok(())
}

/// Deactivates a user: every token of theirs is revoked in the same transaction (at once,
/// in every process) and no new one can be issued. Deactivating twice is harmless.
#[tracing::instrument(skip_all, fields(user.id = %user))]
pub async fn deactivate(
    db: &Database,
    user: UserId,
    by: Option<UserId>,
) -> Result<Deactivation, UsersError> {
    if by == Some(user) {
        return Err(UsersError::DeactivatesItself);
    }
    let now = Utc::now();
    let (found, revoked_tokens) = match db {
        Database::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            let found = sqlx::query(DEACTIVATE_USER)
                .bind(now)
                .bind(by.as_ref().map(UserId::as_uuid))
                .bind(user.as_uuid())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let revoked = sqlx::query(REVOKE_USER_TOKENS)
                .bind(now)
                .bind(by.as_ref().map(UserId::as_uuid))
                .bind(user.as_uuid())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query(NOTIFY_REVOCATION)
                .bind(REVOCATIONS_CHANNEL)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            (found, revoked)
        }
        Database::Sqlite(pool) => {
            let mut tx = pool.begin().await?;
            let found = sqlx::query(DEACTIVATE_USER)
                .bind(sqlite_time(now))
                .bind(by.map(|by| by.to_string()))
                .bind(user.to_string())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let revoked = sqlx::query(REVOKE_USER_TOKENS)
                .bind(sqlite_time(now))
                .bind(by.map(|by| by.to_string()))
                .bind(user.to_string())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            (found, revoked)
        }
    };
    if found == 0 {
        return Err(UsersError::UnknownUser(user));
    }
    let user = get(db, user).await?.ok_or(UsersError::UnknownUser(user))?;
    tracing::info!(revoked_tokens, "user deactivated");
    Ok(Deactivation {
        user,
        revoked_tokens,
    })
}

type PgUserRow = (
    Uuid,
    String,
    String,
    bool,
    DateTime<Utc>,
    Option<Uuid>,
    Option<DateTime<Utc>>,
    Option<Uuid>,
);
type SqliteUserRow = (
    String,
    String,
    String,
    bool,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn pg_user(
    (id, name, email, admin, created_at, created_by, deactivated_at, deactivated_by): PgUserRow,
) -> User {
    User {
        id: UserId::from_uuid(id),
        name,
        email,
        admin,
        created_at,
        created_by: created_by.map(UserId::from_uuid),
        deactivated_at,
        deactivated_by: deactivated_by.map(UserId::from_uuid),
    }
}

fn sqlite_user(
    (id, name, email, admin, created_at, created_by, deactivated_at, deactivated_by): SqliteUserRow,
) -> Result<User, sqlx::Error> {
    Ok(User {
        id: UserId::from_uuid(parse_uuid(&id)?),
        name,
        email,
        admin,
        created_at: parse_time(&created_at)?,
        created_by: parse_user_id(created_by)?,
        deactivated_at: parse_optional_time(deactivated_at)?,
        deactivated_by: parse_user_id(deactivated_by)?,
    })
}

const USER_COLUMNS: &str = "u.id, u.name, u.email, u.admin, u.created_at, u.created_by, \
                            u.deactivated_at, u.deactivated_by";

/// The user `id`, if any.
pub async fn get(db: &Database, id: UserId) -> Result<Option<User>, UsersError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
    Ok(match db {
        Database::Postgres(pool) => sqlx::query_as::<_, PgUserRow>(&sql)
            .bind(id.as_uuid())
            .fetch_optional(pool)
            .await?
            .map(pg_user),
        Database::Sqlite(pool) => sqlx::query_as::<_, SqliteUserRow>(&sql)
            .bind(id.to_string())
            .fetch_optional(pool)
            .await?
            .map(sqlite_user)
            .transpose()?,
    })
}

/// Every user, oldest first, deactivated ones included.
pub async fn list(db: &Database) -> Result<Vec<User>, UsersError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.created_at, u.id");
    Ok(match db {
        Database::Postgres(pool) => sqlx::query_as::<_, PgUserRow>(&sql)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(pg_user)
            .collect(),
        Database::Sqlite(pool) => sqlx::query_as::<_, SqliteUserRow>(&sql)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(sqlite_user)
            .collect::<Result<_, _>>()?,
    })
}

type PgTokenRow = (
    Uuid,
    Uuid,
    String,
    DateTime<Utc>,
    Option<Uuid>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<Uuid>,
);
type SqliteTokenRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn pg_token(
    (id, user_id, label, created_at, created_by, last_used_at, revoked_at, revoked_by): PgTokenRow,
) -> TokenInfo {
    TokenInfo {
        id,
        user_id: UserId::from_uuid(user_id),
        label,
        created_at,
        created_by: created_by.map(UserId::from_uuid),
        last_used_at,
        revoked_at,
        revoked_by: revoked_by.map(UserId::from_uuid),
    }
}

fn sqlite_token(
    (id, user_id, label, created_at, created_by, last_used_at, revoked_at, revoked_by): SqliteTokenRow,
) -> Result<TokenInfo, sqlx::Error> {
    Ok(TokenInfo {
        id: parse_uuid(&id)?,
        user_id: UserId::from_uuid(parse_uuid(&user_id)?),
        label,
        created_at: parse_time(&created_at)?,
        created_by: parse_user_id(created_by)?,
        last_used_at: parse_optional_time(last_used_at)?,
        revoked_at: parse_optional_time(revoked_at)?,
        revoked_by: parse_user_id(revoked_by)?,
    })
}

/// Every token of `user` (revoked ones too), oldest first.
pub async fn tokens(db: &Database, user: UserId) -> Result<Vec<TokenInfo>, UsersError> {
    if get(db, user).await?.is_none() {
        return Err(UsersError::UnknownUser(user));
    }
    let sql = "SELECT id, user_id, label, created_at, created_by, last_used_at, revoked_at, \
               revoked_by FROM api_tokens WHERE user_id = $1 ORDER BY created_at, id";
    Ok(match db {
        Database::Postgres(pool) => sqlx::query_as::<_, PgTokenRow>(sql)
            .bind(user.as_uuid())
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(pg_token)
            .collect(),
        Database::Sqlite(pool) => sqlx::query_as::<_, SqliteTokenRow>(sql)
            .bind(user.to_string())
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(sqlite_token)
            .collect::<Result<_, _>>()?,
    })
}

/// The active user holding the unrevoked token whose [`token_hash`] is `hash`, if any. The
/// token's `last_used_at` is brought up to date when it is more than a minute old.
pub async fn authenticate(db: &Database, hash: &str) -> Result<Option<User>, UsersError> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, t.id, t.last_used_at FROM api_tokens t \
         JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.deactivated_at IS NULL"
    );
    let now = Utc::now();
    let stale = |used: Option<DateTime<Utc>>| used.is_none_or(|at| now - at >= LAST_USED_PRECISION);
    let touch = "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2";
    match db {
        Database::Postgres(pool) => {
            let row = sqlx::query(&sql).bind(hash).fetch_optional(pool).await?;
            let Some(row) = row else { return Ok(None) };
            use sqlx::Row as _;
            let user = pg_user(sqlx::FromRow::from_row(&row)?);
            let (token, used): (Uuid, Option<DateTime<Utc>>) = (row.try_get(8)?, row.try_get(9)?);
            if stale(used) {
                let touched = sqlx::query(touch).bind(now).bind(token).execute(pool).await;
                if let Err(error) = touched {
                    tracing::warn!(%error, token.id = %token, "could not record a token's use");
                }
            }
            Ok(Some(user))
        }
        Database::Sqlite(pool) => {
            let row = sqlx::query(&sql).bind(hash).fetch_optional(pool).await?;
            let Some(row) = row else { return Ok(None) };
            use sqlx::Row as _;
            let user = sqlite_user(sqlx::FromRow::from_row(&row)?)?;
            let (token, used): (String, Option<String>) = (row.try_get(8)?, row.try_get(9)?);
            if stale(parse_optional_time(used)?) {
                let touched = sqlx::query(touch)
                    .bind(sqlite_time(now))
                    .bind(&token)
                    .execute(pool)
                    .await;
                if let Err(error) = touched {
                    tracing::warn!(%error, token.id = %token, "could not record a token's use");
                }
            }
            Ok(Some(user))
        }
    }
}

/// The mail outbox's [`Directory`] backed by the users table.
#[derive(Debug, Clone)]
pub struct UserDirectory {
    db: Database,
}

impl UserDirectory {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl Directory for UserDirectory {
    async fn address(&self, user: UserId) -> Option<Mailbox> {
        match get(&self.db, user).await {
            Ok(Some(user)) => {
                let mut mailbox: Mailbox = user.email.parse().ok()?;
                mailbox.name = Some(user.name);
                Some(mailbox)
            }
            Ok(None) => None,
            Err(error) => {
                tracing::warn!(user.id = %user, error = %error, "could not look up a user's address");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 3 + 64);
        assert!(is_token_shaped(&a) && is_token_shaped(&b));
        assert!(!is_token_shaped(&a.to_uppercase()) && !is_token_shaped(&a[..66]));
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }

    #[test]
    fn names_and_emails_are_checked() {
        assert!(validate("Ann", "ann@example.com").is_ok());
        assert!(matches!(
            validate(" ", "ann@example.com"),
            Err(UsersError::InvalidName)
        ));
        assert!(matches!(
            validate("Ann", "not an email"),
            Err(UsersError::InvalidEmail(_))
        ));
        for dressed in [
            "Bob<ann@example.com>",
            "Bob <ann@example.com>",
            "<ann@example.com>",
        ] {
            assert!(
                matches!(validate("Bob", dressed), Err(UsersError::InvalidEmail(_))),
                "{dressed}"
            );
        }
        assert_eq!(
            validate(" Ann ", " ann@example.com ").unwrap(),
            ("Ann".to_owned(), "ann@example.com".to_owned())
        );
        assert!(matches!(
            validate("An\u{200b}n", "ann@example.com"),
            Err(UsersError::InvalidName)
        ));
    }
}
