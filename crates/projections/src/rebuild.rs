//! Blue/green rebuilds: fill a new generation from position zero while the active one keeps
//! serving, switch over atomically once caught up, then drop the old rows.

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use freshet_domain::PortfolioId;
use freshet_service::DecodedEvent;
use freshet_store::{LogPosition, StreamId};
use serde::Serialize;
use tokio::sync::watch;

use crate::checkpoint;
use crate::error::ProjectionError;
use crate::generation::{self, Generations};
use crate::processor::Processor;
use crate::projection::{Building, Projection, delete_rows};
use crate::runner::{Runner, decode_all};
use crate::tx::Tx;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Starting,
    Building,
    SwitchingOver,
    DroppingOldCopy,
    Done,
}

/// How a rebuild is going, for the API (watch channel) and the CLI (progress bar).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RebuildProgress {
    pub projection: String,
    pub generation: i64,
    pub phase: Phase,
    pub events_done: u64,
    /// Events in the log when the rebuild started, plus those seen since.
    pub events_total: u64,
    pub events_per_second: f64,
    pub eta_seconds: Option<f64>,
}

impl RebuildProgress {
    fn new(projection: &str) -> Self {
        Self {
            projection: projection.to_owned(),
            generation: 0,
            phase: Phase::Starting,
            events_done: 0,
            events_total: 0,
            events_per_second: 0.0,
            eta_seconds: None,
        }
    }
}

/// What a finished rebuild did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RebuildReport {
    pub projection: String,
    pub generation: i64,
    pub previous_generation: i64,
    pub events: u64,
    pub switched_at: LogPosition,
}

/// Rebuilds `projection` into a new generation and switches queries over to it.
///
/// Only the projection's rows and checkpoints are touched: no other processor (e.g. the mail
/// outbox) sees the events again. One rebuild of a projection at a time; a rebuild that
/// crashed is simply started again (its half-built generation is cleared first).
#[tracing::instrument(skip_all, fields(projection = projection.name()), err)]
pub async fn rebuild(
    runner: &Runner,
    projection: &dyn Projection,
    progress: &watch::Sender<RebuildProgress>,
) -> Result<RebuildReport, ProjectionError> {
    let name = projection.name();
    let db = runner.database();
    progress.send_replace(RebuildProgress::new(name));

    // 1. Claim a new generation and clear any leftovers of it.
    let turn = crate::tx::writer_turn(db).await;
    let mut tx = Tx::begin(db).await?;
    let generations = generation::lock(&mut tx, name).await?;
    let building = generations.active.max(generations.building.unwrap_or(0)) + 1;
    generation::save(
        &mut tx,
        name,
        Generations {
            active: generations.active,
            building: Some(building),
        },
    )
    .await?;
    if let Some(stale) = generations.building {
        delete_rows(&mut tx, projection, stale, None).await?;
    }
    delete_rows(&mut tx, projection, building, None).await?;
    let builder = Building::new(projection.fresh(), building);
    checkpoint::lock(&mut tx, builder.name()).await?;
    checkpoint::save(&mut tx, builder.name(), LogPosition::START, None).await?;
    tx.commit().await?;
    drop(turn);

    // 2. Fill it from the start, page by page.
    let total = checkpoint::lag(db, &[builder.name()], Utc::now())
        .await?
        .first()
        .map_or(0, |lag| u64::try_from(lag.events_behind).unwrap_or(0));
    let started = Instant::now();
    let mut done = 0u64;
    let report = |done: u64, total: u64, phase: Phase| {
        let elapsed = started.elapsed().as_secs_f64().max(1e-3);
        let rate = done as f64 / elapsed;
        progress.send_modify(|p| {
            p.generation = building;
            p.phase = phase;
            p.events_done = done;
            p.events_total = total.max(done);
            p.events_per_second = rate;
            p.eta_seconds = (rate > 0.0).then(|| total.saturating_sub(done) as f64 / rate);
        });
    };
    report(0, total, Phase::Building);
    loop {
        let applied = runner.catch_up_once(&builder).await?;
        if applied == 0 {
            break;
        }
        done += applied;
        report(done, total, Phase::Building);
    }

    // 3. Switch over: with the live checkpoint locked, apply what the live copy has and the
    //    new one lacks, then make the new generation active at the same position.
    report(done, total, Phase::SwitchingOver);
    let turn = crate::tx::writer_turn(db).await;
    let mut tx = Tx::begin(db).await?;
    let live = checkpoint::lock(&mut tx, name).await?;
    let generations = generation::lock(&mut tx, name).await?;
    let mut position = checkpoint::lock(&mut tx, builder.name()).await?;
    let mut last_at = None;
    while position < live {
        let records = runner
            .store()
            .read_all(position, runner.config().batch_size)
            .await?;
        let events: Vec<DecodedEvent> = decode_all(records)?;
        let Some(last) = events.last() else {
            break;
        };
        position = last.record.position;
        last_at = Some(last.record.recorded_at);
        done += events.len() as u64;
        builder
            .handle(&mut tx, &events)
            .await
            .map_err(|source| ProjectionError::Processor {
                name: builder.name().to_owned(),
                after: position,
                source,
            })?;
    }
    let switched_at = position.max(live);
    checkpoint::save(&mut tx, name, switched_at, last_at).await?;
    checkpoint::delete(&mut tx, builder.name()).await?;
    generation::save(
        &mut tx,
        name,
        Generations {
            active: building,
            building: None,
        },
    )
    .await?;
    tx.commit().await?;
    drop(turn);
    runner.positions().publish(name, switched_at);

    // 4. Drop the old copy.
    report(done, total, Phase::DroppingOldCopy);
    let turn = crate::tx::writer_turn(db).await;
    let mut tx = Tx::begin(db).await?;
    delete_rows(&mut tx, projection, generations.active, None).await?;
    tx.commit().await?;
    drop(turn);
    report(done, total, Phase::Done);
    Ok(RebuildReport {
        projection: name.to_owned(),
        generation: building,
        previous_generation: generations.active,
        events: done,
        switched_at,
    })
}

