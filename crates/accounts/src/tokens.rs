//! Bearer tokens (migrations `0030`, `0052`). A token is 32 random bytes, shown once in
//! plaintext (`fr_<64 hex>`) and stored only as its SHA-256; it can be revoked. Who issued
//! or revoked it, and when, is kept with the row: an actor of `None` is the command line.
//!
//! On PostgreSQL every revocation also sends `NOTIFY` [`REVOCATIONS_CHANNEL`] in its
//! transaction, so every process forgets its cached tokens when it commits.

use chrono::{DateTime, TimeDelta, Utc};
use freshet_domain::UserId;
use freshet_store::codec::{DbTime, DbUuid};
use freshet_store::{Database, Tx, on_pool, on_tx};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::users::{self, USER_COLUMNS, User, UserRow, actor, db_actor};
use crate::{AccountError, validation};

/// The channel a revocation notifies (PostgreSQL), in the transaction that revokes.
pub const REVOCATIONS_CHANNEL: &str = "freshet_tokens";

const NOTIFY_REVOCATION: &str = "SELECT pg_notify($1, '')";

/// `last_used_at` is written at most this often per token.
const LAST_USED_PRECISION: TimeDelta = TimeDelta::minutes(1);

/// A token's record (never its plaintext or hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenInfo {
    pub id: Uuid,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub user_id: UserId,
    pub label: String,
    pub created_at: DateTime<Utc>,
    /// The Admin who issued it; `None`: the command line.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub created_by: Option<UserId>,
    /// When it last authenticated a request (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The Admin who revoked it (or deactivated its user); `None`: the command line.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub revoked_by: Option<UserId>,
}

/// A token just issued: its record and its plaintext, shown this once and never stored.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub info: TokenInfo,
    pub secret: SecretString,
}

/// The stored form of a plaintext token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether `value` has the shape of a token (`fr_` and 64 lowercase hex digits). Anything
/// else cannot match one, so it is refused without a lookup.
pub fn is_token_shaped(value: &str) -> bool {
    is_secret_shaped(value, "fr_")
}

