//! The delivery worker: claims due messages, sends them, records the outcome, and backs off
//! exponentially on failure. A bad message costs one attempt and never blocks the others.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use freshet_service::Clock;
use futures::StreamExt;
use lettre::message::Mailbox;
use tracing::Instrument;

use crate::config::RetryPolicy;
use crate::directory::Directory;
use crate::error::{DeliveryError, MailError};
use crate::outbox::{ClaimedMessage, Outbox, Outcome};
use crate::transport::{Transport, build_message};

/// How a worker paces itself.
#[derive(Clone, Copy, Debug)]
pub struct WorkerOptions {
    /// Messages claimed at once.
    pub batch_size: u32,
    /// Messages of a batch sent at the same time.
    pub concurrency: usize,
    /// How long to sleep when nothing is due.
    pub poll_interval: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            batch_size: 16,
            concurrency: 4,
            poll_interval: Duration::from_secs(1),
        }
    }
}

/// What one pass over the due messages did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
    /// Outcomes not recorded because the claim lapsed and another worker took over.
    pub lost_claims: usize,
}

impl DeliveryReport {
    pub fn claimed(&self) -> usize {
        self.sent + self.retrying + self.failed + self.lost_claims
    }
}

/// Sends what the outbox holds. Several workers may run against one PostgreSQL database.
#[derive(Debug)]
pub struct DeliveryWorker {
    outbox: Outbox,
    transport: Arc<dyn Transport>,
    directory: Arc<dyn Directory>,
    clock: Arc<dyn Clock>,
    from: Mailbox,
    retry: RetryPolicy,
    options: WorkerOptions,
}

impl DeliveryWorker {
    pub fn new(
        outbox: Outbox,
        transport: Arc<dyn Transport>,
        directory: Arc<dyn Directory>,
        clock: Arc<dyn Clock>,
        from: Mailbox,
        retry: RetryPolicy,
    ) -> Self {
        Self {
            outbox,
            transport,
            directory,
            clock,
            from,
            retry,
            options: WorkerOptions::default(),
        }
    }

    pub fn with_options(mut self, options: WorkerOptions) -> Self {
        self.options = options;
        self
    }

    /// Claims and delivers every message due now, batch after batch, until none is due.
    #[tracing::instrument(name = "mail.deliver_due", skip_all, err)]
    pub async fn deliver_due(&self) -> Result<DeliveryReport, MailError> {
        let mut report = DeliveryReport::default();
        loop {
            let batch = self
                .outbox
                .claim_due(self.clock.now(), self.retry.lease, self.options.batch_size)
                .await?;
            if batch.is_empty() {
                return Ok(report);
            }
            // Collected first: a stream over a closure would make this future !Send.
            let attempts: Vec<_> = batch.iter().map(|message| self.deliver(message)).collect();
            let outcomes: Vec<Result<(Outcome, bool), MailError>> = futures::stream::iter(attempts)
                .buffer_unordered(self.options.concurrency.max(1))
                .collect()
                .await;
            for outcome in outcomes {
                match outcome? {
                    (_, false) => report.lost_claims += 1,
                    (Outcome::Sent { .. }, true) => report.sent += 1,
                    (Outcome::RetryAt { .. }, true) => report.retrying += 1,
                    (Outcome::Failed { .. }, true) => report.failed += 1,
                }
            }
        }
    }

    /// Delivers until `shutdown` completes; errors of a pass are logged and the loop goes on.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            if let Err(error) = self.deliver_due().await {
                tracing::warn!(error = %error, "mail delivery pass failed; trying again");
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(self.options.poll_interval) => {}
            }
        }
    }

    /// One attempt at one claimed message, and its recorded outcome.
    async fn deliver(&self, message: &ClaimedMessage) -> Result<(Outcome, bool), MailError> {
        let span = tracing::info_span!(
            "mail.deliver",
            email.id = %message.id,
            email.attempt = message.attempts,
            email.outcome = tracing::field::Empty,
        );
        async {
            let outcome = match self.attempt(message).await {
                Ok(address) => Outcome::Sent { address },
                Err(error) => self.after_failure(message, &error),
            };
            let span = tracing::Span::current();
            match &outcome {
                Outcome::Sent { .. } => span.record("email.outcome", "sent"),
                Outcome::RetryAt { error, .. } => {
                    tracing::warn!(error = %error, "delivery attempt failed; will retry");
                    span.record("email.outcome", "retry")
                }
                Outcome::Failed { error } => {
                    tracing::error!(error = %error, "delivery failed for good");
                    span.record("email.outcome", "failed")
                }
            };
            let recorded = self
                .outbox
                .record(message, &outcome, self.clock.now())
                .await?;
            if !recorded {
                tracing::warn!("the claim lapsed before the outcome was recorded");
            }
            Ok((outcome, recorded))
        }
        .instrument(span)
        .await
    }

    async fn attempt(&self, message: &ClaimedMessage) -> Result<String, DeliveryError> {
        let to =
            self.directory
                .address(message.recipient)
                .await
                .ok_or(DeliveryError::NoAddress {
                    user: message.recipient,
                })?;
        let built = build_message(
            message.id,
            &self.from,
            &to,
            &message.subject,
            &message.body_text,
            &message.body_html,
        )?;
        self.transport.send(message.id, &built).await?;
        Ok(to.email.to_string())
    }

    fn after_failure(&self, message: &ClaimedMessage, error: &DeliveryError) -> Outcome {
        let text = error.to_string();
        if error.is_permanent() || message.attempts >= self.retry.max_attempts {
            return Outcome::Failed { error: text };
        }
        let wait = chrono::Duration::from_std(self.retry.backoff(message.attempts))
            .unwrap_or(chrono::Duration::MAX);
        let now = self.clock.now();
        Outcome::RetryAt {
            error: text,
            at: now.checked_add_signed(wait).unwrap_or(now),
        }
    }
}
