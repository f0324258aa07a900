//! Commands on a portfolio as a whole: its creation, team and schedule, the AM's decision,
//! the cycle's milestones, pausing, resuming, ending, and the scheduler's tick. Each maps
//! to one `freshet_domain::Command` and runs as the caller ([`CommandCall`]).

use axum::http::StatusCode;
use chrono::NaiveDate;
use freshet_domain::{AdLabLink, ClientName, Command, DeliverableCount, NoteText, PortfolioId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::routes::command::{Answer, CommandCall, CommandResult};
use crate::routes::extract::{ApiJson, CommandHeaderDocs, ConsistencyParams, PortfolioPathDocs};
use crate::routes::values::{
    CadenceBody, LinkBody, NoteBody, NoteTextBody, SingleLineText, TeamBody, sane_date, whole,
};

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

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestRefreshBody {
    /// The client's requirements, unless logged as a Note before (R5).
    #[schema(value_type = Option<NoteTextBody>)]
    pub note: Option<String>,
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
pub struct AdLabLinkBody {
    #[schema(value_type = LinkBody)]
    pub link: String,
}

/// Create a portfolio (Admin).
#[utoipa::path(post, path = "/portfolios", tag = "commands",
    params(ConsistencyParams, CommandHeaderDocs), request_body = CreatePortfolioBody,
    responses((status = 201, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn create_portfolio(
    call: CommandCall<()>,
    ApiJson(body): ApiJson<CreatePortfolioBody>,
) -> Answer {
    let id = PortfolioId::from_uuid(call.new_id(body.portfolio_id, "portfolio"));
    let command = Command::CreatePortfolio {
        portfolio_id: id,
        client: ClientName::parse(&body.client)?,
        team: body.team.into(),
        cadence: body.cadence.parse()?,
        refresh_date: sane_date(body.refresh_date, "refresh date")?,
    };
    call.execute(id, command, StatusCode::CREATED).await
}

/// Change the portfolio's team (Admin).
#[utoipa::path(post, path = "/portfolios/{id}/team", tag = "commands",
    params(PortfolioPathDocs, ConsistencyParams, CommandHeaderDocs),
    request_body = ChangeTeamBody,
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn change_team(
    call: CommandCall<PortfolioId>,
    ApiJson(body): ApiJson<ChangeTeamBody>,
) -> Answer {
    call.run(Command::ChangeTeam {
        team: body.team.into(),
    })
    .await
}

/// Change the cadence and the Creative Refresh Date (Admin, R1).
#[utoipa::path(post, path = "/portfolios/{id}/schedule", tag = "commands",
    params(PortfolioPathDocs, ConsistencyParams, CommandHeaderDocs),
    request_body = RescheduleBody,
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn reschedule(
    call: CommandCall<PortfolioId>,
    ApiJson(body): ApiJson<RescheduleBody>,
) -> Answer {
    call.run(Command::Reschedule {
        cadence: body.cadence.parse()?,
        refresh_date: sane_date(body.refresh_date, "refresh date")?,
    })
    .await
}

/// Log a Note on the portfolio (AM or SAS, R5).
#[utoipa::path(post, path = "/portfolios/{id}/notes", tag = "commands",
    params(PortfolioPathDocs, ConsistencyParams, CommandHeaderDocs),
    request_body = NoteBody,
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn log_portfolio_note(
    call: CommandCall<PortfolioId>,
    ApiJson(body): ApiJson<NoteBody>,
) -> Answer {
    call.run(Command::LogPortfolioNote {
        text: NoteText::parse(&body.text)?,
    })
    .await
}

/// The client declines the refresh (AM, R4).
#[utoipa::path(post, path = "/portfolios/{id}/decline", tag = "commands",
    params(PortfolioPathDocs, ConsistencyParams, CommandHeaderDocs),
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn decline(call: CommandCall<PortfolioId>) -> Answer {
    call.run(Command::DeclineRefresh).await
}

/// The client wants a refresh (AM, R5). The body is optional.
#[utoipa::path(post, path = "/portfolios/{id}/request", tag = "commands",
    params(PortfolioPathDocs, ConsistencyParams, CommandHeaderDocs),
    request_body(content = Option<RequestRefreshBody>),
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn request_refresh(
    call: CommandCall<PortfolioId>,
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
    call.run(Command::RequestRefresh { note }).await
}

/// All tickets are created (SAS, R9).
#[utoipa::path(post, path = "/portfolios/{id}/deliverables-submitted", tag = "commands",
    params(PortfolioPathDocs, ConsistencyParams, CommandHeaderDocs),
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn deliverables_submitted(call: CommandCall<PortfolioId>) -> Answer {
    call.run(Command::MarkDeliverablesSubmitted).await
}

/// Update the Most Recent Ad Lab Link (Designer, R12).
#[utoipa::path(post, path = "/portfolios/{id}/ad-lab-link", tag = "commands",
    params(PortfolioPathDocs, ConsistencyParams, CommandHeaderDocs),
    request_body = AdLabLinkBody,
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn update_ad_lab_link(
    call: CommandCall<PortfolioId>,
    ApiJson(body): ApiJson<AdLabLinkBody>,
) -> Answer {
    call.run(Command::UpdateAdLabLink {
        link: AdLabLink::parse(&body.link)?,
    })
    .await
}

/// The client approved the creatives (AM, R17).
#[utoipa::path(post, path = "/portfolios/{id}/sign-off", tag = "commands",
    params(PortfolioPathDocs, ConsistencyParams, CommandHeaderDocs),
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn sign_off(call: CommandCall<PortfolioId>) -> Answer {
    call.run(Command::SignOff).await
}

/// The creatives are live in Meta (SAS, R18).
#[utoipa::path(post, path = "/portfolios/{id}/implemented", tag = "commands",
    params(PortfolioPathDocs, ConsistencyParams, CommandHeaderDocs),
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn implemented(call: CommandCall<PortfolioId>) -> Answer {
    call.run(Command::MarkCreativesImplemented).await
}

/// Put the client on hold (Admin): no kickoff, handoff or alert until resumed. A cycle
/// with tickets must be cancelled first.
#[utoipa::path(post, path = "/portfolios/{id}/pause", tag = "commands",
    params(PortfolioPathDocs, ConsistencyParams, CommandHeaderDocs),
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn pause(call: CommandCall<PortfolioId>) -> Answer {
    call.run(Command::PausePortfolio).await
}

/// Resume a paused portfolio (Admin), on a given date or the schedule's next one.
#[utoipa::path(post, path = "/portfolios/{id}/resume", tag = "commands",
    params(PortfolioPathDocs, ConsistencyParams, CommandHeaderDocs),
    request_body = ResumeBody,
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn resume(call: CommandCall<PortfolioId>, ApiJson(body): ApiJson<ResumeBody>) -> Answer {
    let refresh_date = body
        .refresh_date
        .map(|date| sane_date(date, "refresh date"))
        .transpose()?;
    call.run(Command::ResumePortfolio { refresh_date }).await
}

/// The client left (Admin): open tasks close, nothing is scheduled any more.
#[utoipa::path(post, path = "/portfolios/{id}/end", tag = "commands",
    params(PortfolioPathDocs, ConsistencyParams, CommandHeaderDocs),
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn end_portfolio(call: CommandCall<PortfolioId>) -> Answer {
    call.run(Command::EndPortfolio).await
}

/// The client withdrew after the tickets were created (AM): the cycle's tickets and
/// tasks close, the SAS and the Creative Team are told, the date moves by the cadence.
#[utoipa::path(post, path = "/portfolios/{id}/cancel", tag = "commands",
    params(PortfolioPathDocs, ConsistencyParams, CommandHeaderDocs),
    request_body = CancelBody,
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn cancel_cycle(
    call: CommandCall<PortfolioId>,
    ApiJson(body): ApiJson<CancelBody>,
) -> Answer {
    call.run(Command::CancelCycle {
        reason: NoteText::parse(&body.reason)?,
    })
    .await
}

/// Correct the Ad Set's Number of Deliverables on every ticket (SAS or AM, before
/// sign-off); never below the tickets that exist.
#[utoipa::path(post, path = "/portfolios/{id}/deliverable-count", tag = "commands",
    params(PortfolioPathDocs, ConsistencyParams, CommandHeaderDocs),
    request_body = DeliverableCountBody,
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn correct_deliverable_count(
    call: CommandCall<PortfolioId>,
    ApiJson(body): ApiJson<DeliverableCountBody>,
) -> Answer {
    call.run(Command::CorrectDeliverableCount {
        deliverables: DeliverableCount::try_from(body.deliverables)?,
    })
    .await
}

/// Run the portfolio's date triggers due today (Admin; the scheduler does this itself).
#[utoipa::path(post, path = "/portfolios/{id}/tick", tag = "commands",
    params(PortfolioPathDocs, ConsistencyParams, CommandHeaderDocs),
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn tick(call: CommandCall<PortfolioId>) -> Answer {
    call.run(Command::Tick).await
}
