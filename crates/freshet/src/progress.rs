//! Progress bars for the operator's `rebuild` command: `freshet-projections` reports how a
//! rebuild is going on a watch channel, this draws it.

use std::sync::Arc;

use freshet_follower::Runner;
use freshet_projections::rebuild::Phase;
use freshet_projections::{
    Projection, ProjectionError, RebuildProgress, RebuildReport, rebuild_together,
};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use tokio::sync::watch;

/// Rebuilds the projections together (`rebuild_together`) with an `indicatif` progress bar
/// per projection on stderr, drawn from each rebuild's `RebuildProgress` channel: what
/// `freshet rebuild <projection>|--all` runs.
pub async fn rebuild_with_progress_bars(
    runner: &Runner,
    projections: &[Arc<dyn Projection>],
) -> Result<Vec<RebuildReport>, ProjectionError> {
    let style = ProgressStyle::with_template(
        "{prefix:>14} [{bar:40}] {pos}/{len} events {per_sec} eta {eta} {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    let bars = MultiProgress::new();
    let mut senders = Vec::with_capacity(projections.len());
    let mut follows = Vec::with_capacity(projections.len());
    for projection in projections {
        let bar = bars.add(ProgressBar::new(0).with_style(style.clone()));
        bar.set_prefix(projection.name());
        let (sender, mut receiver) = watch::channel(RebuildProgress::new(projection.name()));
        follows.push(tokio::spawn(async move {
            while receiver.changed().await.is_ok() {
                let p = receiver.borrow_and_update().clone();
                bar.set_length(p.events_total);
                bar.set_position(p.events_done);
                bar.set_message(format!("{:?}", p.phase));
                if p.phase == Phase::Done {
                    bar.finish_with_message(format!("generation {}", p.generation));
                }
            }
            bar.abandon();
        }));
        senders.push(sender);
    }
    let pairs: Vec<_> = projections
        .iter()
        .map(|projection| projection.as_ref())
        .zip(&senders)
        .collect();
    let result = rebuild_together(runner, &pairs).await;
    drop(senders);
    for follow in follows {
        let _ = follow.await;
    }
    result
}

/// A bar of `done/total` things (the import's portfolios), drawn on stderr.
pub fn count_bar(prefix: &'static str) -> ProgressBar {
    let style =
        ProgressStyle::with_template("{prefix:>14} [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
    ProgressBar::new(0).with_style(style).with_prefix(prefix)
}
