//! The scenarios, each measuring Freshet and, alternating with it, its baseline.

pub mod commands;
pub mod http;
pub mod import;
pub mod lag;
pub mod rebuild;
pub mod scheduler;

use anyhow::{Context as _, Result};
use chrono::{NaiveDate, Utc};

use freshet_store::Database;

use crate::report::Report;
use crate::scratch::{PgScratch, SqliteScratch};
use crate::{Args, Scenario};

/// Which database a scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Postgres,
    Sqlite,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Sqlite => "sqlite",
        }
    }
}

/// What every scenario shares: the options and the scratch databases.
#[derive(Debug)]
pub struct Ctx {
    pub args: Args,
    pg: Option<PgScratch>,
    sqlite: SqliteScratch,
}

impl Ctx {
    pub fn new(args: Args) -> Result<Self> {
        let pg = args
            .database_url
            .as_deref()
            .map(PgScratch::new)
            .transpose()?;
        let sqlite = SqliteScratch::new(args.sqlite_dir.as_ref())?;
        Ok(Self { args, pg, sqlite })
    }

    pub fn pg(&self) -> Result<&PgScratch> {
        self.pg.as_ref().context(
            "this scenario needs PostgreSQL: pass --database-url or set \
             FRESHET_BENCH_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/freshet_bench)",
        )
    }

    /// A fresh, migrated database for one scenario.
    pub async fn fresh(&self, target: Target, name: &str) -> Result<Database> {
        match target {
            Target::Postgres => self.pg()?.recreate().await,
            Target::Sqlite => self.sqlite.recreate(name).await,
        }
    }

    /// Drops the scratch database unless asked to keep it.
    pub async fn finish(&self) {
        if let Some(pg) = &self.pg
            && !self.args.keep_database
            && let Err(error) = pg.drop_database().await
        {
            eprintln!(
                "could not drop the scratch database {}: {error:#}",
                pg.name()
            );
        }
    }
}

/// The agency's "today" during a benchmark: the real date (commands use the system clock).
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// Runs the chosen scenario(s), adding their figures to `report`.
pub async fn run(ctx: &Ctx, report: &mut Report) -> Result<()> {
    let all = ctx.args.scenario == Scenario::All;
    let wants = |scenario: Scenario| all || ctx.args.scenario == scenario;
    eprintln!("{}", machine());
    if wants(Scenario::Commands) {
        commands::run(ctx, report, Target::Postgres).await?;
    }
    if wants(Scenario::Rebuild) {
        rebuild::run(ctx, report, Target::Postgres).await?;
    }
    if wants(Scenario::Scheduler) {
        scheduler::run(ctx, report).await?;
    }
    if wants(Scenario::Sqlite) {
        commands::run(ctx, report, Target::Sqlite).await?;
        rebuild::run(ctx, report, Target::Sqlite).await?;
    }
    if wants(Scenario::Lag) {
        lag::run(ctx, report).await?;
    }
    if wants(Scenario::Http) {
        http::run(ctx, report).await?;
    }
    if wants(Scenario::Import) {
        import::run(ctx, report).await?;
    }
    Ok(())
}

/// The machine the figures come from, and how busy it was when the run started.
pub fn machine() -> String {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find(|line| line.starts_with("model name"))
        .and_then(|line| line.split(':').nth(1))
        .map_or_else(|| "unknown CPU".to_owned(), |m| m.trim().to_owned());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let memory = read("/proc/meminfo")
        .lines()
        .find(|line| line.starts_with("MemTotal"))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024 / 1024);
    let load = read("/proc/loadavg");
    format!(
        "machine: {cpu}, {cores} cores, {memory} GiB; load average {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )
}
