//! Test support (cargo feature `testing`): a fresh, migrated database per test.
//!
//! - PostgreSQL: a new database `freshet_t_<uuid>` on the server of `DATABASE_URL`,
//!   dropped again when the [`TestDatabase`] is dropped. Without `DATABASE_URL` the test is
//!   skipped with a notice on stderr, unless `CI=true`, where that is a failure.
//! - SQLite: a new file in a temporary directory, removed on drop.
//!
//! Setup failures panic: this is test code.

use std::io::Write;
use std::str::FromStr;
use std::sync::Arc;

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, Executor, PgConnection};
use tempfile::TempDir;
use uuid::Uuid;

use crate::database::{Backend, Database};
use crate::event_store::EventStore;

/// A fresh, migrated database that lives as long as this value.
#[derive(Debug)]
pub struct TestDatabase {
    pub database: Database,
    url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Postgres {
        admin: Box<PgConnectOptions>,
        name: String,
    },
    Sqlite {
        _dir: TempDir,
    },
}

impl TestDatabase {
    /// A fresh database of `backend`, or `None` if PostgreSQL is not configured (outside CI).
    pub async fn new(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Postgres => Self::postgres().await,
            Backend::Sqlite => Some(Self::sqlite().await),
        }
    }

    /// A fresh PostgreSQL database, or `None` (with a notice) if `DATABASE_URL` is unset.
    ///
    /// # Panics
    /// If `DATABASE_URL` is unset while `CI=true`, or the server cannot be used.
    pub async fn postgres() -> Option<Self> {
        let Ok(base_url) = std::env::var("DATABASE_URL") else {
            if std::env::var("CI").is_ok_and(|ci| ci == "true") {
                panic!("DATABASE_URL must be set in CI: PostgreSQL tests cannot be skipped");
            }
            // Straight to stderr, past the test harness's output capture, so it is seen.
            let _ = writeln!(
                std::io::stderr(),
                "note: DATABASE_URL is not set; skipping a PostgreSQL test"
            );
            return None;
        };
        let admin = PgConnectOptions::from_str(&base_url).expect("DATABASE_URL is a valid URL");
        let name = format!("freshet_t_{}", Uuid::new_v4().simple());
        let mut conn = PgConnection::connect_with(&admin)
            .await
            .expect("connect to DATABASE_URL");
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create a test database");
        conn.close().await.expect("close the admin connection");

        let url = with_database(&base_url, &name);
        let database = Database::connect(&url)
            .await
            .expect("connect to the test database");
        database.migrate().await.expect("migrate the test database");
        Some(Self {
            database,
            url,
            cleanup: Cleanup::Postgres {
                admin: Box::new(admin),
                name,
            },
        })
    }

    /// A fresh SQLite database file in a new temporary directory.
    ///
    /// # Panics
    /// If the file cannot be created or migrated.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("freshet.db").display());
        let database = Database::connect(&url)
            .await
            .expect("create the SQLite test database");
        database.migrate().await.expect("migrate the test database");
        Self {
            database,
            url,
            cleanup: Cleanup::Sqlite { _dir: dir },
        }
    }

    /// The URL of this database, to open a second, independent pool on it.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn backend(&self) -> Backend {
        self.database.backend()
    }

    /// An event store on this database.
    ///
    /// # Panics
    /// If the store cannot start (on PostgreSQL it starts listening).
    pub async fn store(&self) -> Arc<dyn EventStore> {
        self.database
            .event_store()
            .await
            .expect("open the event store")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Cleanup::Postgres { admin, name } = &self.cleanup else {
            return;
        };
        let (admin, name) = (admin.as_ref().clone(), name.clone());
        // Drop runs inside the test's runtime; use a thread with its own runtime to wait.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect_with(&admin).await?;
                conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await?;
                conn.close().await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
        .join();
        if let Ok(Err(error)) = dropped {
            eprintln!("note: could not drop a test database: {error}");
        }
    }
}

/// `url` with its database name replaced by `name` (keeping any query parameters).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority = base.find("://").map_or(0, |index| index + 3);
    let server = match base[authority..].find('/') {
        Some(index) => &base[..authority + index],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

/// Generates `postgres::<scenario>` and `sqlite::<scenario>` tests, each calling
/// `scenario(TestDatabase)` on a fresh database of its backend. PostgreSQL scenarios are
/// skipped with a notice without `DATABASE_URL` (a failure under `CI=true`).
#[macro_export]
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $scenario() {
                    if let Some(db) = $crate::testing::TestDatabase::postgres().await {
                        super::$scenario(db).await;
                    }
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $scenario() {
                    super::$scenario($crate::testing::TestDatabase::sqlite().await).await;
                }
            )*
        }
    };
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_test_database_replaces_the_database_name() {
        assert_eq!(
            with_database("postgres://u@h:5432/ci", "t1"),
            "postgres://u@h:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u@h?sslmode=disable", "t1"),
            "postgres://u@h/t1?sslmode=disable"
        );
    }
}
