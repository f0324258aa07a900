//! One endpoint per action a person takes in the process, each mapped to one
//! `freshet_domain::Command` and run through `CommandService::execute` as the caller.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use freshet_domain::{
    AdLabLink, Cadence, CadenceUnit, ClientName, Command, DeliverableCount, FolderName, NoteText,
    PortfolioId, RevisionKind, TaskId, Team, TicketId, TicketTitle, UserId,
};
use freshet_service::{CommandOutcome, CommandRequest};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::{
    ApiJson, ApiPath, ApiQuery, CommandHeaderDocs, CommandHeaders, Consistency, ConsistencyParams,
    version_tag,
};
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
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

/// Runs `command` on `portfolio` as `caller` (honouring `If-Match`): executes (an exact retry
/// with the same idempotency key gets the first outcome), and with `consistency=strong`
/// waits until every projection has the events.
pub(crate) async fn run(
    state: &AppState,
    caller: &Caller,
    portfolio: PortfolioId,
    command: Command,
    headers: CommandHeaders,
    consistency: Consistency,
    status: StatusCode,
) -> Result<CommandResponse, ApiError> {
    let action = command.action();
    let actor = caller.actor();
    let mut request = CommandRequest::new(portfolio, command, actor);
    request.idempotency_key = headers.idempotency_key;
    // Checked by the service against the version it decides on, so no write slips between.
    request.expected_version = headers.if_match;
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
    if consistency == Consistency::Strong {
        consistency_label = "strong";
        if let Some(position) = outcome.result.last_position() {
            let waited = state
                .runner()
                .wait_for(
                    &freshet_projections::PROJECTION_NAMES,
                    position,
                    state.options().consistency_timeout,
                )
                .await;
            if let Err(timeout) = waited {
                tracing::warn!(error = %timeout, "the read side did not catch up in time");
                consistency_label = "timeout";
            }
        }
    }
    Ok(CommandResponse {
        status,
        result: result_of(&outcome),
        replayed: outcome.replayed,
        consistency: consistency_label,
    })
}

fn record_command(action: &'static str, outcome: &str) {
    metrics::counter!(
        "freshet_commands_total",
        "command" => action,
        "outcome" => outcome.to_owned()
    )
    .increment(1);
}

/// An id for a new thing: the one given, else derived from the idempotency key (so a retry
/// names the same thing), else a fresh one.
fn new_id(given: Option<Uuid>, caller: &Caller, headers: &CommandHeaders, what: &str) -> Uuid {
    match (given, &headers.idempotency_key) {
        (Some(id), _) => id,
        (None, Some(key)) => Uuid::new_v5(
            &KEY_NAMESPACE,
            format!("{what}/{}/{key}", caller.id()).as_bytes(),
        ),
        (None, None) => Uuid::now_v7(),
    }
}

// ---- request bodies ----------------------------------------------------------------------

/// Whole JSON numbers as unsigned integers: `10` and `10.0` alike (both are JSON Schema's
/// `integer`), so a body the document allows is never refused for its number's spelling.
mod whole {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer};

    fn number<'de, D: Deserializer<'de>>(number: serde_json::Number) -> Result<u64, D::Error> {
        if let Some(value) = number.as_u64() {
            return Ok(value);
        }
        match number.as_f64() {
            Some(value) if value.fract() == 0.0 && (0.0..=u64::MAX as f64).contains(&value) => {
                Ok(value as u64)
            }
            _ => Err(D::Error::custom(format!(
                "{number} is not a whole number of at least 0"
            ))),
        }
    }

    fn fit<'de, D: Deserializer<'de>, T: TryFrom<u64>>(value: u64) -> Result<T, D::Error> {
        T::try_from(value).map_err(|_| D::Error::custom(format!("{value} is too large")))
    }

    pub fn u16<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u16, D::Error> {
        fit::<D, u16>(number::<D>(serde_json::Number::deserialize(deserializer)?)?)
    }

    pub fn u32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
        fit::<D, u32>(number::<D>(serde_json::Number::deserialize(deserializer)?)?)
    }

    pub fn option_u32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
        Option::<serde_json::Number>::deserialize(deserializer)?
            .map(|n| fit::<D, u32>(number::<D>(n)?))
            .transpose()
    }
}

