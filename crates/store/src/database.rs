//! Connecting to the database named by a URL, and migrating it.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::Connection as _;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use crate::error::StoreError;
use crate::event_store::EventStore;
use crate::postgres::PostgresStore;
use crate::sqlite::SqliteStore;

/// Every numbered file in the top-level `migrations/postgres/`, including other crates'.
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");
/// Every numbered file in the top-level `migrations/sqlite/`, including other crates'.
static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");

/// Per process: room for a scheduler tick (8 commands at once) next to the
/// API, the projection runners, the mail workers and the listener.
const POSTGRES_MAX_CONNECTIONS: u32 = 16;
const SQLITE_MAX_CONNECTIONS: u32 = 5;
/// How long a query waits for a pooled connection (or a new one) before it gives up: a
/// database that cannot be reached is answered 503 after this, not after sqlx's 30 s.
const POSTGRES_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// A pooled PostgreSQL connection idle for longer is checked before it is used again.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(30);
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Which database engine a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    /// `postgres://` or `postgresql://` is PostgreSQL; `sqlite:` is SQLite.
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        match scheme.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => Ok(Self::Postgres),
            "sqlite" => Ok(Self::Sqlite),
            _ => Err(StoreError::UnsupportedUrl {
                scheme: scheme.to_owned(),
            }),
        }
    }
}

/// A connection pool to the event store's database. Other crates use the pool directly
/// to write their read models in their own transactions.
#[derive(Debug, Clone)]
pub enum Database {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

impl Database {
    /// Connects to `postgres://…`, `postgresql://…` or `sqlite://path` (the SQLite file is
    /// created if missing, in WAL mode with foreign keys on).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        match Backend::from_url(url)? {
            Backend::Postgres => {
                let options =
                    PgConnectOptions::from_str(url).map_err(|source| StoreError::InvalidUrl {
                        backend: "PostgreSQL",
                        source,
                    })?;
                Ok(Self::connect_postgres(options).await?)
            }
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(url).map_err(|source| {
                    StoreError::InvalidUrl {
                        backend: "SQLite",
                        source,
                    }
                })?;
                Ok(Self::connect_sqlite(options).await?)
            }
        }
    }

    pub async fn connect_postgres(options: PgConnectOptions) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(POSTGRES_MAX_CONNECTIONS)
            .acquire_timeout(POSTGRES_ACQUIRE_TIMEOUT)
            // sqlx pings every connection it hands out by default: a second round trip for
            // each query. Only a connection that sat idle a while may have been cut.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > PING_WHEN_IDLE_FOR {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await?;
        Ok(Self::Postgres(pool))
    }

    pub async fn connect_sqlite(options: SqliteConnectOptions) -> Result<Self, StoreError> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(SQLITE_BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(SQLITE_MAX_CONNECTIONS)
            // A file connection cannot be cut; the default ping per query is pure overhead.
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        Ok(Self::Sqlite(pool))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgres(_) => Backend::Postgres,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// Applies every pending migration of this backend's folder.
    #[tracing::instrument(skip_all, fields(backend = ?self.backend()), err)]
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Self::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
            Self::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// The versions of this backend's migrations that the database has not applied (yet),
    /// oldest first: empty when the schema is up to date. Compares the embedded `Migrator`
    /// with the `_sqlx_migrations` table (every version if that table does not exist) and
    /// writes nothing, so a readiness probe may call it.
    pub async fn pending_migrations(&self) -> Result<Vec<i64>, StoreError> {
        let (migrator, table_exists) = match self {
            Self::Postgres(_) => (
                &POSTGRES_MIGRATIONS,
                "SELECT to_regclass('_sqlx_migrations') IS NOT NULL",
            ),
            Self::Sqlite(_) => (
                &SQLITE_MIGRATIONS,
                "SELECT EXISTS (SELECT 1 FROM sqlite_master \
                 WHERE type = 'table' AND name = '_sqlx_migrations')",
            ),
        };
        let exists: bool = crate::on_pool!(self, pool => {
            sqlx::query_scalar(table_exists).fetch_one(pool).await?
        });
        let applied: Vec<i64> = if exists {
            crate::on_pool!(self, pool => {
                sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                    .fetch_all(pool)
                    .await?
            })
        } else {
            Vec::new()
        };
        Ok(migrator
            .iter()
            .filter(|migration| migration.migration_type.is_up_migration())
            .map(|migration| migration.version)
            .filter(|version| !applied.contains(version))
            .collect())
    }

    /// The event store on this database (which must be migrated).
    pub async fn event_store(&self) -> Result<Arc<dyn EventStore>, StoreError> {
        Ok(match self {
            Self::Postgres(pool) => Arc::new(PostgresStore::new(pool.clone()).await?),
            Self::Sqlite(pool) => Arc::new(SqliteStore::new(pool.clone())),
        })
    }

    /// Closes every connection of the pool.
    pub async fn close(&self) {
        match self {
            Self::Postgres(pool) => pool.close().await,
            Self::Sqlite(pool) => pool.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_scheme_selects_the_backend() {
        assert_eq!(
            Backend::from_url("postgres://u@h/db").ok(),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Backend::from_url("postgresql://u@h/db").ok(),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Backend::from_url("sqlite://data/freshet.db").ok(),
            Some(Backend::Sqlite)
        );
        assert!(matches!(
            Backend::from_url("mysql://u:secret@h/db"),
            Err(StoreError::UnsupportedUrl { scheme }) if scheme == "mysql"
        ));
        assert!(matches!(
            Backend::from_url("freshet.db"),
            Err(StoreError::UnsupportedUrl { .. })
        ));
    }
}
