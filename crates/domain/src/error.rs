//! What a person can do wrong, as typed refusals. Each says what to do instead.

use thiserror::Error;

use crate::ids::{TaskId, TicketId};
use crate::status::{Approval, RefreshStatus, TicketStatus};
use crate::team::Role;

/// A value that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum InvalidValue {
    #[error("the {what} is empty")]
    Empty { what: &'static str },
    #[error("the {what} is longer than {max_chars} characters")]
    TooLong {
        what: &'static str,
        max_chars: usize,
    },
    #[error("the {what} contains control characters")]
    ControlCharacter { what: &'static str },
    #[error("the {what} must be a single line")]
    MultiLine { what: &'static str },
    #[error("the Ad Lab link must be an http:// or https:// address without spaces")]
    NotALink,
    #[error("the Number of Deliverables must be between 1 and {max}, not {count}")]
    DeliverableCount { count: u32, max: u32 },
    #[error("a cadence must be every 1 to {max} units, not {every}")]
    Cadence { every: u16, max: u16 },
}

/// A command the process refuses. Nothing is recorded when a command is refused.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DomainError {
    #[error("no such portfolio")]
    PortfolioNotFound,
    #[error("this portfolio already exists")]
    PortfolioAlreadyExists,
    #[error("only {allowed} may {action}")]
    NotPermitted {
        action: &'static str,
        allowed: String,
    },
    #[error("you are not on this portfolio's team")]
    NotOnTeam,
    #[error("cannot {action} while the Creative Refresh Status is {}", status_label(*.status))]
    WrongStatus {
        action: &'static str,
        status: Option<RefreshStatus>,
    },
    #[error("the refresh date must not be in the past")]
    RefreshDateInPast,
    #[error("deliverable tickets already exist for this cycle")]
    TicketsAlreadyCreated,
    #[error(
        "log the client's requirements as a Note on the portfolio before submitting the request"
    )]
    NoteRequired,
    #[error("the Ad Set already has its first ticket: clone it instead")]
    AdSetAlreadyStarted,
    #[error("create the first ticket of the Ad Set before cloning it")]
    AdSetNotStarted,
    #[error("no ticket {0} on this portfolio")]
    TicketNotFound(TicketId),
    #[error("ticket {0} already exists")]
    TicketAlreadyExists(TicketId),
    #[error(
        "the Deliverable Folder Name is \"{current}\" and can never be changed (asked: \"{requested}\")"
    )]
    FolderNameImmutable { current: String, requested: String },
    #[error(
        "every ticket of this Ad Set has Number of Deliverables {current}, not {requested}; correct the Ad Set's Number of Deliverables to change it"
    )]
    DeliverableCountMismatch { current: u32, requested: u32 },
    #[error("the Ad Set already has all {count} of its tickets")]
    TooManyTickets { count: u32 },
    #[error("the Ad Set has {created} of its {count} tickets; create the rest first")]
    AdSetIncomplete { created: u32, count: u32 },
    #[error("cannot {action}: the ticket is {}", .status.label())]
    WrongTicketStatus {
        action: &'static str,
        status: TicketStatus,
    },
    #[error("cannot {action}: the {part} approval is {}", .approval.label())]
    WrongApproval {
        action: &'static str,
        part: &'static str,
        approval: Approval,
    },
    #[error("the client has not reviewed this Ad Set yet")]
    NotYetReviewed,
    #[error("{in_progress} ticket(s) still In Progress: revisions are outstanding")]
    RevisionsOutstanding { in_progress: u32 },
    #[error("no open task {0} on this portfolio")]
    TaskNotFound(TaskId),
    #[error("task {0} is already done")]
    TaskAlreadyDone(TaskId),
    #[error("task {task} is assigned to the {role}, not to you")]
    NotYourTask { task: TaskId, role: Role },
    #[error("this task is not completed by hand: it closes by itself when {how}")]
    TaskCompletesByItself { how: &'static str },
    #[error(
        "cannot {action}: the Account Manager has not decided on this refresh yet; follow up with the AM"
    )]
    AmDecisionMissing { action: &'static str },
    #[error(
        "ticket {0} came back from revisions and has not been shared with the client again: that happens when every ticket of the Ad Set is back in Pending Approval"
    )]
    TicketNotShared(TicketId),
    #[error(
        "in a revision round the {part} approves itself when it is submitted (R15): there is nothing to approve"
    )]
    ApprovesItself { part: &'static str },
    #[error("ticket {0} was withdrawn (by itself, or with its cancelled cycle)")]
    TicketWithdrawn(TicketId),
    #[error("the last ticket of an Ad Set cannot be withdrawn: cancel the cycle instead")]
    LastTicket,
    #[error("the Ad Set has {created} tickets: its Number of Deliverables cannot be {requested}")]
    CountBelowTickets { created: u32, requested: u32 },
    #[error("this cycle has no tickets to cancel: decline the refresh instead")]
    NothingToCancel,
    #[error("the cycle has tickets: cancel the cycle before pausing the portfolio")]
    CancelCycleFirst,
    #[error("the portfolio is paused since {since}: an Admin must resume it first")]
    PortfolioPaused { since: chrono::NaiveDate },
    #[error("the portfolio ended on {since}")]
    PortfolioEnded { since: chrono::NaiveDate },
    #[error("the portfolio is not paused")]
    NotPaused,
}

