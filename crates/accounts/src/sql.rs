//! One SQL text per query on both backends. PostgreSQL stores ids as `uuid` and instants as
//! `timestamptz`; SQLite stores both as text. A query's body is written once inside
//! [`on_db!`], which type-checks it once per backend with `C` naming that backend's
//! [`Codec`]: bind `C::id(..)` and `C::time(..)`, decode rows of `C::Id` and `C::Time`.

use chrono::{DateTime, SecondsFormat, Utc};
use freshet_domain::UserId;
use uuid::Uuid;

/// How a backend stores ids and instants.
pub(crate) trait Codec {
    /// An id as bound and decoded.
    type Id;
    /// An instant as bound and decoded.
    type Time;
    /// Whether revocations are sent to other processes (`NOTIFY`) in their transaction.
    const NOTIFIES: bool;

    fn id(id: Uuid) -> Self::Id;
    fn time(at: DateTime<Utc>) -> Self::Time;
    fn uuid(id: Self::Id) -> Result<Uuid, sqlx::Error>;
    fn at(at: Self::Time) -> Result<DateTime<Utc>, sqlx::Error>;

    fn user(id: UserId) -> Self::Id {
        Self::id(id.as_uuid())
    }

    fn by(user: Option<UserId>) -> Option<Self::Id> {
        user.map(Self::user)
    }

    fn user_id(id: Self::Id) -> Result<UserId, sqlx::Error> {
        Self::uuid(id).map(UserId::from_uuid)
    }

    fn by_id(id: Option<Self::Id>) -> Result<Option<UserId>, sqlx::Error> {
        id.map(Self::user_id).transpose()
    }

    fn maybe_at(at: Option<Self::Time>) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
        at.map(Self::at).transpose()
    }
}

/// PostgreSQL: `uuid` and `timestamptz` columns.
#[derive(Debug)]
pub(crate) enum Pg {}

impl Codec for Pg {
    type Id = Uuid;
    type Time = DateTime<Utc>;
    const NOTIFIES: bool = true;

    fn id(id: Uuid) -> Uuid {
        id
    }
    fn time(at: DateTime<Utc>) -> DateTime<Utc> {
        at
    }
    fn uuid(id: Uuid) -> Result<Uuid, sqlx::Error> {
        Ok(id)
    }
    fn at(at: DateTime<Utc>) -> Result<DateTime<Utc>, sqlx::Error> {
        Ok(at)
    }
}

/// SQLite: ids as hyphenated text, instants as RFC 3339 text ([`sqlite_time`]).
#[derive(Debug)]
pub(crate) enum Lite {}

impl Codec for Lite {
    type Id = String;
    type Time = String;
    const NOTIFIES: bool = false;

    fn id(id: Uuid) -> String {
        id.to_string()
    }
    fn time(at: DateTime<Utc>) -> String {
        sqlite_time(at)
    }
    fn uuid(id: String) -> Result<Uuid, sqlx::Error> {
        Uuid::parse_str(&id).map_err(|e| sqlx::Error::Decode(Box::new(e)))
    }
    fn at(at: String) -> Result<DateTime<Utc>, sqlx::Error> {
        DateTime::parse_from_rfc3339(&at)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| sqlx::Error::Decode(Box::new(e)))
    }
}

/// An instant as SQLite stores it: RFC 3339 in UTC with microseconds, so text order is
/// time order.
pub(crate) fn sqlite_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// `on_db!(db, pool, C => body)`: runs `body` on the backend's pool `pool`, with the type
/// `C` naming its [`Codec`]. The body is type-checked once per backend, so its SQL must be
/// portable (`$1` parameters work on both).
macro_rules! on_db {
    ($db:expr, $pool:ident, $codec:ident => $body:expr) => {
        match $db {
            ::freshet_store::Database::Postgres($pool) => {
                type $codec = $crate::sql::Pg;
                $body
            }
            ::freshet_store::Database::Sqlite($pool) => {
                type $codec = $crate::sql::Lite;
                $body
            }
        }
    };
}
pub(crate) use on_db;

pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}
