//! Bearer tokens (migrations `0030`, `0052`). A token is 32 random bytes, shown once in
//! plaintext (`fr_<64 hex>`) and stored only as its SHA-256; it can be revoked. Who issued
//! or revoked it, and when, is kept with the row: an actor of `None` is the command line.
//!
//! On PostgreSQL every revocation also sends `NOTIFY` [`REVOCATIONS_CHANNEL`] in its
//! transaction, so every process forgets its cached tokens when it commits.

use chrono::{DateTime, TimeDelta, Utc};
use freshet_domain::UserId;
use freshet_store::Database;
use secrecy::SecretString;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::sql::{Codec, on_db};
use crate::users::{self, USER_COLUMNS, User};
use crate::{AccountError, validation};

/// The channel a revocation notifies (PostgreSQL), in the transaction that revokes.
pub const REVOCATIONS_CHANNEL: &str = "freshet_tokens";

pub(crate) const NOTIFY_REVOCATION: &str = "SELECT pg_notify($1, '')";

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
    value.strip_prefix("fr_").is_some_and(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("fr_{}", hex::encode(bytes))
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
        secret: new_token().into(),
    })
}

/// Inserts the token only while its user exists and is active, in the same statement, so a
/// token cannot be issued to a user being deactivated at the same time.
pub(crate) const INSERT_TOKEN: &str = "INSERT INTO api_tokens \
                            (id, user_id, token_hash, label, created_at, created_by) \
                            SELECT $1, $2, $3, $4, $5, $6 \
                            WHERE EXISTS \
                            (SELECT 1 FROM users WHERE id = $2 AND deactivated_at IS NULL)";

/// `insert_token!(C, executor, &IssuedToken)`: [`INSERT_TOKEN`] with codec `C` (see
/// [`on_db!`](crate::sql::on_db)); the number of rows inserted, 0 or 1.
macro_rules! insert_token {
    ($codec:ty, $executor:expr, $token:expr) => {{
        use secrecy::ExposeSecret as _;
        let token: &$crate::tokens::IssuedToken = $token;
        let info = &token.info;
        sqlx::query($crate::tokens::INSERT_TOKEN)
            .bind(<$codec>::id(info.id))
            .bind(<$codec>::user(info.user_id))
            .bind($crate::tokens::token_hash(token.secret.expose_secret()))
            .bind(&info.label)
            .bind(<$codec>::time(info.created_at))
            .bind(<$codec>::by(info.created_by))
            .execute($executor)
            .await
            .map(|done| done.rows_affected())
    }};
}
pub(crate) use insert_token;

/// Issues a new token for `user`, who must exist and be active. `by` is the Admin issuing it
/// (`None`: the command line).
pub async fn issue(
    db: &Database,
    user: UserId,
    label: &str,
    by: Option<UserId>,
) -> Result<IssuedToken, AccountError> {
    let token = new_issued(user, label, by)?;
    let inserted = on_db!(db, pool, C => insert_token!(C, pool, &token)?);
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
    let affected: u64 = on_db!(db, pool, C => {
        let mut tx = pool.begin().await?;
        let affected = sqlx::query(REVOKE_TOKEN)
            .bind(C::time(now))
            .bind(C::by(by))
            .bind(C::id(token))
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
        affected
    });
    if affected == 0 {
        return Err(AccountError::UnknownToken(token));
    }
    Ok(())
}

type TokenRow<C> = (
    <C as Codec>::Id,
    <C as Codec>::Id,
    String,
    <C as Codec>::Time,
    Option<<C as Codec>::Id>,
    Option<<C as Codec>::Time>,
    Option<<C as Codec>::Time>,
    Option<<C as Codec>::Id>,
);

fn from_row<C: Codec>(
    (id, user_id, label, created_at, created_by, last_used_at, revoked_at, revoked_by): TokenRow<C>,
) -> Result<TokenInfo, sqlx::Error> {
    Ok(TokenInfo {
        id: C::uuid(id)?,
        user_id: C::user_id(user_id)?,
        label,
        created_at: C::at(created_at)?,
        created_by: C::by_id(created_by)?,
        last_used_at: C::maybe_at(last_used_at)?,
        revoked_at: C::maybe_at(revoked_at)?,
        revoked_by: C::by_id(revoked_by)?,
    })
}

/// Every token of `user` (revoked ones too), oldest first.
pub async fn of_user(db: &Database, user: UserId) -> Result<Vec<TokenInfo>, AccountError> {
    if users::get(db, user).await?.is_none() {
        return Err(AccountError::UnknownUser(user));
    }
    let sql = "SELECT id, user_id, label, created_at, created_by, last_used_at, revoked_at, \
               revoked_by FROM api_tokens WHERE user_id = $1 ORDER BY created_at, id";
    Ok(on_db!(db, pool, C => sqlx::query_as::<_, TokenRow<C>>(sql)
        .bind(C::user(user))
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(from_row::<C>)
        .collect::<Result<_, _>>()?))
}

/// A user's row (`users::UserRow`) followed by the token's id and `last_used_at`.
type AuthenticatedRow<C> = (
    <C as Codec>::Id,
    String,
    String,
    bool,
    <C as Codec>::Time,
    Option<<C as Codec>::Id>,
    Option<<C as Codec>::Time>,
    Option<<C as Codec>::Id>,
    <C as Codec>::Id,
    Option<<C as Codec>::Time>,
);

/// The active user holding the unrevoked token whose [`token_hash`] is `hash`, if any, asked
/// of the database (see [`crate::Authenticator`] for the cached way). The token's
/// `last_used_at` is brought up to date when it is more than a minute old.
pub async fn authenticate(db: &Database, hash: &str) -> Result<Option<User>, AccountError> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, t.id, t.last_used_at FROM api_tokens t \
         JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.deactivated_at IS NULL"
    );
    let now = Utc::now();
    let stale = |used: Option<DateTime<Utc>>| used.is_none_or(|at| now - at >= LAST_USED_PRECISION);
    let touch = "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2";
    Ok(on_db!(db, pool, C => {
        let row = sqlx::query_as::<_, AuthenticatedRow<C>>(&sql)
            .bind(hash)
            .fetch_optional(pool)
            .await?;
        match row {
            None => None,
            Some((id, name, email, admin, created_at, created_by, deactivated_at, deactivated_by, token, used)) => {
                let user = users::from_row::<C>((id, name, email, admin, created_at, created_by, deactivated_at, deactivated_by))?;
                if stale(C::maybe_at(used)?) {
                    let token = C::uuid(token)?;
                    let touched = sqlx::query(touch)
                        .bind(C::time(now))
                        .bind(C::id(token))
                        .execute(pool)
                        .await;
                    if let Err(error) = touched {
                        tracing::warn!(%error, token.id = %token, "could not record a token's use");
                    }
                }
                Some(user)
            }
        }
    }))
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
}
