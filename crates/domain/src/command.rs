//! Commands: what a person (or the scheduler) asks for, in the imperative. Values arrive
//! parsed; the context brings who is asking and what day it is.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::cadence::Cadence;
use crate::ids::{PortfolioId, TaskId, TicketId};
use crate::status::RevisionKind;
use crate::team::{Actor, Team};
use crate::values::{AdLabLink, ClientName, DeliverableCount, FolderName, NoteText, TicketTitle};
use crate::work::Deadlines;

/// Everything a decision needs besides the state and the command. The domain never reads a
/// clock: `today` is the calendar date in the agency's time zone (R3), computed by the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Context {
    pub actor: Actor,
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
    pub deadlines: Deadlines,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    // Admin: set up the portfolio.
    CreatePortfolio {
        portfolio_id: PortfolioId,
        client: ClientName,
        team: Team,
        cadence: Cadence,
        refresh_date: NaiveDate,
    },
    ChangeTeam {
        team: Team,
    },
    /// A new cadence applies when the current cycle closes; a new date only before the
    /// cycle's work has started.
    Reschedule {
        cadence: Cadence,
        refresh_date: NaiveDate,
    },
    /// The client is on hold.
    PausePortfolio,
    /// Back from hold: on the given date, or the schedule's first date after today.
    ResumePortfolio {
        refresh_date: Option<NaiveDate>,
    },
    /// The client left.
    EndPortfolio,
    // The scheduler: run every date trigger due today.
    Tick,
    // AM (and SAS for notes).
    LogPortfolioNote {
        text: NoteText,
    },
    DeclineRefresh,
    RequestRefresh {
        /// The client's requirements; may instead have been logged as a Note before.
        note: Option<NoteText>,
    },
    // SAS: tickets.
    CreateTicket {
        ticket_id: TicketId,
        title: TicketTitle,
        folder: FolderName,
        deliverables: DeliverableCount,
    },
    CloneTicket {
        ticket_id: TicketId,
        source: TicketId,
        title: TicketTitle,
        /// When given, must equal the Ad Set's: the folder name is carried, never changed.
        folder: Option<FolderName>,
        /// When given, must equal the Ad Set's Number of Deliverables.
        deliverables: Option<DeliverableCount>,
    },
    EditTicket {
        ticket_id: TicketId,
        title: Option<TicketTitle>,
        folder: Option<FolderName>,
        deliverables: Option<DeliverableCount>,
    },
    MarkDeliverablesSubmitted,
    /// SAS or AM, before sign-off: take a ticket out of the Ad Set.
    WithdrawTicket {
        ticket_id: TicketId,
    },
    /// SAS or AM, before sign-off: one set-wide Number of Deliverables.
    CorrectDeliverableCount {
        deliverables: DeliverableCount,
    },
    // Creative Team.
    SubmitCopy {
        ticket_id: TicketId,
    },
    SubmitGraphics {
        ticket_id: TicketId,
    },
    ApproveCopy {
        ticket_id: TicketId,
    },
    ApproveGraphics {
        ticket_id: TicketId,
    },
    /// Team Lead: QA sends the part back to its author with a Note.
    SendBackCopy {
        ticket_id: TicketId,
        note: NoteText,
    },
    SendBackGraphics {
        ticket_id: TicketId,
        note: NoteText,
    },
    UpdateAdLabLink {
        link: AdLabLink,
    },
    LogTicketNote {
        ticket_id: TicketId,
        text: NoteText,
    },
    // AM: the client's answer.
    RequestRevisions {
        ticket_id: TicketId,
        kind: RevisionKind,
        feedback: NoteText,
    },
    CompleteDeliverable {
        ticket_id: TicketId,
    },
    SignOff,
    /// The client withdrew after the tickets were created.
    CancelCycle {
        reason: NoteText,
    },
    // SAS: close.
    MarkCreativesImplemented,
    // Anyone, on their own task.
    CompleteTask {
        task_id: TaskId,
    },
}

impl Command {
    /// A short description, used in refusals ("only the Account Manager may sign off").
    pub fn action(&self) -> &'static str {
        match self {
            Command::CreatePortfolio { .. } => "create a portfolio",
            Command::ChangeTeam { .. } => "change the team",
            Command::Reschedule { .. } => "reschedule the refresh",
            Command::PausePortfolio => "pause the portfolio",
            Command::ResumePortfolio { .. } => "resume the portfolio",
            Command::EndPortfolio => "end the portfolio",
            Command::WithdrawTicket { .. } => "withdraw a ticket",
            Command::CorrectDeliverableCount { .. } => "correct the Number of Deliverables",
            Command::SendBackCopy { .. } => "send copy back",
            Command::SendBackGraphics { .. } => "send graphics back",
            Command::CancelCycle { .. } => "cancel the cycle",
            Command::Tick => "run the date triggers",
            Command::LogPortfolioNote { .. } => "log a note on the portfolio",
            Command::DeclineRefresh => "decline the refresh",
            Command::RequestRefresh { .. } => "submit the refresh request",
            Command::CreateTicket { .. } => "create a ticket",
            Command::CloneTicket { .. } => "clone a ticket",
            Command::EditTicket { .. } => "edit a ticket",
            Command::MarkDeliverablesSubmitted => "mark the deliverables submitted",
            Command::SubmitCopy { .. } => "submit copy",
            Command::SubmitGraphics { .. } => "submit graphics",
            Command::ApproveCopy { .. } => "approve copy",
            Command::ApproveGraphics { .. } => "approve graphics",
            Command::UpdateAdLabLink { .. } => "update the Ad Lab link",
            Command::LogTicketNote { .. } => "log a note on a ticket",
            Command::RequestRevisions { .. } => "request revisions",
            Command::CompleteDeliverable { .. } => "complete a deliverable",
            Command::SignOff => "sign off the creatives",
            Command::MarkCreativesImplemented => "mark the creatives implemented",
            Command::CompleteTask { .. } => "complete a task",
        }
    }
}
