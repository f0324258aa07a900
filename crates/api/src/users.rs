//! People and their bearer tokens (migration `0030`). A token is 32 random bytes, shown once
//! in plaintext (`fr_<64 hex>`) and stored only as its SHA-256; it can be revoked.
//! `UserDirectory` gives the mail outbox each user's address from the same table.

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use freshet_domain::UserId;
use freshet_mail::{Directory, Mailbox};
use freshet_store::Database;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

/// A person who uses Freshet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct User {
    #[schema(value_type = String, format = Uuid)]
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub admin: bool,
    pub created_at: DateTime<Utc>,
}

/// A token's record (never its plaintext or hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TokenInfo {
    pub id: Uuid,
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    #[error("the name must be 1 to 200 characters on one line")]
    InvalidName,
    #[error("\"{0}\" is not an email address")]
    InvalidEmail(String),
    #[error("a user with the email address {0} already exists")]
    EmailTaken(String),
    #[error("no user {0}")]
    UnknownUser(UserId),
    #[error("no token {0}")]
    UnknownToken(Uuid),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<UsersError> for crate::ApiError {
    fn from(error: UsersError) -> Self {
        use crate::ApiError;
        match error {
            UsersError::InvalidName | UsersError::InvalidEmail(_) => {
                ApiError::malformed("invalid-value", error.to_string())
            }
            UsersError::EmailTaken(_) => ApiError::Conflict(error.to_string()),
            UsersError::UnknownUser(_) | UsersError::UnknownToken(_) => {
                ApiError::NotFound(error.to_string())
            }
            UsersError::Database(error) => ApiError::internal(error),
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

fn parse_uuid(text: &str) -> Result<Uuid, sqlx::Error> {
    Uuid::parse_str(text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
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

fn validate(name: &str, email: &str) -> Result<(String, String), UsersError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(UsersError::InvalidName);
    }
    let email = email.trim();
    let valid = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.parse::<freshet_mail::Mailbox>().is_ok();
    if !valid {
        return Err(UsersError::InvalidEmail(email.to_owned()));
    }
    Ok((name.to_owned(), email.to_owned()))
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// Creates a user with a first token labelled "initial". Returns the user and the token's
/// plaintext, which is shown this once and never stored.
pub async fn add(
    db: &Database,
    name: &str,
    email: &str,
    admin: bool,
) -> Result<(User, String), UsersError> {
    let (name, email) = validate(name, email)?;
    let user = User {
        id: UserId::from_uuid(Uuid::now_v7()),
        name,
        email,
        admin,
        created_at: Utc::now(),
    };
    let inserted = match db {
        Database::Postgres(pool) => sqlx::query(
            "INSERT INTO users (id, name, email, admin, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(user.id.as_uuid())
        .bind(&user.name)
        .bind(&user.email)
        .bind(user.admin)
        .bind(user.created_at)
        .execute(pool)
        .await
        .map(|_| ()),
        Database::Sqlite(pool) => sqlx::query(
            "INSERT INTO users (id, name, email, admin, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(user.id.to_string())
        .bind(&user.name)
        .bind(&user.email)
        .bind(user.admin)
        .bind(sqlite_time(user.created_at))
        .execute(pool)
        .await
        .map(|_| ()),
    };
    match inserted {
        Err(error) if is_unique_violation(&error) => {
            return Err(UsersError::EmailTaken(user.email));
        }
        other => other?,
    };
    let (_, token) = issue_token(db, user.id, "initial").await?;
    Ok((user, token))
}

/// Issues a new token for `user`. Returns its record and its plaintext (shown once).
pub async fn issue_token(
    db: &Database,
    user: UserId,
    label: &str,
) -> Result<(TokenInfo, String), UsersError> {
    if get(db, user).await?.is_none() {
        return Err(UsersError::UnknownUser(user));
    }
    let token = new_token();
    let info = TokenInfo {
        id: Uuid::now_v7(),
        user_id: user,
        label: label.trim().chars().take(200).collect(),
        created_at: Utc::now(),
        revoked_at: None,
    };
    let sql = "INSERT INTO api_tokens (id, user_id, token_hash, label, created_at) \
               VALUES ($1, $2, $3, $4, $5)";
    match db {
        Database::Postgres(pool) => {
            sqlx::query(sql)
                .bind(info.id)
                .bind(user.as_uuid())
                .bind(token_hash(&token))
                .bind(&info.label)
                .bind(info.created_at)
                .execute(pool)
                .await?;
        }
        Database::Sqlite(pool) => {
            sqlx::query(sql)
                .bind(info.id.to_string())
                .bind(user.to_string())
                .bind(token_hash(&token))
                .bind(&info.label)
                .bind(sqlite_time(info.created_at))
                .execute(pool)
                .await?;
        }
    }
    Ok((info, token))
}

/// Revokes a token: it stops working at once. Revoking twice is harmless.
pub async fn revoke_token(db: &Database, token: Uuid) -> Result<(), UsersError> {
    let now = Utc::now();
    let sql = "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2";
    let affected = match db {
        Database::Postgres(pool) => sqlx::query(sql)
            .bind(now)
            .bind(token)
            .execute(pool)
            .await?
            .rows_affected(),
        Database::Sqlite(pool) => sqlx::query(sql)
            .bind(sqlite_time(now))
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

type PgUserRow = (Uuid, String, String, bool, DateTime<Utc>);
type SqliteUserRow = (String, String, String, bool, String);

fn pg_user((id, name, email, admin, created_at): PgUserRow) -> User {
    User {
        id: UserId::from_uuid(id),
        name,
        email,
        admin,
        created_at,
    }
}

fn sqlite_user((id, name, email, admin, created_at): SqliteUserRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: UserId::from_uuid(parse_uuid(&id)?),
        name,
        email,
        admin,
        created_at: parse_time(&created_at)?,
    })
}

const USER_COLUMNS: &str = "u.id, u.name, u.email, u.admin, u.created_at";

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

/// Every user, oldest first.
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

/// The user holding the unrevoked token whose [`token_hash`] is `hash`, if any.
pub async fn authenticate(db: &Database, hash: &str) -> Result<Option<User>, UsersError> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL"
    );
    Ok(match db {
        Database::Postgres(pool) => sqlx::query_as::<_, PgUserRow>(&sql)
            .bind(hash)
            .fetch_optional(pool)
            .await?
            .map(pg_user),
        Database::Sqlite(pool) => sqlx::query_as::<_, SqliteUserRow>(&sql)
            .bind(hash)
            .fetch_optional(pool)
            .await?
            .map(sqlite_user)
            .transpose()?,
    })
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
    }
}
