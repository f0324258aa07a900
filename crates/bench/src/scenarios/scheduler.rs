//! Scenario 5: one scheduler tick (`Scheduler` with `ReadModelDue`) over many portfolios of
//! which 5% are due, against the same number of one-row-per-transaction inserts.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use chrono::Days;
use freshet_automation::{DuePortfolios, ReadModelDue, Scheduler};
use freshet_domain::{AgencyCalendar, Cadence, CadenceUnit, PortfolioId, next_trigger_date};
use freshet_follower::{Runner, RunnerConfig};
use freshet_projections::{Live, ReadModelConfig, portfolios};
use freshet_service::{CommandService, ManualClock, ProcessConfig};
use freshet_store::{Database, EventStore, LogPosition};
use tokio::time::Instant;
use uuid::Uuid;

use super::{Ctx, Target};
use crate::baseline;
use crate::drive::Limits;
use crate::generate::World;
use crate::report::{Check, Figure, Goal, Report, Sample};
use crate::seed;

const SCENARIO: &str = "scheduler";
/// One portfolio in twenty is due on each benchmarked day.
const DUE_EVERY: usize = 20;
/// The baseline's clients: the goal is a tick no slower than as many one-row transactions
/// from 8 clients, whatever the tick's own concurrency.
const BASELINE_CLIENTS: usize = 8;

pub async fn run(ctx: &Ctx, report: &mut Report) -> Result<()> {
    let count = ctx.args.scheduler_portfolios;
    let runs = ctx.args.runs as usize;
    eprintln!("== scheduler tick over {count} portfolios, 5% due");
    let db = ctx.fresh(Target::Postgres, "scheduler").await?;

    // Portfolio i is due on day (i % 20) when that is a benchmarked day, else weeks later.
    let start = super::rebuild::start_date();
    let first_day = start + Days::new(20);
    let mut world = World::empty(count, start, 5);
    let cadence = Cadence::new(1, CadenceUnit::Months)?;
    let mut due_on_first_day = 0;
    for i in 0..count {
        let group = i % DUE_EVERY;
        let refresh = if group < runs {
            first_day + Days::new(group as u64 + 15)
        } else {
            first_day + Days::new(60 + (i % 200) as u64)
        };
        let index = world.create(PortfolioId::from_uuid(Uuid::now_v7()), cadence, refresh);
        let trigger = world
            .portfolio(index)
            .and_then(|p| next_trigger_date(p, &world.deadlines()));
        if trigger == Some(first_day) {
            due_on_first_day += 1;
        }
    }
    eprintln!("  {due_on_first_day} portfolios due on the first benchmarked day");
    let rows = world.drain();
    seed::load(&db, &rows).await?;
    let store = db.event_store().await?;
    let runner = Runner::new(db.clone(), Arc::clone(&store), RunnerConfig::default());
    let read_model = Live(Arc::new(portfolios::Portfolios::new(
        Arc::clone(&store),
        ReadModelConfig::default().deadlines,
    )));
    let started = Instant::now();
    runner.catch_up(&read_model).await?;
    eprintln!(
        "  portfolios read model built in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let calendar = AgencyCalendar::default();
    let concurrency = ctx.args.scheduler_concurrency.max(1);
    let mut figure = Figure::new(
        SCENARIO,
        format!("one tick over {count} portfolios, 5% due (concurrency {concurrency})"),
        Target::Postgres.name(),
        "s",
    )
    .lower_is_better()
    .baseline(format!(
        "as many INSERTs 1 row/tx, {BASELINE_CLIENTS} clients"
    ))
    .goal(Goal::new(
        "no slower than its baseline",
        vec![Check::RatioAtLeast(1.0)],
    ));
    for run in 0..runs {
        let today = first_day + Days::new(run as u64);
        let clock = ManualClock::new(calendar.noon_on(today));
        let service = CommandService::new(
            Arc::clone(&store) as Arc<dyn EventStore>,
            Arc::new(clock),
            ProcessConfig::default(),
        );
        let due = ReadModelDue::new(db.clone());
        let query = Instant::now();
        let listed = due.due_on(today).await?.len();
        let query = query.elapsed();
        let scheduler = Scheduler::new(service, due).with_concurrency(concurrency);
        let before = store.head().await?;
        let started = Instant::now();
        let tick = scheduler.tick().await.context("the tick failed")?;
        let elapsed = started.elapsed();
        let transactions = transactions_after(&db, before).await?;
        eprintln!(
            "  run {run}: ticked {} portfolios ({} listed in {:.0} ms), {} events in {} \
             transactions, {} failures, in {:.2} s",
            tick.portfolios_ticked,
            listed,
            query.as_secs_f64() * 1e3,
            tick.events_recorded,
            transactions,
            tick.failures.len(),
            elapsed.as_secs_f64()
        );
        figure.push_freshet(
            Sample::new(elapsed.as_secs_f64())
                .with("portfolios_ticked", tick.portfolios_ticked as f64)
                .with("events_recorded", tick.events_recorded as f64)
                .with("failures", tick.failures.len() as f64)
                .with("transactions", transactions as f64)
                .with("due_query_ms", query.as_secs_f64() * 1e3),
        );
        let limits = Limits {
            duration: Duration::from_secs(120),
            max_ops: tick.portfolios_ticked as u64,
        };
        let outcome = baseline::single_row_inserts(&db, BASELINE_CLIENTS, limits).await;
        figure.push_baseline(Sample::new(outcome.elapsed.as_secs_f64()));
        // The next day's due list must not see today's ticked portfolios again.
        runner.catch_up(&read_model).await?;
    }
    report.add(&figure);
    Ok(())
}

/// How many transactions wrote the events after `before` (each event carries its own).
async fn transactions_after(db: &Database, before: LogPosition) -> Result<i64> {
    let Database::Postgres(pool) = db else {
        return Ok(0);
    };
    Ok(
        sqlx::query_scalar("SELECT COUNT(DISTINCT commit_xid) FROM events WHERE position > $1")
            .bind(before.position)
            .fetch_one(pool)
            .await?,
    )
}
