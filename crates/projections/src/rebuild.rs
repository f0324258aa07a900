//! Blue/green rebuilds: fill a new generation from position zero while the active one keeps
//! serving, switch over atomically once caught up, then drop the old rows.

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use freshet_domain::PortfolioId;
use freshet_follower::DecodedEvent;
use freshet_store::{LogPosition, StreamId};
use serde::Serialize;
use tokio::sync::watch;

use crate::error::ProjectionError;
use crate::fold::Fold;
use crate::generation::{self, Generations};
use crate::partition;
use crate::projection::{Building, Projection, Target, delete_rows};
use freshet_follower::Processor;
use freshet_follower::ProcessorError;
use freshet_follower::checkpoint;
use freshet_follower::{Runner, Step, decode_all};
use freshet_store::Tx;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Starting,
    Building,
    /// Building the new generation's secondary indexes, once, after its rows are in.
    BuildingIndexes,
    SwitchingOver,
    DroppingOldCopy,
    Done,
}

/// How a rebuild is going, sent on a watch channel: the API serves it, the binary draws it
/// as a progress bar.
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
    /// A rebuild of `projection` that has not started yet.
    pub fn new(projection: &str) -> Self {
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
pub async fn rebuild(
    runner: &Runner,
    projection: &dyn Projection,
    progress: &watch::Sender<RebuildProgress>,
) -> Result<RebuildReport, ProjectionError> {
    let mut reports = rebuild_together(runner, &[(projection, progress)]).await?;
    Ok(reports.remove(0))
}

/// Rebuilds several projections as [`rebuild`] does, reading and decoding the log once for
/// all of them: each page goes to every new generation at once (one transaction each).
#[tracing::instrument(skip_all, fields(projections = projections.len()), err)]
pub async fn rebuild_together(
    runner: &Runner,
    projections: &[(&dyn Projection, &watch::Sender<RebuildProgress>)],
) -> Result<Vec<RebuildReport>, ProjectionError> {
    let mut builders = Vec::with_capacity(projections.len());
    for (projection, progress) in projections {
        progress.send_replace(RebuildProgress::new(projection.name()));
        builders.push(start(runner, *projection).await?);
    }
    let total = match builders.first() {
        Some(builder) => checkpoint::lag(runner.database(), &[builder.name()], Utc::now())
            .await?
            .first()
            .map_or(0, |lag| u64::try_from(lag.events_behind).unwrap_or(0)),
        None => 0,
    };
    let progress: Vec<_> = projections
        .iter()
        .zip(&builders)
        .map(|((_, progress), builder)| Progress::new(progress, builder.generation, total))
        .collect();
    // One fold for all: each page is folded once, by the first builder to apply it.
    let fold = Fold::shared();
    let mut sharing = Vec::with_capacity(builders.len());
    for builder in &builders {
        sharing.push(builder.projection.fresh_sharing(&fold).await);
    }
    let done = fill(runner, &builders, &sharing, &progress).await?;
    for ((projection, _), (builder, progress)) in
        projections.iter().zip(builders.iter().zip(&progress))
    {
        progress.report(done, Phase::BuildingIndexes);
        attach(runner, *projection, builder).await?;
    }
    let mut reports = Vec::with_capacity(builders.len());
    for ((projection, _), (builder, progress)) in
        projections.iter().zip(builders.iter().zip(&progress))
    {
        reports.push(finish(runner, *projection, builder, progress, done).await?);
    }
    Ok(reports)
}

/// Reports a rebuild's progress on its watch channel.
struct Progress<'a> {
    sender: &'a watch::Sender<RebuildProgress>,
    generation: i64,
    total: u64,
    started: Instant,
}

impl<'a> Progress<'a> {
    fn new(sender: &'a watch::Sender<RebuildProgress>, generation: i64, total: u64) -> Self {
        let progress = Self {
            sender,
            generation,
            total,
            started: Instant::now(),
        };
        progress.report(0, Phase::Building);
        progress
    }

    fn report(&self, done: u64, phase: Phase) {
        let elapsed = self.started.elapsed().as_secs_f64().max(1e-3);
        let rate = done as f64 / elapsed;
        let total = self.total.max(done);
        self.sender.send_modify(|p| {
            p.generation = self.generation;
            p.phase = phase;
            p.events_done = done;
            p.events_total = total;
            p.events_per_second = rate;
            p.eta_seconds = (rate > 0.0).then(|| total.saturating_sub(done) as f64 / rate);
        });
    }
}

