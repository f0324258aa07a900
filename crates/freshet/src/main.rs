#![doc = include_str!("../README.md")]

mod api;
mod cli;
mod core;
mod demo;
#[cfg(test)]
mod deploy_check;
mod hubspot;
mod mail;
mod ops;
mod progress;
mod serve;
mod telemetry;
mod users;

use clap::Parser;

use crate::cli::{Cli, Commands};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::init(cli.common.log_format);
    let common = &cli.common;
    match cli.command {
        Commands::Serve(args) => serve::serve(common, *args).await,
        Commands::Migrate => ops::migrate(common).await,
        Commands::Tick { at } => ops::tick(common, at).await,
        Commands::Rebuild { projection, all } => {
            ops::rebuild_projections(common, projection, all).await
        }
        Commands::Users(command) => users::users(common, command).await,
        Commands::Outbox(command) => ops::outbox(common, command).await,
        Commands::Import(command) => hubspot::import(common, command).await,
        Commands::Export(args) => hubspot::export(common, args).await,
    }
}