/// Rebuilds each projection in turn with an `indicatif` progress bar per projection on
/// stderr: what `freshet rebuild <projection>|--all` runs.
pub async fn rebuild_with_progress_bars(
    runner: &Runner,
    projections: &[Arc<dyn Projection>],
) -> Result<Vec<RebuildReport>, ProjectionError> {
    use indicatif::{ProgressBar, ProgressStyle};
    let style = ProgressStyle::with_template(
        "{prefix:>14} [{bar:40}] {pos}/{len} events {per_sec} eta {eta} {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    let mut reports = Vec::with_capacity(projections.len());
    for projection in projections {
        let bar = ProgressBar::new(0).with_style(style.clone());
        bar.set_prefix(projection.name());
        let (sender, mut receiver) = watch::channel(RebuildProgress::new(projection.name()));
        let follow = {
            let bar = bar.clone();
            tokio::spawn(async move {
                while receiver.changed().await.is_ok() {
                    let p = receiver.borrow_and_update().clone();
                    bar.set_length(p.events_total);
                    bar.set_position(p.events_done);
                    bar.set_message(format!("{:?}", p.phase));
                }
            })
        };
        let result = rebuild(runner, projection.as_ref(), &sender).await;
        drop(sender);
        let _ = follow.await;
        match result {
            Ok(report) => {
                bar.finish_with_message(format!("generation {}", report.generation));
                reports.push(report);
            }
            Err(error) => {
                bar.abandon_with_message("failed");
                return Err(error);
            }
        }
    }
    Ok(reports)
}

/// Rebuilds one portfolio's rows of the active generation: deletes them and replays its
/// stream up to the live checkpoint, which stays locked meanwhile.
#[tracing::instrument(skip_all, fields(projection = projection.name(), portfolio.id = %portfolio), err)]
pub async fn rebuild_portfolio(
    runner: &Runner,
    projection: &dyn Projection,
    portfolio: PortfolioId,
) -> Result<u64, ProjectionError> {
    let name = projection.name();
    let turn = crate::tx::writer_turn(runner.database()).await;
    let mut tx = Tx::begin(runner.database()).await?;
    let live = checkpoint::lock(&mut tx, name).await?;
    let active = generation::lock(&mut tx, name).await?.active;
    delete_rows(&mut tx, projection, active, Some(portfolio)).await?;
    let stream = StreamId::new(portfolio.stream_name())
        .unwrap_or_else(|_| unreachable!("stream names are never empty"));
    let records: Vec<_> = runner
        .store()
        .read_stream(&stream, 1)
        .await?
        .into_iter()
        .filter(|record| record.position <= live)
        .collect();
    let count = records.len() as u64;
    let events = decode_all(records)?;
    if !events.is_empty() {
        projection
            .fresh()
            .apply(&mut tx, active, &events)
            .await
            .map_err(|source| ProjectionError::Processor {
                name: name.to_owned(),
                after: live,
                source,
            })?;
    }
    tx.commit().await?;
    drop(turn);
    Ok(count)
}
