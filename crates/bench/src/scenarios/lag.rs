//! Scenario 3: live lag. A sustained rate of commands while the projections follow the log
//! live; for each command, the time from its commit (`execute` returned) to the inbox
//! projection having committed it (rows and checkpoint), seen through the runner's positions.
//! The baseline is the smallest possible follower on the same rate of plain inserts: woken
//! in process, it copies new rows into a second table in one transaction per batch.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use freshet_domain::{Actor, Command};
use freshet_follower::{Runner, RunnerConfig};
use freshet_projections::{Live, PROJECTION_NAMES, ReadModelConfig};
use freshet_projections::{all_projections, inbox};
use freshet_service::{CommandRequest, CommandService, ProcessConfig, SystemClock};
use freshet_store::{Database, LogPosition};
use sqlx::PgPool;
use tokio::sync::{Notify, mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};

use super::commands::{Bench, create_portfolios, note};
use super::{Ctx, Target};
use crate::report::{Check, Figure, Goal, Latencies, Report, Sample};

const SCENARIO: &str = "lag";
const WORKERS: u64 = 16;
const PORTFOLIOS: usize = 1_000;
/// How long after the load a commit may still be waited for before it counts as unseen.
const DRAIN: Duration = Duration::from_secs(30);

/// Matches commits with the moment the follower's position passed them.
async fn watch_lag<P: PartialOrd + Copy>(
    mut position: watch::Receiver<P>,
    mut commits: mpsc::UnboundedReceiver<(P, Instant)>,
) -> (Latencies, u64) {
    let mut latencies = Latencies::new();
    let mut pending: Vec<(P, Instant)> = Vec::new();
    let mut open = true;
    let mut deadline: Option<Instant> = None;
    loop {
        if !open {
            if pending.is_empty() {
                break;
            }
            let end = *deadline.get_or_insert_with(|| Instant::now() + DRAIN);
            if Instant::now() >= end {
                break;
            }
        }
        tokio::select! {
            commit = commits.recv(), if open => match commit {
                Some((at, committed)) => {
                    if *position.borrow() >= at {
                        latencies.record(committed.elapsed());
                    } else {
                        pending.push((at, committed));
                    }
                }
                None => open = false,
            },
            changed = position.changed() => {
                if changed.is_err() {
                    break;
                }
                let now = *position.borrow_and_update();
                pending.retain(|(at, committed)| {
                    let seen = *at <= now;
                    if seen {
                        latencies.record(committed.elapsed());
                    }
                    !seen
                });
            }
            () = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
    (latencies, pending.len() as u64)
}

/// Runs `op(sequence)` at `rate` per second from [`WORKERS`] paced workers for `duration`.
async fn paced<F, Fut>(rate: u64, duration: Duration, op: F) -> (u64, u64, Latencies, Duration)
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<()>> + Send,
{
    let op = Arc::new(op);
    let period = Duration::from_secs_f64(WORKERS as f64 / rate.max(1) as f64);
    let per_worker = (rate * duration.as_secs()).div_ceil(WORKERS);
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for worker in 0..WORKERS {
        let op = Arc::clone(&op);
        tasks.push(tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(
                Instant::now() + period.mul_f64(worker as f64 / WORKERS as f64),
                period,
            );
            ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
            let (mut ok, mut failed, mut latencies) = (0u64, 0u64, Latencies::new());
            for n in 0..per_worker {
                ticks.tick().await;
                if Instant::now() >= deadline {
                    break;
                }
                let sent = Instant::now();
                match op(n * WORKERS + worker).await {
                    Ok(()) => {
                        ok += 1;
                        latencies.record(sent.elapsed());
                    }
                    Err(error) => {
                        if failed == 0 {
                            eprintln!("  a command failed: {error:#}");
                        }
                        failed += 1;
                    }
                }
            }
            (ok, failed, latencies)
        }));
    }
    let (mut ok, mut failed, mut latencies) = (0, 0, Latencies::new());
    for task in tasks {
        let (o, f, l) = task.await.unwrap_or((0, 1, Latencies::new()));
        ok += o;
        failed += f;
        latencies.merge(&l);
    }
    (ok, failed, latencies, started.elapsed())
}

pub async fn run(ctx: &Ctx, report: &mut Report) -> Result<()> {
    let rate = ctx.args.lag_rate;
    let duration = Duration::from_secs(ctx.args.lag_seconds.max(1));
    eprintln!(
        "== live lag at {rate} commands/s for {} s",
        duration.as_secs()
    );
    let db = ctx.fresh(Target::Postgres, "lag").await?;
    let Database::Postgres(pool) = &db else {
        anyhow::bail!("the lag scenario runs on PostgreSQL");
    };
    sqlx::query("CREATE TABLE bench_follower (id bigint PRIMARY KEY, payload jsonb NOT NULL)")
        .execute(pool)
        .await?;
    let store = db.event_store().await?;
    let service = CommandService::new(
        Arc::clone(&store),
        Arc::new(SystemClock),
        ProcessConfig::default(),
    );
    let portfolios = Arc::new(create_portfolios(&service, PORTFOLIOS).await?);
    let runner = Runner::new(db.clone(), Arc::clone(&store), RunnerConfig::default());
    let handles: Vec<_> = all_projections(&store, ReadModelConfig::default())
        .into_iter()
        .map(|projection| runner.spawn(Arc::new(Live(projection))))
        .collect();
    let head = store.head().await?;
    runner
        .wait_for(&PROJECTION_NAMES, head, Duration::from_secs(60))
        .await
        .context("the projections did not catch up with the set-up")?;

    let mut figure = Figure::new(
        SCENARIO,
        format!("commit → inbox row at {rate} commands/s"),
        Target::Postgres.name(),
        "ms p99",
    )
    .lower_is_better()
    .baseline(format!(
        "plain INSERT → plain follower copy at {rate} rows/s"
    ))
    .goal(Goal::new("p99 < 20 ms", vec![Check::AtMost(20.0)]));
    for run in 0..ctx.args.runs {
        let sample = freshet_run(&runner, &service, &portfolios, rate, duration, run).await;
        eprintln!(
            "  run {run}: p99 {:.1} ms at {:.0} commands/s",
            sample.value,
            sample
                .extra
                .get("achieved_per_second")
                .copied()
                .unwrap_or(0.0)
        );
        figure.push_freshet(sample);
        let sample = baseline_run(pool, rate, duration).await?;
        eprintln!("  run {run}: baseline p99 {:.1} ms", sample.value);
        figure.push_baseline(sample);
    }
    for handle in handles {
        handle.abort();
    }
    report.add(&figure);
    Ok(())
}