/// 1. Claims a new generation, clears any leftovers of it, and gives it empty tables to fill
///    (on PostgreSQL, detached tables with only their primary key: [`partition`]).
async fn start(runner: &Runner, projection: &dyn Projection) -> Result<Building, ProjectionError> {
    let name = projection.name();
    let db = runner.database();
    let turn = freshet_store::writer_turn(db).await;
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
        partition::discard(&mut tx, projection, stale).await?;
    }
    partition::create_detached(&mut tx, projection, building).await?;
    let builder = Building::new(projection.fresh(), building);
    checkpoint::lock(&mut tx, builder.name()).await?;
    checkpoint::save(&mut tx, builder.name(), LogPosition::START, None).await?;
    tx.commit().await?;
    drop(turn);
    Ok(builder)
}

/// 2. Fills the new generations from the start, page by page: each page is read and decoded
///    once, folded once (`sharing`: the builders' projections on one [`Fold`]) and applied
///    to every builder concurrently. A builder whose checkpoint moved under it (it cannot,
///    unless someone rebuilds the same projection at the same time) leaves the shared fold
///    and catches up alone afterwards, on its own. Returns the number of events read.
async fn fill(
    runner: &Runner,
    builders: &[Building],
    sharing: &[Arc<dyn Projection>],
    progress: &[Progress<'_>],
) -> Result<u64, ProjectionError> {
    let mut after = LogPosition::START;
    let mut done = 0u64;
    let mut in_step = vec![true; builders.len()];
    let mut unanalyzed = vec![true; builders.len()];
    let mut next = read_page(runner, after);
    loop {
        let page = next
            .await
            .unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()))?;
        let Some((last, events)) = page else {
            break;
        };
        // The next page is read and decoded while the builders write this one. (Left to
        // finish on its own if this page fails: it only reads.)
        next = read_page(runner, last);
        // One task per builder: folding and building rows is CPU work, which then runs on
        // every core while the database writes the other builders' rows.
        let steps: Vec<_> = builders
            .iter()
            .zip(sharing)
            .zip(&in_step)
            .enumerate()
            .filter(|(_, (_, in_step))| **in_step)
            .map(|(i, ((builder, projection), _))| {
                let (runner, filling, events) = (
                    runner.clone(),
                    Filling::new(builder, Arc::clone(projection)),
                    Arc::clone(&events),
                );
                let step =
                    tokio::spawn(async move { runner.apply(&filling, after, &events).await });
                (i, step)
            })
            .collect();
        // Every task is awaited before an error is returned, so none is left running.
        let mut outcomes = Vec::with_capacity(steps.len());
        for (i, step) in steps {
            let step = step
                .await
                .unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()));
            outcomes.push((i, step));
        }
        for (i, step) in outcomes {
            if !matches!(step?, Step::Applied(_)) {
                in_step[i] = false;
            }
        }
        for ((builder, in_step), unanalyzed) in builders.iter().zip(&in_step).zip(&mut unanalyzed) {
            if *in_step && *unanalyzed {
                *unanalyzed = !analyze(runner, builder).await;
            }
        }
        after = last;
        done += events.len() as u64;
        for (progress, _) in progress
            .iter()
            .zip(&in_step)
            .filter(|(_, in_step)| **in_step)
        {
            progress.report(done, Phase::Building);
        }
    }
    for ((builder, in_step), mut unanalyzed) in builders.iter().zip(&in_step).zip(unanalyzed) {
        if !in_step {
            let filling = Filling::new(builder, Arc::clone(&builder.projection));
            while runner.catch_up_once(&filling).await? > 0 {
                if unanalyzed {
                    unanalyzed = !analyze(runner, builder).await;
                }
            }
        }
    }
    Ok(done)
}

/// Gives the planner statistics on `builder`'s new tables once they hold rows
/// ([`partition::analyze_filled`]); true once they all have them. Only an optimization: a
/// failure is logged and tried again after the next page, and the rebuild goes on.
async fn analyze(runner: &Runner, builder: &Building) -> bool {
    let projection = builder.projection.as_ref();
    match partition::analyze_filled(runner.database(), projection, builder.generation).await {
        Ok(all) => all,
        Err(error) => {
            tracing::warn!(%error, builder = builder.name(), "could not analyze the new tables");
            false
        }
    }
}

/// A decoded page of the log and the position of its last event.
type Page = (LogPosition, Arc<[DecodedEvent]>);

