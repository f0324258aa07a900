//! Several commands on one portfolio, each at its own instant, recorded as one append: a
//! history brought in from elsewhere (the HubSpot import). All of it is written or none.

use chrono::{DateTime, Utc};
use freshet_domain::{Actor, Command, Context, Event, Portfolio, PortfolioId, decide, permissions};
use freshet_store::{AppendOutcome, EventOrigin, ExpectedVersion, NewEvent, StoreError};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{CommandOutcome, CommandService, backoff, metadata};
use crate::error::ServiceError;
use crate::history::stream_of;

/// Commands on one portfolio in order, each decided at its own instant (its `today` in the
/// agency's calendar) and recorded at it, caused by its own command id.
#[derive(Clone, Debug)]
pub struct DatedCommands {
    pub portfolio: PortfolioId,
    pub actor: Actor,
    pub commands: Vec<(DateTime<Utc>, Command)>,
    /// An exact retry with the same key returns the first outcome (B5).
    pub idempotency_key: Option<String>,
    pub correlation_id: Option<Uuid>,
}

impl CommandService {
    /// Decides `request`'s commands in order on the portfolio as it stands and records every
    /// event they yield in one append. The first refusal writes nothing; a portfolio changed
    /// meanwhile by another process is read again and the commands decided again.
    #[tracing::instrument(
        skip_all,
        fields(portfolio.id = %request.portfolio, commands = request.commands.len()),
        err(Display)
    )]
    pub async fn execute_dated(
        &self,
        request: DatedCommands,
    ) -> Result<CommandOutcome, ServiceError> {
        let stream = stream_of(request.portfolio);
        let now = self.clock.now();
        let meta = metadata(request.actor, request.correlation_id, now);
        let key = self.scoped_key(
            request.actor,
            request.idempotency_key.as_deref(),
            || fingerprint(&request),
            now,
        );
        let _turn = self.turns.take(request.portfolio).await;
        let max_attempts = self.config.max_attempts.max(1);
        for attempt in 1..=max_attempts {
            let (version, state) = self.current_state(request.portfolio, &stream).await?;
            let (decided, next) = match self.decide_dated(&request, state.clone()) {
                Ok(decided) => decided,
                Err(error) => {
                    // A retry after its first attempt was written: that one is the answer,
                    // if the sender may still send every command (B4).
                    if let Some(key) = &key
                        && let Some(record) = self.store.idempotent_outcome(key).await?
                    {
                        for (_, command) in &request.commands {
                            permissions::authorize(state.as_ref(), command, request.actor)?;
                        }
                        let result = record.replay_for(key)?.into_result();
                        return self.replayed(request.portfolio, &stream, result).await;
                    }
                    return Err(error);
                }
            };
            let encoded = decided
                .iter()
                .map(|(origin, event)| {
                    let encoded = event.encode();
                    NewEvent::new(encoded.event_type, encoded.schema_version, encoded.payload)
                        .with_origin(*origin)
                })
                .collect();
            let expected = ExpectedVersion::Exact(version);
            match self
                .store
                .append(&stream, expected, encoded, &meta, key.as_ref())
                .await
            {
                Err(StoreError::Conflict { .. }) => {
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(error) => return Err(error.into()),
                Ok(AppendOutcome::Replayed(result)) => {
                    return self.replayed(request.portfolio, &stream, result).await;
                }
                Ok(AppendOutcome::Appended(result)) => {
                    if let Some(next) = next {
                        self.cache
                            .remember(request.portfolio, result.last_version, next);
                    }
                    return Ok(CommandOutcome {
                        portfolio: request.portfolio,
                        result,
                        events: decided.into_iter().map(|(_, event)| event).collect(),
                        replayed: false,
                    });
                }
            }
        }
        Err(ServiceError::Contention {
            attempts: max_attempts,
        })
    }

    /// Every command decided in order, each on the state the previous ones left: the events
    /// with their origins, and the state after them.
    fn decide_dated(
        &self,
        request: &DatedCommands,
        mut state: Option<Portfolio>,
    ) -> Result<Decided, ServiceError> {
        let mut decided = Vec::new();
        for (at, command) in &request.commands {
            let context = Context {
                actor: request.actor,
                now: *at,
                today: self.config.calendar.today(*at),
                deadlines: self.config.deadlines,
            };
            let origin = EventOrigin {
                recorded_at: *at,
                causation_id: Uuid::now_v7(),
            };
            for event in decide(state.as_ref(), command, &context)? {
                state = Some(Portfolio::evolve(state, &event).map_err(|source| {
                    ServiceError::History {
                        stream: stream_of(request.portfolio).to_string(),
                        source,
                    }
                })?);
                decided.push((origin, event));
            }
        }
        Ok((decided, state))
    }
}

/// Events with the instant and command each comes from, and the state they leave.
type Decided = (Vec<(EventOrigin, Event)>, Option<Portfolio>);

/// Identifies the commands behind an idempotency key. Not their instants: a second run of
/// one import (two operators at once) plans the same commands at a later "now", and must be
/// answered with the first run's outcome, not refused as another request.
fn fingerprint(request: &DatedCommands) -> String {
    let mut hasher = Sha256::new();
    hasher.update(request.portfolio.to_string().as_bytes());
    for (_, command) in &request.commands {
        hasher.update(serde_json::to_vec(command).unwrap_or_default());
    }
    format!("{:x}", hasher.finalize())
}
