//! Scratch databases: the PostgreSQL database named by `--database-url`, dropped and created
//! again before every scenario, and SQLite files in a temporary folder.

use std::path::PathBuf;
use std::str::FromStr;

use anyhow::{Context as _, Result, bail};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};

use freshet_store::Database;

/// The table the baselines write to: the same kind of row as an event (a stream id and a
/// ~200-byte JSON payload), with nothing of Freshet around it.
pub const BASELINE_TABLE_POSTGRES: &str = "CREATE TABLE bench_baseline (\
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
     stream_id text NOT NULL, \
     payload jsonb NOT NULL)";
pub const BASELINE_TABLE_SQLITE: &str = "CREATE TABLE bench_baseline (\
     id INTEGER PRIMARY KEY AUTOINCREMENT, \
     stream_id TEXT NOT NULL, \
     payload TEXT NOT NULL CHECK (json_valid(payload))) STRICT";

/// The PostgreSQL scratch database. Its name must contain `bench`: it is dropped without
/// asking.
#[derive(Debug, Clone)]
pub struct PgScratch {
    options: PgConnectOptions,
    name: String,
}

impl PgScratch {
    pub fn new(url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url).context("invalid --database-url")?;
        let name = options
            .get_database()
            .context("--database-url must name a database (e.g. .../freshet_bench)")?
            .to_owned();
        if !name.contains("bench") || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            bail!(
                "refusing to use database \"{name}\": the benchmark drops and recreates it, so \
                 its name must contain \"bench\" and only letters, digits and underscores"
            );
        }
        Ok(Self { options, name })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops and recreates the database, migrates it (Freshet's own migrations) and adds the
    /// baseline table. Returns a pool exactly as Freshet opens one (`Database::connect`).
    pub async fn recreate(&self) -> Result<Database> {
        self.recreate_empty(&self.name).await?;
        let db = Database::connect_postgres(self.options.clone())
            .await
            .context("cannot connect to the scratch database")?;
        db.migrate().await.context("cannot migrate")?;
        if let Database::Postgres(pool) = &db {
            sqlx::query(BASELINE_TABLE_POSTGRES).execute(pool).await?;
        }
        Ok(db)
    }

    /// Drops and recreates `<name>_<suffix>` beside the scratch database, empty (a peer's
    /// tables must not meet Freshet's), and returns a pool on it opened as Freshet opens one.
    pub async fn recreate_beside(&self, suffix: &str) -> Result<sqlx::PgPool> {
        let name = self.beside(suffix);
        self.recreate_empty(&name).await?;
        match Database::connect_postgres(self.options.clone().database(&name)).await {
            Ok(Database::Postgres(pool)) => Ok(pool),
            Ok(Database::Sqlite(_)) => bail!("{name} opened as SQLite"),
            Err(error) => Err(error).with_context(|| format!("cannot connect to {name}")),
        }
    }

    /// Drops the database at the end of the run.
    pub async fn drop_database(&self) -> Result<()> {
        self.drop_named(&self.name).await
    }

    /// Drops `<name>_<suffix>` (see [`Self::recreate_beside`]).
    pub async fn drop_beside(&self, suffix: &str) -> Result<()> {
        self.drop_named(&self.beside(suffix)).await
    }

    fn beside(&self, suffix: &str) -> String {
        format!("{}_{suffix}", self.name)
    }

    async fn admin(&self) -> Result<PgConnection> {
        self.options
            .clone()
            .database("postgres")
            .connect()
            .await
            .context("cannot connect to the server's \"postgres\" database")
    }

    async fn recreate_empty(&self, name: &str) -> Result<()> {
        self.drop_named(name)
            .await
            .with_context(|| format!("cannot drop the scratch database {name}"))?;
        let mut admin = self.admin().await?;
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .with_context(|| format!("cannot create the scratch database {name}"))?;
        admin.close().await.ok();
        Ok(())
    }

    async fn drop_named(&self, name: &str) -> Result<()> {
        let mut admin = self.admin().await?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .execute(&mut admin)
            .await?;
        admin.close().await.ok();
        Ok(())
    }
}

/// SQLite files in one temporary folder (removed when the benchmark ends).
#[derive(Debug)]
pub struct SqliteScratch {
    dir: tempfile::TempDir,
}

impl SqliteScratch {
    pub fn new(parent: Option<&PathBuf>) -> Result<Self> {
        let dir = match parent {
            Some(parent) => tempfile::Builder::new()
                .prefix("freshet-bench-")
                .tempdir_in(parent)?,
            None => tempfile::Builder::new()
                .prefix("freshet-bench-")
                .tempdir()?,
        };
        Ok(Self { dir })
    }

    /// A new, migrated SQLite file `name.db` (WAL, as Freshet opens it), with the baseline
    /// table.
    pub async fn recreate(&self, name: &str) -> Result<Database> {
        let path = self.dir.path().join(format!("{name}.db"));
        for suffix in ["", "-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{suffix}", path.display()));
            if file.exists() {
                std::fs::remove_file(&file)?;
            }
        }
        let db = Database::connect(&format!("sqlite://{}", path.display()))
            .await
            .context("cannot open the SQLite file")?;
        db.migrate().await.context("cannot migrate SQLite")?;
        if let Database::Sqlite(pool) = &db {
            sqlx::query(BASELINE_TABLE_SQLITE).execute(pool).await?;
        }
        Ok(db)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_bench_database_is_ever_dropped() {
        assert!(PgScratch::new("postgres://postgres@127.0.0.1/freshet_bench").is_ok());
        assert!(PgScratch::new("postgres://postgres@127.0.0.1/freshet").is_err());
        assert!(PgScratch::new("postgres://postgres@127.0.0.1/bench\"; drop").is_err());
    }
}
