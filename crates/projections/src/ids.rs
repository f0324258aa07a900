//! Ids as the read models store them. A row carries its ids as text (`InboxTask::task_id`,
//! ...: the form the API serves), while the tables keep them as the store's codec does
//! ([`DbUuid`]: `uuid` on PostgreSQL, hyphenated text on SQLite, migration `0064`). So a
//! row's id is bound through [`IdText`], an id the caller holds as a domain id through
//! [`DbUuid`], and a query reads ids back as text with `CAST(col AS TEXT) AS col` (which
//! also leaves `ORDER BY` to name the table's column, `table.col`, to keep its index).

use freshet_store::codec::DbUuid;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo};
use sqlx::sqlite::{SqliteArgumentValue, SqliteTypeInfo};
use sqlx::{Encode, Postgres, Sqlite, Type};
use uuid::Uuid;

/// An id held as text, bound as [`DbUuid`]. Text that is not a UUID fails the statement
/// (it cannot happen for rows the projections build: their ids are formatted from UUIDs).
#[derive(Debug, Clone, Copy)]
pub(crate) struct IdText<'a>(pub &'a str);

impl IdText<'_> {
    fn uuid(self) -> Result<DbUuid, BoxDynError> {
        Ok(DbUuid(Uuid::parse_str(self.0)?))
    }
}

impl Type<Postgres> for IdText<'_> {
    fn type_info() -> PgTypeInfo {
        <DbUuid as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for IdText<'_> {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <DbUuid as Encode<'_, Postgres>>::encode_by_ref(&self.uuid()?, buf)
    }
}

impl Type<Sqlite> for IdText<'_> {
    fn type_info() -> SqliteTypeInfo {
        <DbUuid as Type<Sqlite>>::type_info()
    }
}

impl<'q> Encode<'q, Sqlite> for IdText<'_> {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        <DbUuid as Encode<'q, Sqlite>>::encode_by_ref(&self.uuid()?, buf)
    }
}

/// `Some(id)` as [`IdText`], for a nullable id column.
pub(crate) fn optional(id: &Option<String>) -> Option<IdText<'_>> {
    id.as_deref().map(IdText)
}