fn status_label(status: Option<RefreshStatus>) -> &'static str {
    status.map_or("empty", RefreshStatus::label)
}

impl DomainError {
    /// A stable, URL-safe name for each kind of refusal (used as the problem `type`).
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::PortfolioNotFound => "portfolio-not-found",
            DomainError::PortfolioAlreadyExists => "portfolio-already-exists",
            DomainError::NotPermitted { .. } => "not-permitted",
            DomainError::NotOnTeam => "not-on-team",
            DomainError::WrongStatus { .. } => "wrong-status",
            DomainError::RefreshDateInPast => "refresh-date-in-past",
            DomainError::NoteRequired => "note-required",
            DomainError::TicketsAlreadyCreated => "tickets-already-created",
            DomainError::AdSetAlreadyStarted => "ad-set-already-started",
            DomainError::AdSetNotStarted => "ad-set-not-started",
            DomainError::TicketNotFound(_) => "ticket-not-found",
            DomainError::TicketAlreadyExists(_) => "ticket-already-exists",
            DomainError::FolderNameImmutable { .. } => "folder-name-immutable",
            DomainError::DeliverableCountMismatch { .. } => "deliverable-count-mismatch",
            DomainError::TooManyTickets { .. } => "too-many-tickets",
            DomainError::AdSetIncomplete { .. } => "ad-set-incomplete",
            DomainError::WrongTicketStatus { .. } => "wrong-ticket-status",
            DomainError::WrongApproval { .. } => "wrong-approval",
            DomainError::NotYetReviewed => "not-yet-reviewed",
            DomainError::RevisionsOutstanding { .. } => "revisions-outstanding",
            DomainError::TaskNotFound(_) => "task-not-found",
            DomainError::TaskAlreadyDone(_) => "task-already-done",
            DomainError::NotYourTask { .. } => "not-your-task",
            DomainError::TaskCompletesByItself { .. } => "task-completes-by-itself",
            DomainError::AmDecisionMissing { .. } => "am-decision-missing",
            DomainError::TicketNotShared(_) => "ticket-not-shared",
            DomainError::ApprovesItself { .. } => "approves-itself",
            DomainError::TicketWithdrawn(_) => "ticket-withdrawn",
            DomainError::LastTicket => "last-ticket",
            DomainError::CountBelowTickets { .. } => "count-below-tickets",
            DomainError::NothingToCancel => "nothing-to-cancel",
            DomainError::CancelCycleFirst => "cancel-cycle-first",
            DomainError::PortfolioPaused { .. } => "portfolio-paused",
            DomainError::PortfolioEnded { .. } => "portfolio-ended",
            DomainError::NotPaused => "not-paused",
        }
    }
}