// What the domain's value types accept, for the document (`value_type = ...` on a field): a
// string the document allows is one the server accepts, and the other way round.

/// A string schema with a length range and a pattern.
fn text_schema(
    description: &str,
    lengths: (usize, usize),
    pattern: &str,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .description(Some(description))
        .min_length(Some(lengths.0))
        .max_length(Some(lengths.1))
        .pattern(Some(pattern))
        .into()
}

macro_rules! text_schema {
    ($(#[$doc:meta])* $name:ident, $description:literal, $lengths:expr, $pattern:literal) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                text_schema($description, $lengths, $pattern)
            }
        }

        impl ToSchema for $name {}
    };
}

text_schema!(
    /// A name, title or Deliverable Folder Name.
    SingleLineText,
    "1 to 200 characters on one line, no control or format characters (bidi overrides, zero-width spaces), not only spaces (surrounding spaces are trimmed).",
    (1, 200),
    r"^[^\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]*[^\s\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb][^\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]*$"
);

text_schema!(
    /// The text of a Note.
    NoteTextBody,
    "1 to 20,000 characters; lines and tabs allowed, no other control or format characters, not only spaces.",
    (1, 20_000),
    r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]*[^\s\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]*$"
);

text_schema!(
    /// The Most Recent Ad Lab Link.
    LinkBody,
    "An http(s) address without spaces or control characters, at most 2,000 characters.",
    (8, 2_000),
    r"^https?://[^\s\x00-\x1f\x7f-\x9f]+$"
);

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamBody {
    pub account_manager: Uuid,
    pub social_ad_specialist: Uuid,
    pub copywriter: Uuid,
    pub designer: Uuid,
    pub team_lead: Uuid,
}