/// Whether `value` is `prefix` and 64 lowercase hex digits: the shape of every secret
/// Freshet hands out (tokens `fr_`, sessions `fs_`, one-time links `fl_`).
pub(crate) fn is_secret_shaped(value: &str, prefix: &str) -> bool {
    value.strip_prefix(prefix).is_some_and(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// A new secret: `prefix` and 32 random bytes in hex.
pub(crate) fn new_secret(prefix: &str) -> String {
    let bytes: [u8; 32] = rand::random();
    format!("{prefix}{}", hex::encode(bytes))
}

pub(crate) fn new_issued(
    user: UserId,
    label: &str,
    by: Option<UserId>,
) -> Result<IssuedToken, AccountError> {
    Ok(IssuedToken {
        info: TokenInfo {
            id: Uuid::now_v7(),
            user_id: user,
            label: validation::label(label)?,
            created_at: Utc::now(),
            created_by: by,
            last_used_at: None,
            revoked_at: None,
            revoked_by: None,
        },
        secret: new_secret("fr_").into(),
    })
}

/// Inserts the token only while its user exists and is active. A deactivation committing at
/// the same instant may still let the insert through (the statement sees the user as it was),
/// but such a token never authenticates: `authenticate` joins on the user's `deactivated_at`.
const INSERT_TOKEN: &str = "INSERT INTO api_tokens \
                 (id, user_id, token_hash, label, created_at, created_by) \
                 SELECT $1, $2, $3, $4, $5, $6 \
                 WHERE EXISTS \
                 (SELECT 1 FROM users WHERE id = $2 AND deactivated_at IS NULL)";

/// Inserts `token` ([`INSERT_TOKEN`]) in `tx`: the number of rows inserted, 0 or 1.
pub(crate) async fn insert_token(tx: &mut Tx, token: &IssuedToken) -> Result<u64, sqlx::Error> {
    let info = &token.info;
    let hash = token_hash(token.secret.expose_secret());
    Ok(on_tx!(tx, conn => {
        sqlx::query(INSERT_TOKEN)
            .bind(DbUuid(info.id))
            .bind(DbUuid(info.user_id.as_uuid()))
            .bind(&hash)
            .bind(&info.label)
            .bind(DbTime(info.created_at))
            .bind(db_actor(info.created_by))
            .execute(&mut **conn)
            .await?
            .rows_affected()
    }))
}

/// Tells every process that tokens were revoked in `tx`, when it commits: `NOTIFY`
/// [`REVOCATIONS_CHANNEL`] on PostgreSQL. SQLite has no other process to tell (nothing is
/// cached there).
pub(crate) async fn notify_revocation(tx: &mut Tx) -> Result<(), sqlx::Error> {
    if let Tx::Postgres(conn) = tx {
        sqlx::query(NOTIFY_REVOCATION)
            .bind(REVOCATIONS_CHANNEL)
            .execute(&mut **conn)
            .await?;
    }
    Ok(())
}

/// Issues a new token for `user`, who must exist and be active. `by` is the Admin issuing it
/// (`None`: the command line).
pub async fn issue(
    db: &Database,
    user: UserId,
    label: &str,
    by: Option<UserId>,
) -> Result<IssuedToken, AccountError> {
    let token = new_issued(user, label, by)?;
    let mut tx = Tx::begin(db).await?;
    let inserted = insert_token(&mut tx, &token).await?;
    tx.commit().await?;
    if inserted == 0 {
        return Err(match users::get(db, user).await? {
            None => AccountError::UnknownUser(user),
            Some(_) => AccountError::Deactivated(user),
        });
    }
    Ok(token)
}

/// Marks a token revoked by `by`, keeping the first revocation's time and actor.
const REVOKE_TOKEN: &str = "UPDATE api_tokens \
                            SET revoked_by = CASE WHEN revoked_at IS NULL THEN $2 ELSE revoked_by END, \
                            revoked_at = COALESCE(revoked_at, $1) WHERE id = $3";

/// Revokes a token: it stops working at once, in every process. Revoking twice is harmless
/// (the first revocation's time and actor are kept).
#[tracing::instrument(skip_all, fields(token.id = %token))]
pub async fn revoke(db: &Database, token: Uuid, by: Option<UserId>) -> Result<(), AccountError> {
    let now = Utc::now();
    let mut tx = Tx::begin(db).await?;
    let affected = on_tx!(&mut tx, conn => {
        sqlx::query(REVOKE_TOKEN)
            .bind(DbTime(now))
            .bind(db_actor(by))
            .bind(DbUuid(token))
            .execute(&mut **conn)
            .await?
            .rows_affected()
    });
    notify_revocation(&mut tx).await?;
    tx.commit().await?;
    if affected == 0 {
        return Err(AccountError::UnknownToken(token));
    }
    Ok(())
}

/// An `api_tokens` row as either backend returns it.
#[derive(sqlx::FromRow)]
struct TokenRow {
    id: DbUuid,
    user_id: DbUuid,
    label: String,
    created_at: DbTime,
    created_by: Option<DbUuid>,
    last_used_at: Option<DbTime>,
    revoked_at: Option<DbTime>,
    revoked_by: Option<DbUuid>,
}

impl From<TokenRow> for TokenInfo {
    fn from(row: TokenRow) -> Self {
        Self {
            id: row.id.0,
            user_id: UserId::from_uuid(row.user_id.0),
            label: row.label,
            created_at: row.created_at.0,
            created_by: row.created_by.map(actor),
            last_used_at: row.last_used_at.map(|at| at.0),
            revoked_at: row.revoked_at.map(|at| at.0),
            revoked_by: row.revoked_by.map(actor),
        }
    }
}

/// Every token of `user` (revoked ones too), oldest first.
pub async fn of_user(db: &Database, user: UserId) -> Result<Vec<TokenInfo>, AccountError> {
    if users::get(db, user).await?.is_none() {
        return Err(AccountError::UnknownUser(user));
    }
    let sql = "SELECT id, user_id, label, created_at, created_by, last_used_at, revoked_at, \
               revoked_by FROM api_tokens WHERE user_id = $1 ORDER BY created_at, id";
    let rows: Vec<TokenRow> = on_pool!(db, pool => {
        sqlx::query_as(sql)
            .bind(DbUuid(user.as_uuid()))
            .fetch_all(pool)
            .await?
    });
    Ok(rows.into_iter().map(TokenInfo::from).collect())
}

/// A user's row ([`UserRow`]) with the token's id and `last_used_at`.
#[derive(sqlx::FromRow)]
struct AuthenticatedRow {
    #[sqlx(flatten)]
    user: UserRow,
    token_id: DbUuid,
    token_last_used_at: Option<DbTime>,
}

/// The active user holding the unrevoked token whose [`token_hash`] is `hash`, if any, asked
/// of the database (see [`crate::Authenticator`] for the cached way). The token's
/// `last_used_at` is brought up to date when it is more than a minute old.
pub async fn authenticate(db: &Database, hash: &str) -> Result<Option<User>, AccountError> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, t.id AS token_id, t.last_used_at AS token_last_used_at \
         FROM api_tokens t \
         JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.deactivated_at IS NULL"
    );
    let now = Utc::now();
    let stale = |used: Option<DateTime<Utc>>| used.is_none_or(|at| now - at >= LAST_USED_PRECISION);
    let touch = "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2";
    let row: Option<AuthenticatedRow> = on_pool!(db, pool => {
        sqlx::query_as(&sql).bind(hash).fetch_optional(pool).await?
    });
    let Some(row) = row else {
        return Ok(None);
    };
    if stale(row.token_last_used_at.map(|at| at.0)) {
        let token = row.token_id;
        let touched = on_pool!(db, pool => {
            sqlx::query(touch)
                .bind(DbTime(now))
                .bind(token)
                .execute(pool)
                .await
                .map(drop)
        });
        if let Err(error) = touched {
            tracing::warn!(%error, token.id = %token, "could not record a token's use");
        }
    }
    Ok(Some(row.user.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (new_secret("fr_"), new_secret("fr_"));
        assert_ne!(a, b);
        assert_eq!(a.len(), 3 + 64);
        assert!(is_token_shaped(&a) && is_token_shaped(&b));
        assert!(!is_token_shaped(&a.to_uppercase()) && !is_token_shaped(&a[..66]));
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}
