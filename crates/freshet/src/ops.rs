//! One-shot operator commands: migrate, tick, rebuild, outbox.

use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use chrono::NaiveDate;
use freshet_automation::{ReadModelDue, Scheduler};
use freshet_domain::EmailId;
use freshet_mail::{ListFilter, MessageStatus, Outbox};
use freshet_projections::{Live, all_projections, find_projection};
use freshet_service::{Clock, ManualClock, SystemClock};

use crate::cli::{Common, OutboxCommand};
use crate::core::Core;

pub async fn migrate(common: &Common) -> Result<()> {
    Core::open_now(common).await?;
    println!("migrations applied");
    Ok(())
}

/// Brings the read models up to date, then ticks every portfolio due on `at` (default today).
pub async fn tick(common: &Common, at: Option<NaiveDate>) -> Result<()> {
    let calendar = Core::process_config(common)?.calendar;
    let clock: Arc<dyn Clock> = match at {
        Some(date) => Arc::new(ManualClock::new(calendar.noon_on(date))),
        None => Arc::new(SystemClock),
    };
    let core = Core::open(common, clock).await?;
    catch_up(&core).await?;
    let scheduler = Scheduler::new(core.service.clone(), ReadModelDue::new(core.db.clone()));
    let report = scheduler.tick().await?;
    catch_up(&core).await?;
    let today = report.today.map(|d| d.to_string()).unwrap_or_default();
    println!(
        "{today}: ticked {} portfolio(s), recorded {} event(s)",
        report.portfolios_ticked, report.events_recorded
    );
    for (portfolio, error) in &report.failures {
        eprintln!("portfolio {portfolio}: {error}");
    }
    if report.failures.is_empty() {
        Ok(())
    } else {
        bail!("{} tick(s) failed", report.failures.len())
    }
}

/// Every projection caught up with the log, once.
pub async fn catch_up(core: &Core) -> Result<()> {
    for projection in all_projections(&core.store, core.read_models) {
        core.runner.catch_up(&Live(projection)).await?;
    }
    Ok(())
}

pub async fn rebuild_projections(
    common: &Common,
    projection: Option<String>,
    all: bool,
) -> Result<()> {
    let core = Core::open_now(common).await?;
    let projections = all_projections(&core.store, core.read_models);
    let chosen = match (projection, all) {
        (_, true) => projections,
        (Some(name), false) => vec![find_projection(&projections, &name)?],
        (None, false) => {
            bail!("name a projection (inbox, portfolios, board, metrics) or pass --all")
        }
    };
    let reports = crate::progress::rebuild_with_progress_bars(&core.runner, &chosen).await?;
    for report in reports {
        println!(
            "{}: generation {} replaced {} after {} events",
            report.projection, report.generation, report.previous_generation, report.events
        );
    }
    Ok(())
}

pub async fn outbox(common: &Common, command: OutboxCommand) -> Result<()> {
    let core = Core::open_now(common).await?;
    let outbox = Outbox::new(core.db.clone());
    match command {
        OutboxCommand::List { status, limit } => {
            let status = status.as_deref().map(parse_status).transpose()?;
            let filter = ListFilter {
                status,
                limit,
                ..ListFilter::default()
            };
            let entries = outbox.list(&filter).await?;
            println!(
                "{:<36}  {:<8}  {:>8}  {:<36}  subject",
                "id", "status", "attempts", "recipient"
            );
            for entry in entries {
                println!(
                    "{:<36}  {:<8}  {:>8}  {:<36}  {}{}",
                    entry.id,
                    entry.status.as_str(),
                    entry.attempts,
                    entry.recipient,
                    entry.subject,
                    entry
                        .last_error
                        .map(|e| format!("  [{e}]"))
                        .unwrap_or_default()
                );
            }
        }
        OutboxCommand::Retry { id } => {
            outbox
                .retry_failed(EmailId::from_uuid(id), SystemClock.now())
                .await
                .context("cannot retry that email")?;
            println!("email {id} will be sent again");
        }
    }
    Ok(())
}

fn parse_status(input: &str) -> Result<MessageStatus> {
    [
        MessageStatus::Pending,
        MessageStatus::Sending,
        MessageStatus::Sent,
        MessageStatus::Failed,
    ]
    .into_iter()
    .find(|status| status.as_str() == input)
    .with_context(|| format!("unknown status \"{input}\": use pending, sending, sent or failed"))
}
