//! Scenario 2 (and 6 on SQLite): rebuilding every read model from a generated log, against
//! the bulk-load limit (`COPY`) and the read limit (a streamed `SELECT` with JSON decoding).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use chrono::NaiveDate;
use freshet_follower::decode;
use freshet_follower::{Runner, RunnerConfig};
use freshet_projections::{
    ReadModelConfig, RebuildProgress, all_projections, rebuild, rebuild_together,
};
use freshet_store::{EventStore, LogPosition};
use tokio::sync::watch;
use tokio::time::Instant;

use super::{Ctx, Target};
use crate::cpu::CpuMeter;
use crate::report::{Check, Figure, Goal, Report, Sample};
use crate::{baseline, generate, seed};

const SCENARIO: &str = "rebuild";

/// The first day of the generated year.
pub fn start_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 1, 1).unwrap_or_default()
}

/// Generates a history of `events` events for `portfolios` portfolios and bulk-loads it.
pub async fn seed_log(
    db: &freshet_store::Database,
    portfolios: usize,
    events: u64,
    max_tasks: u64,
) -> Result<generate::Tally> {
    let started = Instant::now();
    let (rows, tally) = generate::history(portfolios, start_date(), 2027, events, max_tasks);
    let generated = started.elapsed();
    let bytes: usize = rows.iter().map(|r| r.payload.len()).sum();
    let loaded = seed::load(db, &rows).await?;
    eprintln!(
        "  generated {} events ({} portfolios, {} days, {} commands, {} tasks, {} refused, \
         {} payload bytes on average) in {:.1} s; bulk-loaded in {:.1} s ({:.0} events/s)",
        rows.len(),
        portfolios,
        tally.days,
        tally.commands,
        tally.tasks,
        tally.refused,
        bytes / rows.len().max(1),
        generated.as_secs_f64(),
        loaded.as_secs_f64(),
        rows.len() as f64 / loaded.as_secs_f64().max(1e-9)
    );
    Ok(tally)
}

fn progress(name: &str) -> watch::Sender<RebuildProgress> {
    watch::Sender::new(RebuildProgress::new(name))
}

/// Freshet's own read path: `read_all` pages (the runner's page size) and decoding.
async fn read_log(store: &Arc<dyn EventStore>, page: usize) -> Result<(u64, Duration)> {
    let started = Instant::now();
    let mut after = LogPosition::START;
    let mut count = 0u64;
    loop {
        let records = store.read_all(after, page).await?;
        let Some(last) = records.last() else {
            break;
        };
        after = last.position;
        for record in &records {
            std::hint::black_box(decode(record)?);
        }
        count += records.len() as u64;
    }
    Ok((count, started.elapsed()))
}

pub async fn run(ctx: &Ctx, report: &mut Report, target: Target) -> Result<()> {
    let events = match target {
        Target::Postgres => ctx.args.events,
        Target::Sqlite => ctx.args.sqlite_events,
    };
    eprintln!("== rebuild on {} from {events} events", target.name());
    let db = ctx.fresh(target, "rebuild").await?;
    seed_log(&db, ctx.args.portfolios, events, u64::MAX).await?;
    let store = db.event_store().await?;
    let config = RunnerConfig {
        rebuild_batch_size: ctx.args.rebuild_batch_size.max(1),
        ..RunnerConfig::default()
    };
    let runner = Runner::new(db.clone(), Arc::clone(&store), config);
    let projections = all_projections(&store, ReadModelConfig::default());
    let bulk = match target {
        Target::Postgres => "COPY",
        Target::Sqlite => "INSERT in one transaction",
    };
    let mut all = Figure::new(
        SCENARIO,
        format!(
            "rebuild all 4 read models together from {events} events, pages of {}",
            config.rebuild_batch_size
        ),
        target.name(),
        "events/s",
    )
    .baseline(format!("{bulk} of {events} ~200-byte rows"));
    if target == Target::Postgres {
        all = all.goal(Goal::new("≥ 40% of COPY", vec![Check::RatioAtLeast(0.4)]));
    }
    let mut in_turn = Figure::new(
        SCENARIO,
        format!("rebuild the 4 read models one after another from {events} events"),
        target.name(),
        "events/s",
    )
    .baseline(format!("{bulk} of {events} ~200-byte rows"));
    let mut each: Vec<Figure> = projections
        .iter()
        .map(|p| {
            Figure::new(
                SCENARIO,
                format!("rebuild {} alone", p.name()),
                target.name(),
                "events/s",
            )
        })
        .collect();
    let mut read = Figure::new(
        SCENARIO,
        "read the log (read_all pages + decode)",
        target.name(),
        "events/s",
    )
    .baseline("streamed SELECT + JSON decoding");
    for run in 0..ctx.args.runs {
        // What `freshet rebuild --all` runs: one read of the log feeding all four.
        let started = Instant::now();
        let cpu = CpuMeter::start();
        let senders: Vec<_> = projections.iter().map(|p| progress(p.name())).collect();
        let pairs: Vec<_> = projections
            .iter()
            .map(|p| p.as_ref())
            .zip(&senders)
            .collect();
        rebuild_together(&runner, &pairs).await?;
        let sample = Sample::rate(events, started.elapsed()).with("client_cpu_cores", cpu.cores());
        eprintln!(
            "  run {run}: all read models together at {:.0} events/s",
            sample.value
        );
        all.push_freshet(sample);

        let started = Instant::now();
        let cpu = CpuMeter::start();
        for (projection, figure) in projections.iter().zip(&mut each) {
            let one = Instant::now();
            let cpu = CpuMeter::start();
            let done = rebuild(&runner, projection.as_ref(), &progress(projection.name())).await?;
            let sample =
                Sample::rate(done.events, one.elapsed()).with("client_cpu_cores", cpu.cores());
            eprintln!(
                "  run {run}: {} rebuilt at {:.0} events/s",
                projection.name(),
                sample.value
            );
            figure.push_freshet(sample);
        }
        let sample = Sample::rate(events, started.elapsed()).with("client_cpu_cores", cpu.cores());
        eprintln!(
            "  run {run}: all read models one after another at {:.0} events/s",
            sample.value
        );
        in_turn.push_freshet(sample);
        let copied = baseline::bulk_load(&db, events).await?;
        all.push_baseline(Sample::rate(events, copied));
        in_turn.push_baseline(Sample::rate(events, copied));

        let cpu = CpuMeter::start();
        let (count, elapsed) = read_log(&store, runner.config().rebuild_batch_size).await?;
        read.push_freshet(Sample::rate(count, elapsed).with("client_cpu_cores", cpu.cores()));
        let cpu = CpuMeter::start();
        let (count, elapsed) = baseline::streamed_read(&db).await?;
        read.push_baseline(Sample::rate(count, elapsed).with("client_cpu_cores", cpu.cores()));
    }
    report.add(&all);
    report.add(&in_turn);
    for figure in &each {
        report.add(figure);
    }
    report.add(&read);
    Ok(())
}
