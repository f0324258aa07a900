//! One database transaction on either backend, and the macros that run the same portable
//! SQL on either: what followers write their rows and checkpoints in.

use sqlx::{PgTransaction, SqliteTransaction};

use crate::database::Database;

/// An open transaction. The runner begins it, the processor writes into it, and the runner
/// writes the checkpoint and commits (or drops it, which rolls back).
///
/// On SQLite it was begun with `BEGIN IMMEDIATE`, so it holds the write lock from the start.
#[derive(Debug)]
pub enum Tx {
    Postgres(PgTransaction<'static>),
    Sqlite(SqliteTransaction<'static>),
}

impl Tx {
    pub async fn begin(db: &Database) -> Result<Self, sqlx::Error> {
        Ok(match db {
            Database::Postgres(pool) => Self::Postgres(pool.begin().await?),
            Database::Sqlite(pool) => Self::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
        })
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Self::Postgres(tx) => tx.commit().await,
            Self::Sqlite(tx) => tx.commit().await,
        }
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Self::Postgres(tx) => tx.rollback().await,
            Self::Sqlite(tx) => tx.rollback().await,
        }
    }
}

/// Runs the same code on either backend: `on_tx!(tx, conn => expr)` binds `conn` to the
/// backend's `&mut Transaction` and type-checks `expr` once per backend.
/// Queries must therefore be portable SQL (`$1` parameters work on both).
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::Tx::Postgres($conn) => $body,
            $crate::Tx::Sqlite($conn) => $body,
        }
    };
}

/// Like [`on_tx!`], for a [`Database`](crate::Database) pool.
#[macro_export]
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::Database::Postgres($pool) => $body,
            $crate::Database::Sqlite($pool) => $body,
        }
    };
}

/// SQLite has one writer at a time. A processor transaction holds the write lock and may
/// need a second pooled connection (to reload a portfolio's stream), so processors of this
/// process take turns here before `BEGIN IMMEDIATE` instead of filling the pool with
/// connections that all wait for the lock. PostgreSQL needs no turn.
static SQLITE_WRITER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// This process's turn to write on SQLite (hold it until the transaction ends); `None` on
/// PostgreSQL.
pub async fn writer_turn(db: &Database) -> Option<tokio::sync::MutexGuard<'static, ()>> {
    match db {
        Database::Postgres(_) => None,
        Database::Sqlite(_) => Some(SQLITE_WRITER.lock().await),
    }
}
