//! `CommandService`: load, decide, append, with retries on conflict and idempotent replays.

use std::sync::Arc;

use freshet_domain::{
    Actor, AgencyCalendar, Command, Context, Deadlines, Event, PortfolioId, decide,
};
use freshet_store::{
    AppendOutcome, AppendResult, EventStore, ExecuteError, IdempotencyKey, Metadata, NewEvent,
    execute,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::clock::Clock;
use crate::error::ServiceError;
use crate::history::{decode, fold, stream_of};

/// How the agency runs the process: its time zone (R3) and its gate deadlines (B1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcessConfig {
    pub calendar: AgencyCalendar,
    pub deadlines: Deadlines,
    /// Attempts before a command gives up on a portfolio that keeps changing under it.
    pub max_attempts: u32,
}

impl Default for ProcessConfig {
    fn default() -> Self {
        Self {
            calendar: AgencyCalendar::default(),
            deadlines: Deadlines::default(),
            max_attempts: 20,
        }
    }
}

/// One command on one portfolio, as a person or the scheduler sends it.
#[derive(Clone, Debug)]
pub struct CommandRequest {
    pub portfolio: PortfolioId,
    pub command: Command,
    pub actor: Actor,
    /// An exact retry with the same key returns the first outcome (B5).
    pub idempotency_key: Option<String>,
    /// The request or trigger this command belongs to (B2: why a change happened).
    pub correlation_id: Option<Uuid>,
}

impl CommandRequest {
    pub fn new(portfolio: PortfolioId, command: Command, actor: Actor) -> Self {
        Self {
            portfolio,
            command,
            actor,
            idempotency_key: None,
            correlation_id: None,
        }
    }

    pub fn with_idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    pub fn with_correlation_id(mut self, id: Uuid) -> Self {
        self.correlation_id = Some(id);
        self
    }
}

/// What a command did: the events it recorded and where they stand in the log.
#[derive(Clone, Debug)]
pub struct CommandOutcome {
    pub portfolio: PortfolioId,
    pub result: AppendResult,
    pub events: Vec<Event>,
    /// True when this is the stored outcome of an earlier request with the same key.
    pub replayed: bool,
}

#[derive(Clone, Debug)]
pub struct CommandService {
    store: Arc<dyn EventStore>,
    clock: Arc<dyn Clock>,
    config: ProcessConfig,
}

/// How the acting party is written in each event's metadata.
pub fn actor_label(actor: Actor) -> String {
    match actor {
        Actor::User { id, admin: false } => format!("user:{id}"),
        Actor::User { id, admin: true } => format!("admin:{id}"),
        Actor::System => "system".to_owned(),
    }
}

impl CommandService {
    pub fn new(store: Arc<dyn EventStore>, clock: Arc<dyn Clock>, config: ProcessConfig) -> Self {
        Self {
            store,
            clock,
            config,
        }
    }

    pub fn store(&self) -> &Arc<dyn EventStore> {
        &self.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn config(&self) -> &ProcessConfig {
        &self.config
    }

    /// Decides and records `request`. A refusal writes nothing.
    #[tracing::instrument(
        skip_all,
        fields(portfolio.id = %request.portfolio, command = request.command.action(), replayed),
        err(Display)
    )]
    pub async fn execute(&self, request: CommandRequest) -> Result<CommandOutcome, ServiceError> {
        let stream = stream_of(request.portfolio);
        let now = self.clock.now();
        let context = Context {
            actor: request.actor,
            now,
            today: self.config.calendar.today(now),
            deadlines: self.config.deadlines,
        };
        let command_id = Uuid::now_v7();
        let meta = Metadata {
            actor: Some(actor_label(request.actor)),
            causation_id: command_id,
            correlation_id: request.correlation_id.unwrap_or(command_id),
            recorded_at: now,
        };
        let key = request
            .idempotency_key
            .as_deref()
            .map(|key| IdempotencyKey {
                // Scoped to the sender, so two people's keys never collide.
                key: format!("{}/{key}", actor_label(request.actor)),
                request_fingerprint: fingerprint(&request),
            });
        let mut decided: Vec<Event> = Vec::new();
        let outcome = execute(
            self.store.as_ref(),
            &stream,
            key.as_ref(),
            &meta,
            self.config.max_attempts,
            |records| -> Result<Vec<NewEvent>, DecideError> {
                let state = fold(&stream, records).map_err(DecideError::Service)?;
                decided = decide(state.as_ref(), &request.command, &context)
                    .map_err(DecideError::Domain)?;
                Ok(decided
                    .iter()
                    .map(|event| {
                        let encoded = event.encode();
                        NewEvent::new(encoded.event_type, encoded.schema_version, encoded.payload)
                    })
                    .collect())
            },
        )
        .await
        .map_err(|error| match error {
            ExecuteError::Rejected(DecideError::Domain(error)) => ServiceError::Domain(error),
            ExecuteError::Rejected(DecideError::Service(error)) => error,
            ExecuteError::Store(error) => error.into(),
            ExecuteError::Contention { attempts } => ServiceError::Contention { attempts },
        })?;
        tracing::Span::current().record("replayed", outcome.is_replayed());
        match outcome {
            AppendOutcome::Appended(result) => Ok(CommandOutcome {
                portfolio: request.portfolio,
                result,
                events: decided,
                replayed: false,
            }),
            AppendOutcome::Replayed(result) => {
                let records = self
                    .store
                    .read_stream(&stream, result.first_version)
                    .await?;
                let events = records
                    .iter()
                    .take_while(|record| record.version <= result.last_version)
                    .map(decode)
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(CommandOutcome {
                    portfolio: request.portfolio,
                    result,
                    events,
                    replayed: true,
                })
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum DecideError {
    #[error(transparent)]
    Domain(freshet_domain::DomainError),
    #[error(transparent)]
    Service(ServiceError),
}

/// Identifies the request behind an idempotency key: the same key with another request is
/// refused rather than answered with the wrong outcome.
fn fingerprint(request: &CommandRequest) -> String {
    let mut hasher = Sha256::new();
    hasher.update(request.portfolio.to_string().as_bytes());
    hasher.update(serde_json::to_vec(&request.command).unwrap_or_default());
    format!("{:x}", hasher.finalize())
}