async fn freshet_run(
    runner: &Runner,
    service: &CommandService,
    portfolios: &Arc<Vec<Bench>>,
    rate: u64,
    duration: Duration,
    run: u32,
) -> Sample {
    let (commits, received) = mpsc::unbounded_channel::<(LogPosition, Instant)>();
    let monitor = tokio::spawn(watch_lag(
        runner.positions().subscribe(inbox::NAME),
        received,
    ));
    let service = service.clone();
    let portfolios = Arc::clone(portfolios);
    let (ok, failed, command_latencies, elapsed) = paced(rate, duration, move |sequence| {
        let service = service.clone();
        let portfolios = Arc::clone(&portfolios);
        let commits = commits.clone();
        async move {
            let bench = portfolios[(sequence as usize * 7919) % portfolios.len()];
            let command = Command::LogPortfolioNote {
                text: note(sequence)?,
            };
            let request =
                CommandRequest::new(bench.id, command, Actor::user(bench.team.account_manager))
                    .with_idempotency_key(format!("lag-{run}-{sequence}"));
            let outcome = service.execute(request).await?;
            if let Some(position) = outcome.result.last_position() {
                let _ = commits.send((position, Instant::now()));
            }
            Ok(())
        }
    })
    .await;
    let (latencies, unseen) = monitor.await.unwrap_or_default();
    lag_sample(latencies, unseen, ok, failed, elapsed).with(
        "command_p99_ms",
        command_latencies.quantile_ms(0.99).unwrap_or(f64::NAN),
    )
}

fn lag_sample(
    latencies: Latencies,
    unseen: u64,
    ok: u64,
    failed: u64,
    elapsed: Duration,
) -> Sample {
    Sample::new(latencies.quantile_ms(0.99).unwrap_or(f64::NAN))
        .with(
            "achieved_per_second",
            ok as f64 / elapsed.as_secs_f64().max(1e-9),
        )
        .with("failed", failed as f64)
        .with("unseen_after_30s", unseen as f64)
        .with_latencies(latencies)
}

/// The smallest follower: in-process wake-ups (like the store's commit hints) plus a 1 s
/// poll, one `SELECT` of new rows and one multi-row `INSERT` per batch, in one transaction.
async fn follower(pool: PgPool, wake: Arc<Notify>, position: watch::Sender<i64>) -> Result<()> {
    let mut last = 0i64;
    loop {
        let rows: Vec<(i64, serde_json::Value)> = sqlx::query_as(
            "SELECT id, payload FROM bench_baseline WHERE id > $1 ORDER BY id LIMIT 2000",
        )
        .bind(last)
        .fetch_all(&pool)
        .await?;
        if let Some((id, _)) = rows.last() {
            let id = *id;
            let mut tx = pool.begin().await?;
            let mut insert = sqlx::QueryBuilder::new("INSERT INTO bench_follower (id, payload) ");
            insert.push_values(&rows, |mut b, (id, payload)| {
                b.push_bind(id).push_bind(payload);
            });
            insert.build().execute(&mut *tx).await?;
            tx.commit().await?;
            last = id;
            position.send_replace(last);
            continue;
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

async fn baseline_run(pool: &PgPool, rate: u64, duration: Duration) -> Result<Sample> {
    sqlx::query("TRUNCATE bench_baseline, bench_follower RESTART IDENTITY")
        .execute(pool)
        .await?;
    let wake = Arc::new(Notify::new());
    let (position, seen) = watch::channel(0i64);
    let follower = tokio::spawn(follower(pool.clone(), Arc::clone(&wake), position));
    let (commits, received) = mpsc::unbounded_channel::<(i64, Instant)>();
    let monitor = tokio::spawn(watch_lag(seen, received));
    let pool = pool.clone();
    let (ok, failed, _, elapsed) = paced(rate, duration, move |sequence| {
        let pool = pool.clone();
        let commits = commits.clone();
        let wake = Arc::clone(&wake);
        async move {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO bench_baseline (stream_id, payload) VALUES ($1, $2) RETURNING id",
            )
            .bind(format!("baseline-{}", sequence % 1000))
            .bind(crate::baseline::payload(sequence))
            .fetch_one(&pool)
            .await?;
            let _ = commits.send((id, Instant::now()));
            wake.notify_one();
            Ok(())
        }
    })
    .await;
    let (latencies, unseen) = monitor.await.unwrap_or_default();
    follower.abort();
    Ok(lag_sample(latencies, unseen, ok, failed, elapsed))
}