impl From<TeamBody> for Team {
    fn from(body: TeamBody) -> Self {
        Team {
            account_manager: UserId::from_uuid(body.account_manager),
            social_ad_specialist: UserId::from_uuid(body.social_ad_specialist),
            copywriter: UserId::from_uuid(body.copywriter),
            designer: UserId::from_uuid(body.designer),
            team_lead: UserId::from_uuid(body.team_lead),
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CadenceUnitBody {
    Days,
    Weeks,
    Months,
}

impl From<CadenceUnitBody> for CadenceUnit {
    fn from(unit: CadenceUnitBody) -> Self {
        match unit {
            CadenceUnitBody::Days => CadenceUnit::Days,
            CadenceUnitBody::Weeks => CadenceUnit::Weeks,
            CadenceUnitBody::Months => CadenceUnit::Months,
        }
    }
}

/// Every `every` days, weeks or months (R1).
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CadenceBody {
    #[serde(deserialize_with = "whole::u16")]
    pub every: u16,
    pub unit: CadenceUnitBody,
}

/// The largest `every` of each unit, as `freshet_domain::Cadence::new` accepts them.
pub(crate) const CADENCE_MAX: [(CadenceUnitBody, &str, u16); 3] = [
    (CadenceUnitBody::Days, "days", 2_000),
    (CadenceUnitBody::Weeks, "weeks", 260),
    (CadenceUnitBody::Months, "months", 60),
];

impl utoipa::PartialSchema for CadenceBody {
    /// One shape per unit, so the document bounds `every` exactly as the domain does.
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            AdditionalProperties, ObjectBuilder, OneOfBuilder, SchemaType, Type,
        };
        let mut shapes = OneOfBuilder::new().description(Some(
            "Every `every` days (at most 2000), weeks (260) or months (60) (R1).",
        ));
        for (_, unit, max) in CADENCE_MAX {
            shapes = shapes.item(
                ObjectBuilder::new()
                    .property(
                        "every",
                        ObjectBuilder::new()
                            .schema_type(SchemaType::Type(Type::Integer))
                            .minimum(Some(1))
                            .maximum(Some(max)),
                    )
                    .property(
                        "unit",
                        ObjectBuilder::new()
                            .schema_type(SchemaType::Type(Type::String))
                            .enum_values(Some([unit])),
                    )
                    .required("every")
                    .required("unit")
                    .additional_properties(Some(AdditionalProperties::FreeForm(false))),
            );
        }
        shapes.into()
    }
}

impl ToSchema for CadenceBody {}

impl CadenceBody {
    pub fn parse(self) -> Result<Cadence, ApiError> {
        Ok(Cadence::new(self.every, self.unit.into())?)
    }
}

/// Dates before 2000 or after 2200 are typing mistakes, not schedules.
pub(crate) fn sane_date(date: NaiveDate, what: &str) -> Result<NaiveDate, ApiError> {
    let earliest = NaiveDate::from_ymd_opt(2000, 1, 1);
    let latest = NaiveDate::from_ymd_opt(2200, 12, 31);
    match (earliest, latest) {
        (Some(earliest), Some(latest)) if date >= earliest && date <= latest => Ok(date),
        _ => Err(ApiError::malformed(
            "invalid-value",
            format!("the {what} {date} is not a plausible date (2000-01-01 to 2200-12-31)"),
        )),
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePortfolioBody {
    /// Optional; derived from the idempotency key or generated when absent.
    pub portfolio_id: Option<Uuid>,
    #[schema(value_type = SingleLineText)]
    pub client: String,
    pub team: TeamBody,
    pub cadence: CadenceBody,
    /// The first Creative Refresh Date: 2000-01-01 to 2200-12-31.
    #[schema(pattern = r"^(2[01][0-9]{2}|2200)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    pub refresh_date: NaiveDate,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeTeamBody {
    pub team: TeamBody,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RescheduleBody {
    pub cadence: CadenceBody,
    /// 2000-01-01 to 2200-12-31.
    #[schema(pattern = r"^(2[01][0-9]{2}|2200)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    pub refresh_date: NaiveDate,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    #[schema(value_type = NoteTextBody)]
    pub text: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestRefreshBody {
    /// The client's requirements, unless logged as a Note before (R5).
    #[schema(value_type = Option<NoteTextBody>)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTicketBody {
    /// Optional; derived from the idempotency key or generated when absent.
    pub ticket_id: Option<Uuid>,
    #[schema(value_type = SingleLineText)]
    pub title: String,
    /// The Deliverable Folder Name of the Ad Set (R7).
    #[schema(value_type = SingleLineText)]
    pub folder: String,
    /// The Number of Deliverables In This Ad Set.
    #[schema(minimum = 1, maximum = 50)]
    #[serde(deserialize_with = "whole::u32")]
    pub deliverables: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloneTicketBody {
    pub ticket_id: Option<Uuid>,
    #[schema(value_type = SingleLineText)]
    pub title: String,
    /// When given, must equal the Ad Set's (R7).
    #[schema(value_type = Option<SingleLineText>)]
    pub folder: Option<String>,
    /// When given, must equal the Ad Set's Number of Deliverables (R7).
    #[schema(minimum = 1, maximum = 50)]
    #[serde(default, deserialize_with = "whole::option_u32")]
    pub deliverables: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditTicketBody {
    #[schema(value_type = Option<SingleLineText>)]
    pub title: Option<String>,
    #[schema(value_type = Option<SingleLineText>)]
    pub folder: Option<String>,
    #[schema(minimum = 1, maximum = 50)]
    #[serde(default, deserialize_with = "whole::option_u32")]
    pub deliverables: Option<u32>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResumeBody {
    /// The next Creative Refresh Date; when absent, the schedule's first date after today.
    /// 2000-01-01 to 2200-12-31.
    #[schema(pattern = r"^(2[01][0-9]{2}|2200)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    pub refresh_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    /// Why the client withdrew; kept as the AM's Note on the portfolio.
    #[schema(value_type = NoteTextBody)]
    pub reason: String,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliverableCountBody {
    /// The Number of Deliverables In This Ad Set, for every ticket of the set.
    #[schema(minimum = 1, maximum = 50)]
    #[serde(deserialize_with = "whole::u32")]
    pub deliverables: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendBackBody {
    /// What QA asks the author to change, kept as a Note on the ticket.
    #[schema(value_type = NoteTextBody)]
    pub note: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdLabLinkBody {
    #[schema(value_type = LinkBody)]
    pub link: String,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RevisionKindBody {
    Copy,
    Graphic,
    CopyAndGraphic,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevisionsBody {
    pub kind: RevisionKindBody,
    /// The client's feedback, kept as a Note on the ticket (R14).
    #[schema(value_type = NoteTextBody)]
    pub feedback: String,
}

fn revision_kind(kind: RevisionKindBody) -> RevisionKind {
    match kind {
        RevisionKindBody::Copy => RevisionKind::CopyOnly,
        RevisionKindBody::Graphic => RevisionKind::GraphicOnly,
        RevisionKindBody::CopyAndGraphic => RevisionKind::CopyAndGraphic,
    }
}

// ---- handlers ----------------------------------------------------------------------------

type Answer = Result<CommandResponse, ApiError>;

/// Create a portfolio (Admin).
#[utoipa::path(post, path = "/portfolios", tag = "commands",
    params(ConsistencyParams, CommandHeaderDocs), request_body = CreatePortfolioBody,
    responses((status = 201, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn create_portfolio(
    State(state): State<AppState>,
    caller: Caller,
    headers: CommandHeaders,
    ApiQuery(query): ApiQuery<ConsistencyParams>,
    ApiJson(body): ApiJson<CreatePortfolioBody>,
) -> Answer {
    let id = PortfolioId::from_uuid(new_id(body.portfolio_id, &caller, &headers, "portfolio"));
    let command = Command::CreatePortfolio {
        portfolio_id: id,
        client: ClientName::parse(&body.client)?,
        team: body.team.into(),
        cadence: body.cadence.parse()?,
        refresh_date: sane_date(body.refresh_date, "refresh date")?,
    };
    run(
        &state,
        &caller,
        id,
        command,
        headers,
        query.consistency,
        StatusCode::CREATED,
    )
    .await
}

macro_rules! portfolio_command {
    ($(#[$doc:meta])* $name:ident, $path:literal, $body:ty, |$b:ident| $make:expr) => {
        $(#[$doc])*
        #[utoipa::path(post, path = $path, tag = "commands",
            params(("id" = Uuid, Path, description = "the portfolio"), ConsistencyParams, CommandHeaderDocs),
            request_body = $body,
            responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
            security(("bearer" = [])))]
        pub async fn $name(
            State(state): State<AppState>,
            caller: Caller,
            ApiPath(id): ApiPath<Uuid>,
            headers: CommandHeaders,
            ApiQuery(query): ApiQuery<ConsistencyParams>,
            ApiJson($b): ApiJson<$body>,
        ) -> Answer {
            let command: Command = $make;
            run(&state, &caller, PortfolioId::from_uuid(id), command, headers, query.consistency, StatusCode::OK).await
        }
    };
}

macro_rules! bare_portfolio_command {
    ($(#[$doc:meta])* $name:ident, $path:literal, $command:expr) => {
        $(#[$doc])*
        #[utoipa::path(post, path = $path, tag = "commands",
            params(("id" = Uuid, Path, description = "the portfolio"), ConsistencyParams, CommandHeaderDocs),
            responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
            security(("bearer" = [])))]
        pub async fn $name(
            State(state): State<AppState>,
            caller: Caller,
            ApiPath(id): ApiPath<Uuid>,
            headers: CommandHeaders,
            ApiQuery(query): ApiQuery<ConsistencyParams>,
        ) -> Answer {
            run(&state, &caller, PortfolioId::from_uuid(id), $command, headers, query.consistency, StatusCode::OK).await
        }
    };
}

macro_rules! ticket_command {
    ($(#[$doc:meta])* $name:ident, $path:literal, |$t:ident| $make:expr) => {
        $(#[$doc])*
        #[utoipa::path(post, path = $path, tag = "commands",
            params(("id" = Uuid, Path, description = "the portfolio"),
                   ("ticket" = Uuid, Path, description = "the ticket"),
                   ConsistencyParams, CommandHeaderDocs),
            responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
            security(("bearer" = [])))]
        pub async fn $name(
            State(state): State<AppState>,
            caller: Caller,
            ApiPath((id, ticket)): ApiPath<(Uuid, Uuid)>,
            headers: CommandHeaders,
            ApiQuery(query): ApiQuery<ConsistencyParams>,
        ) -> Answer {
            let $t = TicketId::from_uuid(ticket);
            run(&state, &caller, PortfolioId::from_uuid(id), $make, headers, query.consistency, StatusCode::OK).await
        }
    };
}

macro_rules! ticket_body_command {
    ($(#[$doc:meta])* $method:ident $name:ident, $path:literal, $body:ty, |$t:ident, $b:ident, $caller:ident, $headers:ident| $make:expr) => {
        $(#[$doc])*
        #[utoipa::path($method, path = $path, tag = "commands",
            params(("id" = Uuid, Path, description = "the portfolio"),
                   ("ticket" = Uuid, Path, description = "the ticket"),
                   ConsistencyParams, CommandHeaderDocs),
            request_body = $body,
            responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
            security(("bearer" = [])))]
        pub async fn $name(
            State(state): State<AppState>,
            $caller: Caller,
            ApiPath((id, ticket)): ApiPath<(Uuid, Uuid)>,
            $headers: CommandHeaders,
            ApiQuery(query): ApiQuery<ConsistencyParams>,
            ApiJson($b): ApiJson<$body>,
        ) -> Answer {
            let $t = TicketId::from_uuid(ticket);
            let command: Command = $make;
            run(&state, &$caller, PortfolioId::from_uuid(id), command, $headers, query.consistency, StatusCode::OK).await
        }
    };
}

portfolio_command!(
    /// Change the portfolio's team (Admin).
    change_team, "/portfolios/{id}/team", ChangeTeamBody,
    |body| Command::ChangeTeam { team: body.team.into() }
);

portfolio_command!(
    /// Change the cadence and the Creative Refresh Date (Admin, R1).
    reschedule, "/portfolios/{id}/schedule", RescheduleBody,
    |body| Command::Reschedule {
        cadence: body.cadence.parse()?,
        refresh_date: sane_date(body.refresh_date, "refresh date")?,
    }
);

portfolio_command!(
    /// Log a Note on the portfolio (AM or SAS, R5).
    log_portfolio_note, "/portfolios/{id}/notes", NoteBody,
    |body| Command::LogPortfolioNote { text: NoteText::parse(&body.text)? }
);

bare_portfolio_command!(
    /// The client declines the refresh (AM, R4).
    decline, "/portfolios/{id}/decline", Command::DeclineRefresh
);

/// The client wants a refresh (AM, R5). The body is optional.
#[utoipa::path(post, path = "/portfolios/{id}/request", tag = "commands",
    params(("id" = Uuid, Path, description = "the portfolio"), ConsistencyParams, CommandHeaderDocs),
    request_body(content = Option<RequestRefreshBody>),
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn request_refresh(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    headers: CommandHeaders,
    ApiQuery(query): ApiQuery<ConsistencyParams>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Answer {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::malformed("invalid-body", rejection.body_text())
        }
    })?;
    // No body, or `null` (the document's `oneOf: [null, RequestRefreshBody]`): no Note.
    let body: RequestRefreshBody = if body.iter().all(u8::is_ascii_whitespace) {
        RequestRefreshBody::default()
    } else {
        serde_json::from_slice::<Option<RequestRefreshBody>>(&body)
            .map_err(|error| ApiError::malformed("invalid-body", error.to_string()))?
            .unwrap_or_default()
    };
    let note = body.note.as_deref().map(NoteText::parse).transpose()?;
    let command = Command::RequestRefresh { note };
    run(
        &state,
        &caller,
        PortfolioId::from_uuid(id),
        command,
        headers,
        query.consistency,
        StatusCode::OK,
    )
    .await
}

/// Create the first ticket of the Ad Set (SAS, R7, R8).
#[utoipa::path(post, path = "/portfolios/{id}/tickets", tag = "commands",
    params(("id" = Uuid, Path, description = "the portfolio"), ConsistencyParams, CommandHeaderDocs),
    request_body = CreateTicketBody,
    responses((status = 201, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn create_ticket(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    headers: CommandHeaders,
    ApiQuery(query): ApiQuery<ConsistencyParams>,
    ApiJson(body): ApiJson<CreateTicketBody>,
) -> Answer {
    let ticket_id = TicketId::from_uuid(new_id(body.ticket_id, &caller, &headers, "ticket"));
    let command = Command::CreateTicket {
        ticket_id,
        title: TicketTitle::parse(&body.title)?,
        folder: FolderName::parse(&body.folder)?,
        deliverables: DeliverableCount::try_from(body.deliverables)?,
    };
    run(
        &state,
        &caller,
        PortfolioId::from_uuid(id),
        command,
        headers,
        query.consistency,
        StatusCode::CREATED,
    )
    .await
}

ticket_body_command!(
    /// Clone a ticket of the Ad Set (SAS, R7).
    post clone_ticket, "/portfolios/{id}/tickets/{ticket}/clone", CloneTicketBody,
    |source, body, caller, headers| Command::CloneTicket {
        ticket_id: TicketId::from_uuid(new_id(body.ticket_id, &caller, &headers, "ticket")),
        source,
        title: TicketTitle::parse(&body.title)?,
        folder: body.folder.as_deref().map(FolderName::parse).transpose()?,
        deliverables: body.deliverables.map(DeliverableCount::try_from).transpose()?,
    }
);

ticket_body_command!(
    /// Edit a ticket (SAS). The folder name never changes (R7).
    patch edit_ticket, "/portfolios/{id}/tickets/{ticket}", EditTicketBody,
    |ticket_id, body, caller, headers| Command::EditTicket {
        ticket_id,
        title: body.title.as_deref().map(TicketTitle::parse).transpose()?,
        folder: body.folder.as_deref().map(FolderName::parse).transpose()?,
        deliverables: body.deliverables.map(DeliverableCount::try_from).transpose()?,
    }
);

ticket_body_command!(
    /// Log a Note (a question, an answer) on a ticket (anyone on the team, R21).
    post log_ticket_note, "/portfolios/{id}/tickets/{ticket}/notes", NoteBody,
    |ticket_id, body, caller, headers| Command::LogTicketNote {
        ticket_id,
        text: NoteText::parse(&body.text)?,
    }
);

ticket_body_command!(
    /// The client asks for changes on a ticket (AM, R14); on a Completed Deliverable before
    /// sign-off, this reopens it.
    post request_revisions, "/portfolios/{id}/tickets/{ticket}/revisions", RevisionsBody,
    |ticket_id, body, caller, headers| Command::RequestRevisions {
        ticket_id,
        kind: revision_kind(body.kind),
        feedback: NoteText::parse(&body.feedback)?,
    }
);

bare_portfolio_command!(
    /// All tickets are created (SAS, R9).
    deliverables_submitted, "/portfolios/{id}/deliverables-submitted",
    Command::MarkDeliverablesSubmitted
);

ticket_command!(
    /// Submit copy on a ticket (Copywriter, R10).
    submit_copy, "/portfolios/{id}/tickets/{ticket}/copy",
    |ticket_id| Command::SubmitCopy { ticket_id }
);

ticket_command!(
    /// Submit graphics on a ticket (Designer, R10).
    submit_graphics, "/portfolios/{id}/tickets/{ticket}/graphics",
    |ticket_id| Command::SubmitGraphics { ticket_id }
);

ticket_command!(
    /// Approve a ticket's copy (Team Lead, R10).
    approve_copy, "/portfolios/{id}/tickets/{ticket}/copy/approval",
    |ticket_id| Command::ApproveCopy { ticket_id }
);

ticket_command!(
    /// Approve a ticket's graphics (Team Lead, R10).
    approve_graphics, "/portfolios/{id}/tickets/{ticket}/graphics/approval",
    |ticket_id| Command::ApproveGraphics { ticket_id }
);

ticket_command!(
    /// The client approved this deliverable (AM), or the SAS completes it (R13, R20).
    complete_deliverable, "/portfolios/{id}/tickets/{ticket}/complete",
    |ticket_id| Command::CompleteDeliverable { ticket_id }
);

portfolio_command!(
    /// Update the Most Recent Ad Lab Link (Designer, R12).
    update_ad_lab_link, "/portfolios/{id}/ad-lab-link", AdLabLinkBody,
    |body| Command::UpdateAdLabLink { link: AdLabLink::parse(&body.link)? }
);

bare_portfolio_command!(
    /// The client approved the creatives (AM, R17).
    sign_off, "/portfolios/{id}/sign-off", Command::SignOff
);

bare_portfolio_command!(
    /// The creatives are live in Meta (SAS, R18).
    implemented, "/portfolios/{id}/implemented", Command::MarkCreativesImplemented
);

bare_portfolio_command!(
    /// Put the client on hold (Admin): no kickoff, handoff or alert until resumed. A cycle
    /// with tickets must be cancelled first.
    pause, "/portfolios/{id}/pause", Command::PausePortfolio
);

portfolio_command!(
    /// Resume a paused portfolio (Admin), on a given date or the schedule's next one.
    resume, "/portfolios/{id}/resume", ResumeBody,
    |body| Command::ResumePortfolio {
        refresh_date: body.refresh_date.map(|date| sane_date(date, "refresh date")).transpose()?,
    }
);

bare_portfolio_command!(
    /// The client left (Admin): open tasks close, nothing is scheduled any more.
    end_portfolio, "/portfolios/{id}/end", Command::EndPortfolio
);

portfolio_command!(
    /// The client withdrew after the tickets were created (AM): the cycle's tickets and
    /// tasks close, the SAS and the Creative Team are told, the date moves by the cadence.
    cancel_cycle, "/portfolios/{id}/cancel", CancelBody,
    |body| Command::CancelCycle { reason: NoteText::parse(&body.reason)? }
);

portfolio_command!(
    /// Correct the Ad Set's Number of Deliverables on every ticket (SAS or AM, before
    /// sign-off); never below the tickets that exist.
    correct_deliverable_count, "/portfolios/{id}/deliverable-count", DeliverableCountBody,
    |body| Command::CorrectDeliverableCount {
        deliverables: DeliverableCount::try_from(body.deliverables)?,
    }
);

ticket_command!(
    /// Withdraw a ticket from the Ad Set (SAS or AM, before sign-off). Its tasks close; the
    /// Number of Deliverables stays.
    withdraw_ticket, "/portfolios/{id}/tickets/{ticket}/withdraw",
    |ticket_id| Command::WithdrawTicket { ticket_id }
);

ticket_body_command!(
    /// QA sends the copy back to the Copywriter with a Note (Team Lead).
    post send_back_copy, "/portfolios/{id}/tickets/{ticket}/copy/send-back", SendBackBody,
    |ticket_id, body, caller, headers| Command::SendBackCopy {
        ticket_id,
        note: NoteText::parse(&body.note)?,
    }
);

ticket_body_command!(
    /// QA sends the graphics back to the Designer with a Note (Team Lead).
    post send_back_graphics, "/portfolios/{id}/tickets/{ticket}/graphics/send-back", SendBackBody,
    |ticket_id, body, caller, headers| Command::SendBackGraphics {
        ticket_id,
        note: NoteText::parse(&body.note)?,
    }
);

bare_portfolio_command!(
    /// Run the portfolio's date triggers due today (Admin; the scheduler does this itself).
    tick, "/portfolios/{id}/tick", Command::Tick
);

/// Complete one of my tasks.
#[utoipa::path(post, path = "/portfolios/{id}/tasks/{task}/complete", tag = "commands",
    params(("id" = Uuid, Path, description = "the portfolio"),
           ("task" = Uuid, Path, description = "the task"),
           ConsistencyParams, CommandHeaderDocs),
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn complete_task(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, task)): ApiPath<(Uuid, Uuid)>,
    headers: CommandHeaders,
    ApiQuery(query): ApiQuery<ConsistencyParams>,
) -> Answer {
    let command = Command::CompleteTask {
        task_id: TaskId::from_uuid(task),
    };
    run(
        &state,
        &caller,
        PortfolioId::from_uuid(id),
        command,
        headers,
        query.consistency,
        StatusCode::OK,
    )
    .await
}
