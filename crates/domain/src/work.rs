//! The work Freshet hands out: tasks in a person's inbox, email notifications, and the
//! deadlines of the manual gates (B1).

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ids::{EmailId, TaskId, TicketId, UserId};
use crate::status::TicketStatus;
use crate::team::Role;

/// A manual gate whose deadline can be missed (B1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StallGate {
    /// No AM decision by the refresh date.
    AmDecision,
    /// The Ad Set is not fully ticketed some days after the refresh date.
    TicketSubmission,
    /// An Ad Set has waited for the client's answer too long.
    ClientReview,
    /// Approved creatives are not implemented in time.
    Implementation,
    /// The client approved every deliverable, and the AM has not signed off.
    SignOff,
    /// The next cycle's kickoff is due while this cycle is still open.
    NextKickoffOverlap,
}

impl StallGate {
    /// Who is expected to open the gate; the Team Lead is alerted too.
    pub fn responsible(self) -> Role {
        match self {
            StallGate::AmDecision
            | StallGate::ClientReview
            | StallGate::SignOff
            | StallGate::NextKickoffOverlap => Role::AccountManager,
            StallGate::TicketSubmission | StallGate::Implementation => Role::SocialAdSpecialist,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            StallGate::AmDecision => "No AM decision by the Creative Refresh Date",
            StallGate::TicketSubmission => {
                "Deliverable tickets not submitted after the refresh date"
            }
            StallGate::ClientReview => "Ad Set waiting for the client's review",
            StallGate::Implementation => "Approved creatives not yet implemented",
            StallGate::SignOff => {
                "The client approved every deliverable: the AM's sign-off is missing"
            }
            StallGate::NextKickoffOverlap => {
                "The next Creative Refresh Date has come while this cycle is still open"
            }
        }
    }
}

/// How many days each manual gate may take before a stall alert (B1). Agency configuration,
/// passed in with every command so the domain stays free of configuration I/O.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    /// Days after the refresh date by which the AM must have decided.
    pub am_decision_after_refresh: u32,
    /// Days after the refresh date by which every ticket of the Ad Set must exist.
    pub tickets_after_refresh: u32,
    /// Days an Ad Set may wait for the client's answer.
    pub client_review: u32,
    /// Days between sign-off and implementation.
    pub implementation: u32,
}

impl Default for Deadlines {
    fn default() -> Self {
        Self {
            am_decision_after_refresh: 0,
            tickets_after_refresh: 2,
            client_review: 7,
            implementation: 3,
        }
    }
}

/// The kickoff fires when the refresh date is this many days away or fewer (R2).
pub const KICKOFF_LEAD_DAYS: i64 = 15;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    ReachOutToClient,
    CreateDeliverables,
    WriteCopy,
    CreateGraphics,
    ReviewCopy,
    ReviewGraphics,
    ReviseCopy,
    ReviseGraphics,
    /// The Team Lead's QA sent the part back with a Note.
    ReworkCopy,
    ReworkGraphics,
    ShareDraftedDeliverables,
    ImplementNewCreatives,
    ConfirmAdsRunning,
    StallAlert(StallGate),
}

impl StallGate {
    /// The gate's wire name, e.g. `am_decision`.
    pub fn code(self) -> &'static str {
        match self {
            StallGate::AmDecision => "am_decision",
            StallGate::TicketSubmission => "ticket_submission",
            StallGate::ClientReview => "client_review",
            StallGate::Implementation => "implementation",
            StallGate::SignOff => "sign_off",
            StallGate::NextKickoffOverlap => "next_kickoff_overlap",
        }
    }
}

impl TaskKind {
    /// A flat, stable name for the kind, e.g. `share_drafted_deliverables` or
    /// `stall_alert:client_review`, for read models and filters.
    pub fn code(self) -> String {
        match self {
            TaskKind::StallAlert(gate) => format!("stall_alert:{}", gate.code()),
            other => match serde_json::to_value(other) {
                Ok(serde_json::Value::String(code)) => code,
                _ => other.key().to_owned(),
            },
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            TaskKind::ReachOutToClient => "Reach out to client about creative refresh",
            TaskKind::CreateDeliverables => "Create Paid Social Deliverables for Refresh",
            TaskKind::WriteCopy => "Write copy for deliverable",
            TaskKind::CreateGraphics => "Create graphics for deliverable",
            TaskKind::ReviewCopy => "QA copy for deliverable",
            TaskKind::ReviewGraphics => "QA graphics for deliverable",
            TaskKind::ReviseCopy => "Revise copy for deliverable",
            TaskKind::ReviseGraphics => "Revise graphics for deliverable",
            TaskKind::ReworkCopy => "Rework copy sent back by QA",
            TaskKind::ReworkGraphics => "Rework graphics sent back by QA",
            TaskKind::ShareDraftedDeliverables => "Share Drafted Deliverables With Client",
            TaskKind::ImplementNewCreatives => "Implement New Creatives for Refresh",
            TaskKind::ConfirmAdsRunning => "Confirm with client that the new ads are running",
            TaskKind::StallAlert(gate) => gate.describe(),
        }
    }
}