/// Reads and decodes the page of the log after `after` on a task of its own; `None` past
/// the end.
fn read_page(
    runner: &Runner,
    after: LogPosition,
) -> tokio::task::JoinHandle<Result<Option<Page>, ProjectionError>> {
    let (store, size) = (
        Arc::clone(runner.store()),
        runner.config().rebuild_batch_size,
    );
    tokio::spawn(async move {
        let records = store.read_all(after, size).await?;
        let Some(last) = records.last().map(|record| record.position) else {
            return Ok(None);
        };
        Ok(Some((last, decode_all(records)?.into())))
    })
}

/// A builder while it fills: writes into the generation's detached tables and commits
/// without waiting for the WAL flush on PostgreSQL. Safe because a crash loses the rows and
/// the builder's checkpoint together (one transaction), and a rebuild that crashed is
/// started again from scratch anyway; the switch-over commits durably, which also flushes
/// everything before it.
#[derive(Debug)]
struct Filling {
    builder: Building,
    /// The builder's projection, or an instance of it on the shared fold.
    projection: Arc<dyn Projection>,
}

impl Filling {
    fn new(builder: &Building, projection: Arc<dyn Projection>) -> Self {
        Self {
            builder: builder.clone(),
            projection,
        }
    }
}

#[async_trait::async_trait]
impl Processor for Filling {
    fn name(&self) -> &str {
        self.builder.name()
    }

    async fn handle(&self, tx: &mut Tx, events: &[DecodedEvent]) -> Result<(), ProcessorError> {
        if let Tx::Postgres(conn) = tx {
            sqlx::query("SET LOCAL synchronous_commit = off")
                .execute(&mut **conn)
                .await?;
        }
        let target = partition::filling(tx, self.builder.generation);
        self.projection.apply(tx, target, events).await
    }
}

/// 3. Builds the new generation's secondary indexes, once for all its rows, by attaching its
///    tables as the generation's partitions; later writes go through the shared tables.
async fn attach(
    runner: &Runner,
    projection: &dyn Projection,
    builder: &Building,
) -> Result<(), ProjectionError> {
    let db = runner.database();
    let turn = freshet_store::writer_turn(db).await;
    let mut tx = Tx::begin(db).await?;
    partition::attach(&mut tx, projection, builder.generation).await?;
    tx.commit().await?;
    drop(turn);
    Ok(())
}

/// 4. Switches over: with the live checkpoint locked, applies what the live copy has and the
///    new one lacks, then makes the new generation active at the same position.
/// 5. Drops the old copy (on PostgreSQL, its tables).
async fn finish(
    runner: &Runner,
    projection: &dyn Projection,
    builder: &Building,
    progress: &Progress<'_>,
    mut done: u64,
) -> Result<RebuildReport, ProjectionError> {
    let name = projection.name();
    let db = runner.database();
    progress.report(done, Phase::SwitchingOver);
    let turn = freshet_store::writer_turn(db).await;
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
            active: builder.generation,
            building: None,
        },
    )
    .await?;
    tx.commit().await?;
    drop(turn);
    runner.positions().publish(name, switched_at);
    announce(runner, switched_at).await;

    progress.report(done, Phase::DroppingOldCopy);
    let turn = freshet_store::writer_turn(db).await;
    let mut tx = Tx::begin(db).await?;
    partition::discard(&mut tx, projection, generations.active).await?;
    tx.commit().await?;
    drop(turn);
    progress.report(done, Phase::Done);
    Ok(RebuildReport {
        projection: name.to_owned(),
        generation: builder.generation,
        previous_generation: generations.active,
        events: done,
        switched_at,
    })
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
    let turn = freshet_store::writer_turn(runner.database()).await;
    let mut tx = Tx::begin(runner.database()).await?;
    let live = checkpoint::lock(&mut tx, name).await?;
    let generations = generation::lock(&mut tx, name).await?;
    let active = generations.active;
    // Saved unchanged: the new `Marker` tells live readers (inbox streams) the rows moved.
    generation::save(&mut tx, name, generations).await?;
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
            .apply(&mut tx, Target::shared(active), &events)
            .await
            .map_err(|source| ProjectionError::Processor {
                name: name.to_owned(),
                after: live,
                source,
            })?;
    }
    tx.commit().await?;
    drop(turn);
    announce(runner, live).await;
    Ok(count)
}

/// Wakes live readers of the rows just switched or rewritten (the inbox's event streams
/// start over with a new snapshot) without waiting for the next commit to wake them.
async fn announce(runner: &Runner, position: LogPosition) {
    if let Err(error) = runner.store().announce(position).await {
        tracing::warn!(%error, "could not tell live readers of a rebuild; the next commit will");
    }
}
