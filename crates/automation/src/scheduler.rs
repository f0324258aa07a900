//! The scheduler: tick every portfolio whose next trigger date has come.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::NaiveDate;
use freshet_domain::{Actor, Command, PortfolioId};
use freshet_service::{CommandRequest, CommandService, ServiceError};
use futures::StreamExt;

use crate::digest::DailyDigest;

/// Finds the portfolios with a trigger due on or before a date.
#[async_trait]
pub trait DuePortfolios: Send + Sync + std::fmt::Debug {
    async fn due_on(&self, today: NaiveDate) -> Result<Vec<PortfolioId>, DueSourceError>;
}

#[derive(Debug, thiserror::Error)]
#[error("cannot list the portfolios due: {0}")]
pub struct DueSourceError(pub Box<dyn std::error::Error + Send + Sync>);

/// What one tick did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TickReport {
    pub today: Option<NaiveDate>,
    pub portfolios_ticked: usize,
    pub events_recorded: usize,
    /// Portfolios whose tick failed (retried at the next tick), with the reason.
    pub failures: Vec<(PortfolioId, String)>,
}

/// How many portfolios a tick decides at once, by default. The due portfolios are loaded
/// up front, so each is decided in memory; their appends wait together in the store's queue
/// and are committed a batch at a time (group commit), so 5,000 due portfolios are a few
/// dozen transactions. Up to the store's batch size at once keeps every batch full.
pub const DEFAULT_TICK_CONCURRENCY: usize = 256;

#[derive(Debug, Clone)]
pub struct Scheduler<D> {
    service: CommandService,
    due: D,
    concurrency: usize,
    /// Written after each tick once its time of day has come (see `run`).
    digest: Option<Arc<DailyDigest>>,
}

impl<D: DuePortfolios> Scheduler<D> {
    pub fn new(service: CommandService, due: D) -> Self {
        Self {
            service,
            due,
            concurrency: DEFAULT_TICK_CONCURRENCY,
            digest: None,
        }
    }

    /// Also writes the daily digest, at the first tick of each day at or after its time.
    pub fn with_digest(mut self, digest: DailyDigest) -> Self {
        self.digest = Some(Arc::new(digest));
        self
    }

    /// How many portfolios are ticked at once.
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Runs every trigger due today (the agency's date at the service clock's now).
    #[tracing::instrument(skip_all, fields(today, portfolios, events), err(Display))]
    pub async fn tick(&self) -> Result<TickReport, DueSourceError> {
        let config = self.service.config();
        let today = config.calendar.today(self.service.clock().now());
        let span = tracing::Span::current();
        span.record("today", tracing::field::display(today));
        let due = self.due.due_on(today).await?;
        span.record("portfolios", due.len());
        if let Err(error) = self.service.warm(&due).await {
            // Only slower: each command then reads its own portfolio.
            tracing::warn!(%error, "could not load the due portfolios up front");
        }
        let outcomes: Vec<(PortfolioId, Result<usize, ServiceError>)> = futures::stream::iter(due)
            .map(|portfolio| async move {
                let request = CommandRequest::new(portfolio, Command::Tick, Actor::System);
                let outcome = self.service.execute(request).await;
                (portfolio, outcome.map(|o| o.events.len()))
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        let mut report = TickReport {
            today: Some(today),
            ..TickReport::default()
        };
        for (portfolio, outcome) in outcomes {
            report.portfolios_ticked += 1;
            match outcome {
                Ok(events) => report.events_recorded += events,
                Err(error) => {
                    tracing::warn!(portfolio.id = %portfolio, %error, "tick failed; retried next tick");
                    report.failures.push((portfolio, error.to_string()));
                }
            }
        }
        span.record("events", report.events_recorded);
        Ok(report)
    }

    /// Ticks every `interval` until `shutdown` completes, each tick followed by the daily
    /// digest (if any) once its time has come. A failed tick or digest is logged and retried
    /// at the next interval; it never stops the loop.
    pub async fn run(&self, interval: Duration, shutdown: impl Future<Output = ()>) {
        let mut timer = tokio::time::interval(interval);
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                _ = timer.tick() => {
                    if let Err(error) = self.tick().await {
                        tracing::warn!(%error, "scheduler tick failed");
                    }
                    if let Some(digest) = &self.digest
                        && let Err(error) = digest.send_due().await
                    {
                        tracing::warn!(error = %error, "daily digest failed; retried next tick");
                    }
                }
            }
        }
    }
}
