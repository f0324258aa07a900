//! What every command endpoint shares: the [`CommandCall`] extractor (the state, the caller,
//! the path, the command headers and the `consistency` parameter), running the command
//! through `CommandService::execute` as the caller, and the answer (events, `ETag`,
//! `Idempotent-Replayed`, `Freshet-Consistency`).

use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use freshet_domain::{Command, PortfolioId, TaskId, TicketId};
use freshet_service::{CommandOutcome, CommandRequest};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::{
    ApiPath, ApiQuery, CommandHeaders, Consistency, ConsistencyParams, version_tag,
};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Namespace of ids the API derives from an idempotency key (new portfolios and tickets),
/// so an exact retry names the same thing and is recognised as the same request.
const KEY_NAMESPACE: Uuid = Uuid::from_u128(0x3b0e_51d4_8c2a_4f0e_a7d1_5e90_c2b6_14f8);

/// One recorded event, as a command's response shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EventBody {
    /// The event's stable wire name.
    #[serde(rename = "type")]
    pub event_type: String,
    pub schema_version: i32,
    pub data: serde_json::Value,
}

/// Where an event stands in the global log; pass it to a query to read your writes.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub struct Position {
    pub commit: i64,
    pub position: i64,
}

/// What a command did.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CommandResult {
    pub portfolio_id: Uuid,
    /// The portfolio's stream version after the command (its `ETag`).
    pub stream_version: i64,
    /// The log position of the command's last event (`null` when it recorded none).
    pub position: Option<Position>,
    pub events: Vec<EventBody>,
}

/// A command's answer: the result, plus headers saying whether it was a replay (B5) and how
/// fresh the read side is.
#[derive(Debug)]
pub struct CommandResponse {
    status: StatusCode,
    result: CommandResult,
    replayed: bool,
    consistency: &'static str,
}

impl IntoResponse for CommandResponse {
    fn into_response(self) -> Response {
        let tag = version_tag(self.result.stream_version);
        let mut response = (self.status, Json(self.result)).into_response();
        let headers = response.headers_mut();
        if let Ok(tag) = HeaderValue::from_str(&tag) {
            headers.insert("etag", tag);
        }
        if self.replayed {
            headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
        }
        headers.insert(
            "freshet-consistency",
            HeaderValue::from_static(self.consistency),
        );
        response
    }
}

fn result_of(outcome: &CommandOutcome) -> CommandResult {
    CommandResult {
        portfolio_id: outcome.portfolio.as_uuid(),
        stream_version: outcome.result.last_version,
        position: outcome.result.last_position().map(|p| Position {
            commit: p.commit,
            position: p.position,
        }),
        events: outcome
            .events
            .iter()
            .map(|event| {
                let encoded = event.encode();
                EventBody {
                    event_type: encoded.event_type.to_string(),
                    schema_version: encoded.schema_version,
                    data: encoded.payload,
                }
            })
            .collect(),
    }
}

/// A command endpoint's answer.
pub type Answer = Result<CommandResponse, ApiError>;

/// What a command's path names: nothing (a new portfolio), a portfolio (`{id}`), or a
/// portfolio and one of its tickets or tasks (`{id}/…/{ticket}`).
pub trait CommandPath: Sized + Send {
    fn extract(
        parts: &mut Parts,
        state: &AppState,
    ) -> impl Future<Output = Result<Self, ApiError>> + Send;
}

impl CommandPath for () {
    async fn extract(_: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        Ok(())
    }
}

impl CommandPath for PortfolioId {
    async fn extract(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ApiPath(id) = ApiPath::<Uuid>::from_request_parts(parts, state).await?;
        Ok(PortfolioId::from_uuid(id))
    }
}

impl CommandPath for (PortfolioId, Uuid) {
    async fn extract(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ApiPath((id, item)) = ApiPath::<(Uuid, Uuid)>::from_request_parts(parts, state).await?;
        Ok((PortfolioId::from_uuid(id), item))
    }
}

