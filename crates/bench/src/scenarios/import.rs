//! Scenario 8: moving in from HubSpot. `Importer::run` with `apply` over generated exports
//! of N portfolios with 10 tickets each (half at Deliverables Submitted with every ticket
//! In Progress, half at Creatives Pending Approval with every ticket approved), against as
//! many one-row-per-transaction inserts as the import ran commands, with as many clients.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use chrono::{Days, Utc};
use freshet_accounts::users;
use freshet_hubspot::{DEFAULT_IMPORT_CONCURRENCY, Directory, Exports, Importer, Mapping, Table};
use freshet_service::ProcessConfig;
use tokio::time::Instant;

use super::{Ctx, Target};
use crate::baseline;
use crate::drive::Limits;
use crate::report::{Check, Figure, Goal, Report, Sample};

const SCENARIO: &str = "import";
const TICKETS_PER_PORTFOLIO: usize = 10;
const PEOPLE: [&str; 5] = ["am", "sas", "copy", "design", "lead"];

/// The two exports of `count` portfolios whose Record IDs start at `first`.
fn exports(first: usize, count: usize) -> Result<Exports> {
    let today = Utc::now().date_naive();
    let mut portfolios = String::from(
        "\u{feff}Record ID,Client Name,Creative Refresh Status,Creative Refresh Date,Creative Refresh Cadence,Create Date,Account Manager,Social Ad Specialist,Copywriter,Graphic Designer,Team Lead\n",
    );
    let mut tickets = String::from(
        "\u{feff}Ticket ID,Ticket name,Pipeline,Ticket status,Create date,Deliverable Folder Name,Number of Deliverables In This Ad Set,Associated Creative Portfolio IDs\n",
    );
    let refresh = today.checked_sub_days(Days::new(10)).unwrap_or(today);
    let created = today.checked_sub_days(Days::new(9)).unwrap_or(today);
    for i in first..first + count {
        let (status, ticket_status) = if i % 2 == 0 {
            ("Deliverables Submitted", "In Progress")
        } else {
            ("Creatives Pending Approval", "Pending Approval")
        };
        let team = PEOPLE.map(|p| format!("{p}@bench.example")).join(",");
        writeln!(
            portfolios,
            "{i},\"Client {i}, Inc.\",{status},{refresh},4 weeks,2025-01-01 09:00,{team}"
        )?;
        for t in 0..TICKETS_PER_PORTFOLIO {
            writeln!(
                tickets,
                "{i}{t:03},\"Ad {t}, feed\",Creative Deliverables,{ticket_status},{created} 10:{t:02},Folder {i},{TICKETS_PER_PORTFOLIO},{i}"
            )?;
        }
    }
    Ok(Exports {
        portfolios: Table::read("portfolios.csv", portfolios.as_bytes())?,
        tickets: Table::read("tickets.csv", tickets.as_bytes())?,
        owners: None,
    })
}

pub async fn run(ctx: &Ctx, report: &mut Report) -> Result<()> {
    let count = ctx.args.import_portfolios;
    let runs = ctx.args.runs as usize;
    eprintln!(
        "== HubSpot import of {count} portfolios and {} tickets",
        count * TICKETS_PER_PORTFOLIO
    );
    let db = ctx.fresh(Target::Postgres, "import").await?;
    for person in PEOPLE {
        users::add(&db, person, &format!("{person}@bench.example"), false, None).await?;
    }
    let (admin, _) = users::add(&db, "ops", "ops@bench.example", true, None).await?;
    let store = db.event_store().await?;
    let concurrency = DEFAULT_IMPORT_CONCURRENCY;
    let mut figure = Figure::new(
        SCENARIO,
        format!(
            "import --apply of {count} portfolios, {} tickets (concurrency {concurrency})",
            count * TICKETS_PER_PORTFOLIO
        ),
        Target::Postgres.name(),
        "s",
    )
    .lower_is_better()
    .baseline(format!(
        "as many INSERTs 1 row/tx as commands, {concurrency} clients"
    ))
    // The goal is 60 s for 10,000 portfolios: scaled to the portfolios of this run.
    .goal(Goal::new(
        "< 6 ms per portfolio (60 s for 10,000)",
        vec![Check::AtMost(60.0 * count as f64 / 10_000.0)],
    ));
    for run in 0..runs {
        // New Record IDs each run: the same ones again would be a no-op.
        let exports = exports(1_000_000 * (run + 1), count)?;
        let people = Directory::new(
            users::list(&db)
                .await?
                .into_iter()
                .map(|user| (user.email, user.id)),
        );
        let importer = Importer::new(Arc::clone(&store), ProcessConfig::default(), admin.id)
            .with_concurrency(concurrency);
        let started = Instant::now();
        let outcome = importer
            .run(
                &exports,
                &Mapping::default(),
                people,
                Utc::now(),
                true,
                &|_, _| {},
            )
            .await?;
        let elapsed = started.elapsed();
        eprintln!(
            "  run {run}: {} portfolios, {} tickets, {} commands, {} refused, in {:.2} s",
            outcome.portfolios_created,
            outcome.tickets_created,
            outcome.commands,
            outcome.refused.len(),
            elapsed.as_secs_f64()
        );
        if let Some(refusal) = outcome.refused.first() {
            anyhow::bail!("the generated export was refused: {refusal}");
        }
        figure.push_freshet(
            Sample::new(elapsed.as_secs_f64())
                .with("commands", outcome.commands as f64)
                .with("tickets", outcome.tickets_created as f64),
        );
        let limits = Limits {
            duration: Duration::from_secs(600),
            max_ops: outcome.commands as u64,
        };
        let inserts = baseline::single_row_inserts(&db, concurrency, limits).await;
        figure.push_baseline(Sample::new(inserts.elapsed.as_secs_f64()));
    }
    report.add(&figure);
    Ok(())
}
