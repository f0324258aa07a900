//! `freshet import hubspot` and `freshet export`, on top of `freshet-hubspot`: moving in
//! from HubSpot's CSV or XLSX exports, and the spreadsheets for the agency's own reporting.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use chrono::Utc;
use clap::{Args, Subcommand};
use freshet_accounts::users;
use freshet_domain::PortfolioId;
use freshet_hubspot::{Directory, Exports, Importer, Mapping, Table, spreadsheet};
use freshet_service::ManualClock;

use crate::cli::Common;
use crate::core::Core;
use crate::ops::catch_up;

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// HubSpot's exports (CSV, or XLSX: its first sheet) of the Creative Portfolios and the
    /// Creative Deliverables tickets. A dry run unless --apply: it prints what would be
    /// created and every row it cannot take, with file, line (an XLSX sheet's row) and
    /// reason.
    Hubspot(HubspotArgs),
}

#[derive(Debug, Args)]
pub struct HubspotArgs {
    /// The Creative Portfolio export (CSV, or XLSX when named .xlsx or it is one).
    #[arg(long)]
    pub portfolios: PathBuf,
    /// The tickets export (CSV or XLSX) with the "Associated Creative Portfolio IDs" column.
    #[arg(long)]
    pub tickets: PathBuf,
    /// HubSpot's users export (CSV or XLSX), for owners given by name (First Name, Last
    /// Name, Email).
    #[arg(long)]
    pub owners: Option<PathBuf>,
    /// A TOML file naming headers and labels that differ from the defaults.
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Record the import (without it nothing is written).
    #[arg(long)]
    pub apply: bool,
    /// The Admin (email) the import is recorded as; the first Admin by default.
    #[arg(long = "as")]
    pub admin: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// One portfolio's tickets instead of every portfolio.
    #[arg(long)]
    pub tickets_of: Option<PortfolioId>,
    /// Where to write the CSV (standard output by default).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

pub async fn import(common: &Common, command: ImportCommand) -> Result<()> {
    let ImportCommand::Hubspot(args) = command;
    let mapping = match &args.mapping {
        Some(path) => Mapping::parse(
            &std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        )?,
        None => Mapping::default(),
    };
    let exports = Exports {
        portfolios: Table::open(&args.portfolios)?,
        tickets: Table::open(&args.tickets)?,
        owners: args.owners.as_deref().map(Table::open).transpose()?,
    };
    let now = Utc::now();
    let core = Core::open(common, Arc::new(ManualClock::new(now))).await?;
    let people: Vec<_> = users::list(&core.db)
        .await?
        .into_iter()
        .filter(|user| user.deactivated_at.is_none())
        .collect();
    let admin = people
        .iter()
        .filter(|user| user.admin)
        .find(|user| {
            args.admin
                .as_ref()
                .is_none_or(|a| user.email.eq_ignore_ascii_case(a))
        })
        .map(|user| user.id);
    let Some(admin) = admin else {
        bail!(
            "the import is recorded as an Admin: add one with `freshet users add --admin`, or name one with --as"
        );
    };
    let directory = Directory::new(people.into_iter().map(|user| (user.email, user.id)));
    let importer = Importer::new(Arc::clone(&core.store), *core.service.config(), admin);
    let bar = crate::progress::count_bar("portfolios");
    let report = importer
        .run(
            &exports,
            &mapping,
            directory,
            now,
            args.apply,
            &|done, total| {
                bar.set_length(total);
                bar.set_position(done);
            },
        )
        .await?;
    bar.finish_and_clear();
    if args.apply {
        catch_up(&core).await?;
    }
    print!("{report}");
    Ok(())
}

pub async fn export(common: &Common, args: ExportArgs) -> Result<()> {
    let core = Core::open_now(common).await?;
    catch_up(&core).await?;
    let sheet = match args.tickets_of {
        Some(portfolio) => spreadsheet::tickets_sheet(&core.db, portfolio).await?,
        None => spreadsheet::portfolios_sheet(&core.db, None).await?,
    };
    match args.output {
        Some(path) => std::fs::write(&path, sheet)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{sheet}"),
    }
    Ok(())
}