/// Everything a command endpoint takes besides its body, extracted in this order (so a
/// request with several faults is refused for the same one as ever): the caller (401),
/// the path (`invalid-path`), the command headers (`Idempotency-Key`, `If-Match`:
/// `invalid-header`) and the `consistency` parameter (`invalid-query`).
#[derive(Debug)]
pub struct CommandCall<P> {
    state: AppState,
    caller: Caller,
    /// What the path names.
    pub path: P,
    headers: CommandHeaders,
    consistency: Consistency,
}

impl<P: CommandPath> FromRequestParts<AppState> for CommandCall<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let path = P::extract(parts, state).await?;
        let headers = CommandHeaders::from_request_parts(parts, state).await?;
        let ApiQuery(query) =
            ApiQuery::<ConsistencyParams>::from_request_parts(parts, state).await?;
        Ok(Self {
            state: state.clone(),
            caller,
            path,
            headers,
            consistency: query.consistency,
        })
    }
}

impl<P> CommandCall<P> {
    /// An id for a new thing: the one given, else derived from the idempotency key (so a
    /// retry names the same thing), else a fresh one.
    pub fn new_id(&self, given: Option<Uuid>, what: &str) -> Uuid {
        match (given, &self.headers.idempotency_key) {
            (Some(id), _) => id,
            (None, Some(key)) => Uuid::new_v5(
                &KEY_NAMESPACE,
                format!("{what}/{}/{key}", self.caller.id()).as_bytes(),
            ),
            (None, None) => Uuid::now_v7(),
        }
    }

    /// Runs `command` on `portfolio` as the caller (honouring `If-Match`): executes (an
    /// exact retry with the same idempotency key gets the first outcome), and with
    /// `consistency=strong` waits until every projection has the events.
    pub async fn execute(
        self,
        portfolio: PortfolioId,
        command: Command,
        status: StatusCode,
    ) -> Answer {
        let state = &self.state;
        let action = command.action();
        let mut request = CommandRequest::new(portfolio, command, self.caller.actor());
        request.idempotency_key = self.headers.idempotency_key;
        // Checked by the service against the version it decides on, so no write slips between.
        request.expected_version = self.headers.if_match;
        let outcome = match state.service().execute(request).await {
            Ok(outcome) => outcome,
            Err(error) => {
                let error = ApiError::from(error);
                record_command(action, error.classify().1);
                return Err(error);
            }
        };
        record_command(action, if outcome.replayed { "replayed" } else { "ok" });
        let mut consistency_label = "eventual";
        if self.consistency == Consistency::Strong {
            consistency_label = "strong";
            if let Some(position) = outcome.result.last_position()
                && !state
                    .read_side_caught_up(&freshet_projections::PROJECTION_NAMES, position)
                    .await
            {
                consistency_label = "timeout";
            }
        }
        Ok(CommandResponse {
            status,
            result: result_of(&outcome),
            replayed: outcome.replayed,
            consistency: consistency_label,
        })
    }
}

impl CommandCall<PortfolioId> {
    /// Runs `command` on the portfolio of the path (200).
    pub async fn run(self, command: Command) -> Answer {
        let portfolio = self.path;
        self.execute(portfolio, command, StatusCode::OK).await
    }
}

impl CommandCall<(PortfolioId, Uuid)> {
    /// The ticket the path names (`{ticket}`).
    pub fn ticket(&self) -> TicketId {
        TicketId::from_uuid(self.path.1)
    }

    /// The task the path names (`{task}`).
    pub fn task(&self) -> TaskId {
        TaskId::from_uuid(self.path.1)
    }

    /// Runs `command` on the portfolio of the path (200).
    pub async fn run(self, command: Command) -> Answer {
        let portfolio = self.path.0;
        self.execute(portfolio, command, StatusCode::OK).await
    }
}

fn record_command(action: &'static str, outcome: &str) {
    metrics::counter!(
        "freshet_commands_total",
        "command" => action,
        "outcome" => outcome.to_owned()
    )
    .increment(1);
}
