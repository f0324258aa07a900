//! `CommandService`: load, decide, append, with retries on conflict and idempotent replays.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use freshet_domain::{
    Actor, AgencyCalendar, Command, Context, Deadlines, Event, Portfolio, PortfolioId, decide,
    permissions,
};
use freshet_store::{
    AppendOutcome, AppendResult, EventStore, ExpectedVersion, IdempotencyKey, Metadata, NewEvent,
    StoreError, StreamId,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::cache::StateCache;
use crate::clock::Clock;
use crate::error::ServiceError;
use freshet_follower::decode;

use crate::history::{fold, stream_of};
use crate::turns::Turns;

mod dated;

pub use dated::DatedCommands;

/// How the agency runs the process: its time zone (R3) and its gate deadlines (B1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcessConfig {
    pub calendar: AgencyCalendar,
    pub deadlines: Deadlines,
    /// Attempts before a command gives up on a portfolio that keeps changing under it.
    pub max_attempts: u32,
    /// How long an idempotency key is remembered (B5): after that the same key names a new
    /// request, and the worker deletes it.
    pub idempotency_ttl: std::time::Duration,
}

/// A day: a client retrying an operation is done long before.
pub const DEFAULT_IDEMPOTENCY_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

impl Default for ProcessConfig {
    fn default() -> Self {
        Self {
            calendar: AgencyCalendar::default(),
            deadlines: Deadlines::default(),
            max_attempts: 20,
            idempotency_ttl: DEFAULT_IDEMPOTENCY_TTL,
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
    /// Decide only if the portfolio is still at this stream version (a client's `If-Match`).
    pub expected_version: Option<i64>,
}

impl CommandRequest {
    pub fn new(portfolio: PortfolioId, command: Command, actor: Actor) -> Self {
        Self {
            portfolio,
            command,
            actor,
            idempotency_key: None,
            correlation_id: None,
            expected_version: None,
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
    cache: StateCache,
    turns: Turns,
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
            cache: StateCache::default(),
            turns: Turns::default(),
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

    /// What a command by `actor` is decided with now: the instant, "today" in the agency's
    /// calendar (R3) and the gate deadlines (B1). Commands and previews (what-ifs) alike.
    pub fn context(&self, actor: Actor) -> Context {
        let now = self.clock.now();
        Context {
            actor,
            now,
            today: self.config.calendar.today(now),
            deadlines: self.config.deadlines,
        }
    }

    /// Decides and records `request`. A refusal writes nothing.
    #[tracing::instrument(
        skip_all,
        fields(portfolio.id = %request.portfolio, command = request.command.action(), replayed),
        err(Display)
    )]
    pub async fn execute(&self, request: CommandRequest) -> Result<CommandOutcome, ServiceError> {
        let stream = stream_of(request.portfolio);
        let context = self.context(request.actor);
        let now = context.now;
        let meta = metadata(request.actor, request.correlation_id, now);
        let key = self.scoped_key(
            request.actor,
            request.idempotency_key.as_deref(),
            || fingerprint(&request),
            now,
        );
        // Commands of this process on one portfolio queue here instead of conflicting.
        let _turn = self.turns.take(request.portfolio).await;
        // No look-up of the key up front: the append claims it in its own transaction and
        // answers an exact retry with the stored outcome; only a retry the domain refuses
        // (its first attempt already changed the state) looks the outcome up below.
        let max_attempts = self.config.max_attempts.max(1);
        // The first attempt decides on the cached state without reading the stream: the
        // append's version check catches a stale cache (another process wrote), and a refusal
        // is only given on a state just read.
        let mut cached = self.cache.get(request.portfolio);
        let mut attempt = 0;
        while attempt < max_attempts {
            let read = cached.is_none();
            let (version, state) = match cached.take() {
                Some((version, state)) => (version, Some(state)),
                None => {
                    attempt += 1;
                    self.current_state(request.portfolio, &stream).await?
                }
            };
            let decided = match request.expected_version {
                Some(expected) if expected != version => Err(ServiceError::VersionMismatch {
                    expected,
                    current: version,
                }),
                _ => decide(state.as_ref(), &request.command, &context).map_err(ServiceError::from),
            };
            let decided = match decided {
                Ok(decided) => decided,
                Err(_) if !read => continue,
                // A retry racing its own first attempt: the state already holds the first
                // attempt's events, so deciding again fails; its stored outcome is the answer.
                Err(error) => {
                    if let Some(key) = &key
                        && let Some(record) = self.store.idempotent_outcome(key).await?
                    {
                        return self
                            .replay(&request, &stream, record.replay_for(key)?.into_result())
                            .await;
                    }
                    return Err(error);
                }
            };
            let encoded = decided
                .iter()
                .map(|event| {
                    let encoded = event.encode();
                    NewEvent::new(encoded.event_type, encoded.schema_version, encoded.payload)
                })
                .collect();
            let expected = ExpectedVersion::Exact(version);
            match self
                .store
                .append(&stream, expected, encoded, &meta, key.as_ref())
                .await
            {
                Err(StoreError::Conflict { .. }) => {
                    tracing::debug!(attempt, "conflict; deciding again on the newer history");
                    // Writers that collided would collide again if they all retried at once.
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(error) => return Err(error.into()),
                Ok(AppendOutcome::Replayed(result)) => {
                    return self.replay(&request, &stream, result).await;
                }
                Ok(AppendOutcome::Appended(result)) => {
                    let mut next = state;
                    for event in &decided {
                        next = Portfolio::evolve(next, event).ok();
                    }
                    if let Some(next) = next {
                        self.cache
                            .remember(request.portfolio, result.last_version, next);
                    }
                    return Ok(CommandOutcome {
                        portfolio: request.portfolio,
                        result,
                        events: decided,
                        replayed: false,
                    });
                }
            }
        }
        Err(ServiceError::Contention {
            attempts: max_attempts,
        })
    }

    /// The portfolio as it stands now (`None` if it does not exist), read cheaply through
    /// the same cache the commands use.
    pub async fn portfolio(
        &self,
        portfolio: PortfolioId,
    ) -> Result<Option<Portfolio>, ServiceError> {
        let stream = stream_of(portfolio);
        Ok(self.current_state(portfolio, &stream).await?.1)
    }

    /// Each of `portfolios` as it stands now (those that exist), read cheaply: the ones not
    /// in the cache many to a round trip, then what the cached ones lack in one more.
    #[tracing::instrument(skip_all, fields(portfolios = portfolios.len()), err(Display))]
    pub async fn portfolios(
        &self,
        portfolios: &[PortfolioId],
    ) -> Result<HashMap<PortfolioId, Portfolio>, ServiceError> {
        let mut known = HashMap::with_capacity(portfolios.len());
        let mut cold = Vec::new();
        for portfolio in portfolios {
            match self.cache.get(*portfolio) {
                Some(cached) => {
                    known.insert(*portfolio, cached);
                }
                None => cold.push(*portfolio),
            }
        }
        let streams: Vec<(StreamId, i64)> = known
            .iter()
            .map(|(portfolio, (version, _))| (stream_of(*portfolio), *version))
            .collect();
        let newer = self.store.read_streams_after(&streams).await?;
        for records in newer.chunk_by(|a, b| a.stream_id == b.stream_id) {
            let Some(first) = records.first() else {
                continue;
            };
            let Some(portfolio) = PortfolioId::from_stream_name(first.stream_id.as_str()) else {
                continue;
            };
            let Some((mut version, mut state)) = known.remove(&portfolio) else {
                continue;
            };
            for record in records {
                let event = decode(record)?;
                state = Portfolio::evolve(Some(state), &event).map_err(|source| {
                    ServiceError::History {
                        stream: first.stream_id.to_string(),
                        source,
                    }
                })?;
                version = record.version;
            }
            self.cache.remember(portfolio, version, state.clone());
            known.insert(portfolio, (version, state));
        }
        let mut states: HashMap<PortfolioId, Portfolio> = known
            .into_iter()
            .map(|(portfolio, (_, state))| (portfolio, state))
            .collect();
        // Taken as read, not from the cache: a full cache may already have let them go.
        for (portfolio, _, state) in self.load(&cold).await? {
            states.insert(portfolio, state);
        }
        Ok(states)
    }

    /// Loads the portfolios not in the cache yet, many per round trip, so that commands on
    /// them about to run (a tick's) decide without reading their streams first.
    #[tracing::instrument(skip_all, fields(portfolios = portfolios.len()), err(Display))]
    pub async fn warm(&self, portfolios: &[PortfolioId]) -> Result<(), ServiceError> {
        let cold: Vec<PortfolioId> = portfolios
            .iter()
            .filter(|portfolio| !self.cache.contains(**portfolio))
            .copied()
            .collect();
        self.load(&cold).await?;
        Ok(())
    }

    /// Reads and folds `portfolios` whole, many per round trip, and caches them: each one
    /// that exists, with its version.
    async fn load(
        &self,
        portfolios: &[PortfolioId],
    ) -> Result<Vec<(PortfolioId, i64, Portfolio)>, ServiceError> {
        const STREAMS_PER_READ: usize = 500;
        let mut loaded = Vec::with_capacity(portfolios.len());
        let streams: Vec<StreamId> = portfolios.iter().map(|p| stream_of(*p)).collect();
        for streams in streams.chunks(STREAMS_PER_READ) {
            let records = self.store.read_streams(streams).await?;
            for records in records.chunk_by(|a, b| a.stream_id == b.stream_id) {
                let Some(stream) = records.first().map(|record| &record.stream_id) else {
                    continue;
                };
                let Some(portfolio) = PortfolioId::from_stream_name(stream.as_str()) else {
                    continue;
                };
                if let Some(state) = fold(stream, records)? {
                    let version = records.last().map_or(0, |record| record.version);
                    self.cache.remember(portfolio, version, state.clone());
                    loaded.push((portfolio, version, state));
                }
            }
        }
        Ok(loaded)
    }

    /// The portfolio's state at its latest stored version: the cached state brought up to
    /// date with the events stored since, so a command reads only what it has not seen.
    async fn current_state(
        &self,
        portfolio: PortfolioId,
        stream: &StreamId,
    ) -> Result<(i64, Option<Portfolio>), ServiceError> {
        let (mut version, mut state) = self
            .cache
            .get(portfolio)
            .map_or((0, None), |(v, s)| (v, Some(s)));
        let newer = self.store.read_stream(stream, version + 1).await?;
        for record in &newer {
            let event = decode(record)?;
            state =
                Some(
                    Portfolio::evolve(state, &event).map_err(|source| ServiceError::History {
                        stream: stream.to_string(),
                        source,
                    })?,
                );
            version = record.version;
        }
        if !newer.is_empty()
            && let Some(state) = &state
        {
            self.cache.remember(portfolio, version, state.clone());
        }
        Ok((version, state))
    }

    /// The stored outcome of `request`'s first attempt, if the caller may still send it:
    /// a replay answers only whom a first attempt would (B4), on the portfolio as it is now.
    async fn replay(
        &self,
        request: &CommandRequest,
        stream: &StreamId,
        result: AppendResult,
    ) -> Result<CommandOutcome, ServiceError> {
        let (_, state) = self.current_state(request.portfolio, stream).await?;
        permissions::authorize(state.as_ref(), &request.command, request.actor)?;
        tracing::Span::current().record("replayed", true);
        self.replayed(request.portfolio, stream, result).await
    }

    /// The outcome `result` recorded, with its events read back.
    async fn replayed(
        &self,
        portfolio: PortfolioId,
        stream: &StreamId,
        result: AppendResult,
    ) -> Result<CommandOutcome, ServiceError> {
        let records = self.store.read_stream(stream, result.first_version).await?;
        let events = records
            .iter()
            .take_while(|record| record.version <= result.last_version)
            .map(decode)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CommandOutcome {
            portfolio,
            result,
            events,
            replayed: true,
        })
    }
}

/// A new request's metadata: its own command id, the cause it belongs to, its instant.
fn metadata(actor: Actor, correlation_id: Option<Uuid>, now: DateTime<Utc>) -> Metadata {
    let command_id = Uuid::now_v7();
    Metadata {
        actor: Some(actor_label(actor)),
        causation_id: command_id,
        correlation_id: correlation_id.unwrap_or(command_id),
        recorded_at: now,
    }
}

impl CommandService {
    /// A request's idempotency key, scoped to its sender so two people's keys never collide.
    fn scoped_key(
        &self,
        actor: Actor,
        key: Option<&str>,
        fingerprint: impl FnOnce() -> String,
        now: DateTime<Utc>,
    ) -> Option<IdempotencyKey> {
        key.map(|key| {
            IdempotencyKey::new(format!("{}/{key}", actor_label(actor)), fingerprint())
                .with_valid_since(key_cutoff(now, self.config.idempotency_ttl))
        })
    }
}

/// The oldest use of a key that still counts at `now`.
pub(crate) fn key_cutoff(now: DateTime<Utc>, ttl: std::time::Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(ttl)
        .ok()
        .and_then(|ttl| now.checked_sub_signed(ttl))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// A random pause that grows with the attempts (up to ~2 ms per attempt so far), so that
/// writers of one busy portfolio spread out instead of colliding in lockstep.
fn backoff(attempt: u32) -> std::time::Duration {
    let ceiling_micros = 2_000 * u128::from(attempt.min(10));
    let jitter = Uuid::new_v4().as_u128() % ceiling_micros.max(1);
    std::time::Duration::from_micros(u64::try_from(jitter).unwrap_or(0))
}

/// Identifies the request behind an idempotency key: the same key with another request is
/// refused rather than answered with the wrong outcome.
fn fingerprint(request: &CommandRequest) -> String {
    let mut hasher = Sha256::new();
    hasher.update(request.portfolio.to_string().as_bytes());
    hasher.update(serde_json::to_vec(&request.command).unwrap_or_default());
    format!("{:x}", hasher.finalize())
}
