//! Commands on the tickets of the Ad Set: creating, cloning and editing them, the creative
//! work and its QA, the client's answers, Notes and withdrawal. Each maps to one
//! `freshet_domain::Command` and runs as the caller ([`CommandCall`]).

use axum::http::StatusCode;
use freshet_domain::{
    Command, DeliverableCount, FolderName, NoteText, PortfolioId, RevisionKind, TicketId,
    TicketTitle,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::command::{Answer, CommandCall, CommandResult};
use super::extract::{
    ApiJson, CommandHeaderDocs, ConsistencyParams, PortfolioPathDocs, TicketPathDocs,
};
use super::values::{NoteBody, NoteTextBody, SingleLineText, whole};
use crate::error::Problem;

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

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendBackBody {
    /// What QA asks the author to change, kept as a Note on the ticket.
    #[schema(value_type = NoteTextBody)]
    pub note: String,
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

/// Create the first ticket of the Ad Set (SAS, R7, R8).
#[utoipa::path(post, path = "/portfolios/{id}/tickets", tag = "commands",
    params(PortfolioPathDocs, ConsistencyParams, CommandHeaderDocs),
    request_body = CreateTicketBody,
    responses((status = 201, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn create_ticket(
    call: CommandCall<PortfolioId>,
    ApiJson(body): ApiJson<CreateTicketBody>,
) -> Answer {
    let ticket_id = TicketId::from_uuid(call.new_id(body.ticket_id, "ticket"));
    let command = Command::CreateTicket {
        ticket_id,
        title: TicketTitle::parse(&body.title)?,
        folder: FolderName::parse(&body.folder)?,
        deliverables: DeliverableCount::try_from(body.deliverables)?,
    };
    let portfolio = call.path;
    call.execute(portfolio, command, StatusCode::CREATED).await
}

/// Clone a ticket of the Ad Set (SAS, R7).
#[utoipa::path(post, path = "/portfolios/{id}/tickets/{ticket}/clone", tag = "commands",
    params(TicketPathDocs,
           ConsistencyParams, CommandHeaderDocs),
    request_body = CloneTicketBody,
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn clone_ticket(
    call: CommandCall<(PortfolioId, Uuid)>,
    ApiJson(body): ApiJson<CloneTicketBody>,
) -> Answer {
    let command = Command::CloneTicket {
        ticket_id: TicketId::from_uuid(call.new_id(body.ticket_id, "ticket")),
        source: call.ticket(),
        title: TicketTitle::parse(&body.title)?,
        folder: body.folder.as_deref().map(FolderName::parse).transpose()?,
        deliverables: body
            .deliverables
            .map(DeliverableCount::try_from)
            .transpose()?,
    };
    call.run(command).await
}

/// Edit a ticket (SAS). The folder name never changes (R7).
#[utoipa::path(patch, path = "/portfolios/{id}/tickets/{ticket}", tag = "commands",
    params(TicketPathDocs,
           ConsistencyParams, CommandHeaderDocs),
    request_body = EditTicketBody,
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn edit_ticket(
    call: CommandCall<(PortfolioId, Uuid)>,
    ApiJson(body): ApiJson<EditTicketBody>,
) -> Answer {
    let command = Command::EditTicket {
        ticket_id: call.ticket(),
        title: body.title.as_deref().map(TicketTitle::parse).transpose()?,
        folder: body.folder.as_deref().map(FolderName::parse).transpose()?,
        deliverables: body
            .deliverables
            .map(DeliverableCount::try_from)
            .transpose()?,
    };
    call.run(command).await
}

/// Log a Note (a question, an answer) on a ticket (anyone on the team, R21).
#[utoipa::path(post, path = "/portfolios/{id}/tickets/{ticket}/notes", tag = "commands",
    params(TicketPathDocs,
           ConsistencyParams, CommandHeaderDocs),
    request_body = NoteBody,
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn log_ticket_note(
    call: CommandCall<(PortfolioId, Uuid)>,
    ApiJson(body): ApiJson<NoteBody>,
) -> Answer {
    let command = Command::LogTicketNote {
        ticket_id: call.ticket(),
        text: NoteText::parse(&body.text)?,
    };
    call.run(command).await
}

/// The client asks for changes on a ticket (AM, R14); on a Completed Deliverable before
/// sign-off, this reopens it.
#[utoipa::path(post, path = "/portfolios/{id}/tickets/{ticket}/revisions", tag = "commands",
    params(TicketPathDocs,
           ConsistencyParams, CommandHeaderDocs),
    request_body = RevisionsBody,
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn request_revisions(
    call: CommandCall<(PortfolioId, Uuid)>,
    ApiJson(body): ApiJson<RevisionsBody>,
) -> Answer {
    let command = Command::RequestRevisions {
        ticket_id: call.ticket(),
        kind: revision_kind(body.kind),
        feedback: NoteText::parse(&body.feedback)?,
    };
    call.run(command).await
}

/// Submit copy on a ticket (Copywriter, R10).
#[utoipa::path(post, path = "/portfolios/{id}/tickets/{ticket}/copy", tag = "commands",
    params(TicketPathDocs,
           ConsistencyParams, CommandHeaderDocs),
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn submit_copy(call: CommandCall<(PortfolioId, Uuid)>) -> Answer {
    let ticket_id = call.ticket();
    call.run(Command::SubmitCopy { ticket_id }).await
}

/// Submit graphics on a ticket (Designer, R10).
#[utoipa::path(post, path = "/portfolios/{id}/tickets/{ticket}/graphics", tag = "commands",
    params(TicketPathDocs,
           ConsistencyParams, CommandHeaderDocs),
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn submit_graphics(call: CommandCall<(PortfolioId, Uuid)>) -> Answer {
    let ticket_id = call.ticket();
    call.run(Command::SubmitGraphics { ticket_id }).await
}

/// Approve a ticket's copy (Team Lead, R10).
#[utoipa::path(post, path = "/portfolios/{id}/tickets/{ticket}/copy/approval", tag = "commands",
    params(TicketPathDocs,
           ConsistencyParams, CommandHeaderDocs),
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn approve_copy(call: CommandCall<(PortfolioId, Uuid)>) -> Answer {
    let ticket_id = call.ticket();
    call.run(Command::ApproveCopy { ticket_id }).await
}

/// Approve a ticket's graphics (Team Lead, R10).
#[utoipa::path(post, path = "/portfolios/{id}/tickets/{ticket}/graphics/approval", tag = "commands",
    params(TicketPathDocs,
           ConsistencyParams, CommandHeaderDocs),
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn approve_graphics(call: CommandCall<(PortfolioId, Uuid)>) -> Answer {
    let ticket_id = call.ticket();
    call.run(Command::ApproveGraphics { ticket_id }).await
}

/// The client approved this deliverable (AM), or the SAS completes it (R13, R20).
#[utoipa::path(post, path = "/portfolios/{id}/tickets/{ticket}/complete", tag = "commands",
    params(TicketPathDocs,
           ConsistencyParams, CommandHeaderDocs),
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn complete_deliverable(call: CommandCall<(PortfolioId, Uuid)>) -> Answer {
    let ticket_id = call.ticket();
    call.run(Command::CompleteDeliverable { ticket_id }).await
}

/// Withdraw a ticket from the Ad Set (SAS or AM, before sign-off). Its tasks close; the
/// Number of Deliverables stays.
#[utoipa::path(post, path = "/portfolios/{id}/tickets/{ticket}/withdraw", tag = "commands",
    params(TicketPathDocs,
           ConsistencyParams, CommandHeaderDocs),
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn withdraw_ticket(call: CommandCall<(PortfolioId, Uuid)>) -> Answer {
    let ticket_id = call.ticket();
    call.run(Command::WithdrawTicket { ticket_id }).await
}

/// QA sends the copy back to the Copywriter with a Note (Team Lead).
#[utoipa::path(post, path = "/portfolios/{id}/tickets/{ticket}/copy/send-back", tag = "commands",
    params(TicketPathDocs,
           ConsistencyParams, CommandHeaderDocs),
    request_body = SendBackBody,
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn send_back_copy(
    call: CommandCall<(PortfolioId, Uuid)>,
    ApiJson(body): ApiJson<SendBackBody>,
) -> Answer {
    let command = Command::SendBackCopy {
        ticket_id: call.ticket(),
        note: NoteText::parse(&body.note)?,
    };
    call.run(command).await
}

/// QA sends the graphics back to the Designer with a Note (Team Lead).
#[utoipa::path(post, path = "/portfolios/{id}/tickets/{ticket}/graphics/send-back", tag = "commands",
    params(TicketPathDocs,
           ConsistencyParams, CommandHeaderDocs),
    request_body = SendBackBody,
    responses((status = 200, body = CommandResult), (status = "4XX", body = Problem)),
    security(("bearer" = [])))]
pub async fn send_back_graphics(
    call: CommandCall<(PortfolioId, Uuid)>,
    ApiJson(body): ApiJson<SendBackBody>,
) -> Answer {
    let command = Command::SendBackGraphics {
        ticket_id: call.ticket(),
        note: NoteText::parse(&body.note)?,
    };
    call.run(command).await
}
