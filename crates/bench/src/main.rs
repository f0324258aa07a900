#![doc = include_str!("../README.md")]

mod baseline;
mod counting;
mod cpu;
mod drive;
mod generate;
mod peer;
mod report;
mod scenarios;
mod scratch;
mod seed;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand, ValueEnum};

use crate::report::Report;
use crate::scenarios::Ctx;

/// Measures Freshet against the physical limit of its database, side by side, in one run.
#[derive(Debug, Parser)]
#[command(name = "freshet-bench", version)]
pub struct Args {
    /// The scratch PostgreSQL database: DROPPED and created again for every scenario, so its
    /// name must contain "bench" (e.g. postgres://postgres@127.0.0.1:5432/freshet_bench).
    #[arg(long, env = "FRESHET_BENCH_DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Which scenario to run.
    #[arg(long, value_enum, default_value_t = Scenario::All)]
    pub scenario: Scenario,

    /// Runs of each figure (Freshet and its baseline alternate); median, min and max over them.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub runs: u32,

    /// Seconds of each closed-loop load run (commands, HTTP).
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,

    /// Rows per transaction of the group-commit limit (commands scenario, PostgreSQL).
    #[arg(long, value_delimiter = ',', default_value = "8,64",
          value_parser = clap::value_parser!(u16).range(1..=10_000))]
    pub batch_sizes: Vec<u16>,

    /// Events in the log the PostgreSQL rebuild starts from.
    #[arg(long, default_value_t = 1_000_000)]
    pub events: u64,

    /// Events in the log the SQLite rebuild starts from.
    #[arg(long, default_value_t = 200_000)]
    pub sqlite_events: u64,

    /// Portfolios of the generated agency (rebuild and HTTP scenarios).
    #[arg(long, default_value_t = 10_000)]
    pub portfolios: usize,

    /// Portfolios the scheduler scenario looks at (5% of them are due).
    #[arg(long, default_value_t = 100_000)]
    pub scheduler_portfolios: usize,

    /// Seconds of each sustained-load run of the live-lag scenario.
    #[arg(long, default_value_t = 60)]
    pub lag_seconds: u64,

    /// Commands per second of the live-lag scenario.
    #[arg(long, default_value_t = 1_000)]
    pub lag_rate: u64,

    /// Events per page and transaction while a rebuild fills (Freshet's default: 20,000).
    #[arg(long, default_value_t = 20_000)]
    pub rebuild_batch_size: usize,

    /// Portfolios the scheduler ticks at once (Freshet's default).
    #[arg(long, default_value_t = freshet_automation::DEFAULT_TICK_CONCURRENCY)]
    pub scheduler_concurrency: usize,

    /// Portfolios (10 tickets each) of the HubSpot import scenario; the goal is for 10,000.
    #[arg(long, default_value_t = 10_000)]
    pub import_portfolios: usize,

    /// Inbox tasks the HTTP scenario serves.
    #[arg(long, default_value_t = 100_000)]
    pub http_tasks: u64,

    /// Concurrent connections of the HTTP load generator. 16 keeps the 2-core machine's p99
    /// under the goal's 10 ms; more connections add queueing, not throughput.
    #[arg(long, default_value_t = 16)]
    pub http_connections: usize,

    /// Where the SQLite scenarios put their files (a temporary folder inside it).
    #[arg(long)]
    pub sqlite_dir: Option<PathBuf>,

    /// Keep the scratch PostgreSQL database after the run (it is dropped by default).
    #[arg(long)]
    pub keep_database: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// 1. Commands with 1 and 8 clients, and 8 clients on one Ad Set.
    Commands,
    /// 2. Rebuild of every read model from a generated log.
    Rebuild,
    /// 5. One scheduler tick over many portfolios, 5% due.
    Scheduler,
    /// 6. Scenarios 1 and 2 on embedded SQLite.
    Sqlite,
    /// 3. Commit-to-inbox lag under sustained load.
    Lag,
    /// 4 and 7. Inbox queries over HTTP, and the server's peak memory.
    Http,
    /// 8. A HubSpot import (`freshet import hubspot --apply`).
    Import,
    /// Everything above, in that order.
    All,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Internal: serves the API on a database for the HTTP scenario (a child process, so its
    /// memory is the server's alone). Prints "listening on ADDRESS" once ready.
    #[command(hide = true)]
    ServeApi {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
    },
}

impl Args {
    pub fn load_duration(&self) -> Duration {
        Duration::from_secs(self.seconds.max(1))
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let args = Args::parse();
    if let Some(Command::ServeApi { listen }) = &args.command {
        let url = args
            .database_url
            .as_deref()
            .context("serve-api needs --database-url")?;
        return scenarios::http::serve(url, *listen).await;
    }
    let ctx = Ctx::new(args)?;
    let mut report = Report::default();
    let result = scenarios::run(&ctx, &mut report).await;
    println!();
    println!("{}", report.table());
    ctx.finish().await;
    result
}
