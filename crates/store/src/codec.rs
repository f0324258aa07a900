//! The one way Freshet writes UUIDs and instants to its databases.
//!
//! PostgreSQL keeps them as `uuid` and `timestamptz`. SQLite keeps them as text: a UUID in
//! its hyphenated form, an instant as fixed-width UTC text with microseconds
//! (`2027-03-10T12:00:00.000000Z`, see [`sqlite_time`]), so that comparing the text compares
//! the instants. [`DbUuid`] and [`DbTime`] bind and read either form, so one portable query
//! (`$1` parameters, run through [`crate::on_pool!`] or [`crate::on_tx!`]) serves both
//! backends.

use std::fmt;

use chrono::{DateTime, Utc};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};
use sqlx::sqlite::{SqliteArgumentValue, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Postgres, Sqlite, Type};
use uuid::Uuid;

/// An instant as SQLite keeps it: `2027-03-10T12:00:00.000000Z`, one width for every
/// instant (years 0 to 9999), so text order is time order.
pub fn sqlite_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// An instant read back from SQLite text: [`sqlite_time`]'s form, or any other RFC 3339
/// text (rows written with milliseconds, or with a `+00:00` offset).
pub fn parse_sqlite_time(text: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    DateTime::parse_from_rfc3339(text).map(|at| at.with_timezone(&Utc))
}

/// A UUID as SQLite keeps it: hyphenated lower-case text.
pub fn sqlite_uuid(id: Uuid) -> String {
    id.hyphenated().to_string()
}

/// A UUID bound or read as `uuid` on PostgreSQL and as hyphenated text on SQLite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DbUuid(pub Uuid);

/// An instant bound or read as `timestamptz` on PostgreSQL and as [`sqlite_time`] text on
/// SQLite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DbTime(pub DateTime<Utc>);

impl From<Uuid> for DbUuid {
    fn from(id: Uuid) -> Self {
        Self(id)
    }
}

impl From<DbUuid> for Uuid {
    fn from(id: DbUuid) -> Self {
        id.0
    }
}

impl From<DateTime<Utc>> for DbTime {
    fn from(at: DateTime<Utc>) -> Self {
        Self(at)
    }
}

impl From<DbTime> for DateTime<Utc> {
    fn from(at: DbTime) -> Self {
        at.0
    }
}

impl fmt::Display for DbUuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Type<Postgres> for DbUuid {
    fn type_info() -> PgTypeInfo {
        <Uuid as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for DbUuid {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <Uuid as Encode<'_, Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for DbUuid {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Self(<Uuid as Decode<'r, Postgres>>::decode(value)?))
    }
}

impl Type<Sqlite> for DbUuid {
    fn type_info() -> SqliteTypeInfo {
        <str as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <str as Type<Sqlite>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Sqlite> for DbUuid {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, Sqlite>>::encode(sqlite_uuid(self.0), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for DbUuid {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<'r, Sqlite>>::decode(value)?;
        Ok(Self(Uuid::parse_str(text)?))
    }
}

impl Type<Postgres> for DbTime {
    fn type_info() -> PgTypeInfo {
        <DateTime<Utc> as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for DbTime {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <DateTime<Utc> as Encode<'_, Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for DbTime {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Self(<DateTime<Utc> as Decode<'r, Postgres>>::decode(
            value,
        )?))
    }
}

impl Type<Sqlite> for DbTime {
    fn type_info() -> SqliteTypeInfo {
        <str as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <str as Type<Sqlite>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Sqlite> for DbTime {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, Sqlite>>::encode(sqlite_time(self.0), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for DbTime {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<'r, Sqlite>>::decode(value)?;
        Ok(Self(parse_sqlite_time(text)?))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn sqlite_times_have_one_width_so_text_order_is_time_order() {
        let whole = Utc.with_ymd_and_hms(2027, 3, 10, 12, 0, 0).single();
        let whole = whole.unwrap_or_default();
        let later = whole + chrono::Duration::microseconds(1_500);
        assert_eq!(sqlite_time(whole), "2027-03-10T12:00:00.000000Z");
        assert_eq!(sqlite_time(later), "2027-03-10T12:00:00.001500Z");
        assert!(sqlite_time(whole) < sqlite_time(later));
        assert_eq!(parse_sqlite_time(&sqlite_time(later)).ok(), Some(later));
        assert_eq!(
            parse_sqlite_time("2027-03-10T12:00:00.001+00:00").ok(),
            Some(whole + chrono::Duration::milliseconds(1))
        );
    }
}