impl fmt::Display for TaskKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

/// One task in someone's inbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub id: TaskId,
    pub kind: TaskKind,
    pub assignee: UserId,
    pub role: Role,
    pub cycle: u32,
    pub ticket: Option<TicketId>,
    /// The review round (share tasks, client-review alerts) or the ticket's revision round.
    pub round: u32,
    pub due: Option<NaiveDate>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailKind {
    /// R2: reach out to the client.
    Kickoff,
    /// R6: create the deliverable tickets today.
    DeliverablesDue,
    /// R11: the Ad Set is ready for the client's review.
    ReadyForClientReview,
    /// R17: the client approved; implement.
    CreativesApproved,
    /// R19: the new creatives are live.
    CreativesLive,
    /// B1: a gate missed its deadline.
    StallAlert(StallGate),
    /// The AM cancelled the cycle: the tickets and their tasks are void.
    CycleCancelled,
    /// The AM declined after the SAS was asked for the tickets: the SAS's task is void.
    HandoffVoided,
    /// A team change moved open tasks to the recipient.
    WorkReassigned,
}

/// A ticket as an email or task lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketSummary {
    pub id: TicketId,
    pub title: String,
    pub status: TicketStatus,
}

/// What the recipient needs to act, captured when the email is requested so that the
/// message says what was true at that moment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailDetails {
    pub client: String,
    pub refresh_date: NaiveDate,
    pub am_note: Option<String>,
    pub ad_lab_link: Option<String>,
    pub decision_missing: bool,
    pub open_tickets: Vec<TicketSummary>,
    pub next_refresh_date: Option<NaiveDate>,
    /// The tasks a team change moved to the recipient, by title.
    #[serde(default)]
    pub tasks: Vec<String>,
    /// How many days late the cycle is (the overlap alert).
    #[serde(default)]
    pub days_late: Option<i64>,
}

/// One email notification to one person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    pub id: EmailId,
    pub kind: EmailKind,
    pub recipient: UserId,
    pub role: Role,
    pub cycle: u32,
    pub round: u32,
    pub details: EmailDetails,
}

impl StallGate {
    /// Part of the derived task and email ids: never change a key once released.
    pub(crate) fn key(self) -> &'static str {
        match self {
            StallGate::AmDecision => "stall-am-decision",
            StallGate::TicketSubmission => "stall-ticket-submission",
            StallGate::ClientReview => "stall-client-review",
            StallGate::Implementation => "stall-implementation",
            StallGate::SignOff => "stall-sign-off",
            StallGate::NextKickoffOverlap => "stall-next-kickoff-overlap",
        }
    }
}

impl TaskKind {
    /// Part of the derived task ids: never change a key once released.
    pub(crate) fn key(self) -> &'static str {
        match self {
            TaskKind::ReachOutToClient => "reach-out",
            TaskKind::CreateDeliverables => "create-deliverables",
            TaskKind::WriteCopy => "write-copy",
            TaskKind::CreateGraphics => "create-graphics",
            TaskKind::ReviewCopy => "review-copy",
            TaskKind::ReviewGraphics => "review-graphics",
            TaskKind::ReviseCopy => "revise-copy",
            TaskKind::ReviseGraphics => "revise-graphics",
            TaskKind::ReworkCopy => "rework-copy",
            TaskKind::ReworkGraphics => "rework-graphics",
            TaskKind::ShareDraftedDeliverables => "share",
            TaskKind::ImplementNewCreatives => "implement",
            TaskKind::ConfirmAdsRunning => "confirm-running",
            TaskKind::StallAlert(gate) => gate.key(),
        }
    }
}

impl EmailKind {
    /// Part of the derived email ids: never change a key once released.
    pub(crate) fn key(self) -> &'static str {
        match self {
            EmailKind::Kickoff => "kickoff",
            EmailKind::DeliverablesDue => "deliverables-due",
            EmailKind::ReadyForClientReview => "ready-for-review",
            EmailKind::CreativesApproved => "creatives-approved",
            EmailKind::CreativesLive => "creatives-live",
            EmailKind::StallAlert(gate) => gate.key(),
            EmailKind::CycleCancelled => "cycle-cancelled",
            EmailKind::HandoffVoided => "handoff-voided",
            EmailKind::WorkReassigned => "work-reassigned",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_kind_codes_are_flat_and_distinct() {
        let kinds = [
            TaskKind::ReachOutToClient,
            TaskKind::ShareDraftedDeliverables,
            TaskKind::StallAlert(StallGate::ClientReview),
            TaskKind::StallAlert(StallGate::AmDecision),
        ];
        let codes: Vec<String> = kinds.iter().map(|k| k.code()).collect();
        assert_eq!(
            codes,
            [
                "reach_out_to_client",
                "share_drafted_deliverables",
                "stall_alert:client_review",
                "stall_alert:am_decision"
            ]
        );
    }
}
