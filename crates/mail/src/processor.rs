//! From the event log to the outbox: every `EmailRequested` event becomes one rendered row
//! whose id is the email's deterministic id, written in the transaction of the follower's
//! runner together with the processor's checkpoint.
//!
//! Run it like any processor: `runner.spawn(Arc::new(EmailProcessor::new(renderer)))`. It is
//! not a projection, so rebuilds never touch its rows or its checkpoint.

use async_trait::async_trait;
use freshet_domain::{Event, PortfolioId};
use freshet_follower::{DecodedEvent, Processor, ProcessorError};
use freshet_store::{RecordedEvent, Tx};

use crate::error::MailError;
use crate::outbox::{self, NewMessage};
use crate::render::Renderer;

/// Turns `EmailRequested` events into outbox rows.
#[derive(Debug)]
pub struct EmailProcessor {
    renderer: Renderer,
}

impl EmailProcessor {
    /// The checkpoint name. Never change it once deployed: a new name starts from the
    /// beginning of the log (harmless for the rows, which exist, but slow).
    pub const NAME: &'static str = "mail_outbox";

    pub fn new(renderer: Renderer) -> Self {
        Self { renderer }
    }

    /// The rendered messages `events` ask for (other events are ignored).
    pub fn messages(&self, events: &[DecodedEvent]) -> Result<Vec<NewMessage>, MailError> {
        let mut messages = Vec::new();
        for decoded in events {
            let Event::EmailRequested { email } = &decoded.event else {
                continue;
            };
            let record = &decoded.record;
            let portfolio = portfolio_of(record)?;
            messages.push(NewMessage {
                portfolio,
                rendered: self.renderer.render(portfolio, email)?,
                email: email.clone(),
                source_event_id: record.event_id,
                created_at: record.recorded_at,
            });
        }
        Ok(messages)
    }

    /// Writes the messages `events` ask for in the caller's transaction; returns how many
    /// were new (a replayed event finds its row already there and adds nothing).
    #[tracing::instrument(name = "mail.write", skip_all, fields(events = events.len()), err)]
    pub async fn write(&self, tx: &mut Tx, events: &[DecodedEvent]) -> Result<u64, MailError> {
        let messages = self.messages(events)?;
        if messages.is_empty() {
            return Ok(0);
        }
        outbox::insert_messages(tx, &messages).await
    }
}

#[async_trait]
impl Processor for EmailProcessor {
    fn name(&self) -> &str {
        Self::NAME
    }

    async fn handle(&self, tx: &mut Tx, events: &[DecodedEvent]) -> Result<(), ProcessorError> {
        self.write(tx, events).await.map_err(|error| {
            ProcessorError::other(
                "the mail outbox could not record the requested emails",
                error,
            )
        })?;
        Ok(())
    }
}

/// The portfolio whose stream (`portfolio-<uuid>`) holds the event.
fn portfolio_of(record: &RecordedEvent) -> Result<PortfolioId, MailError> {
    PortfolioId::from_stream_name(record.stream_id.as_str()).ok_or_else(|| {
        MailError::NotAPortfolioStream {
            stream: record.stream_id.to_string(),
        }
    })
}
