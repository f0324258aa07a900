//! The fields the process moves: Creative Refresh Status, Ticket Status, the approvals and
//! Needs Revisions. `label()` gives the words the agency uses.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Creative Refresh Status on the portfolio. Empty (`None` where it is held) between cycles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshStatus {
    NoRefreshRequested,
    RefreshRequestSubmitted,
    DeliverablesSubmitted,
    CreativesPendingApproval,
    CreativesCompletedAndApproved,
    CreativesImplemented,
}

impl RefreshStatus {
    pub const ALL: [RefreshStatus; 6] = [
        RefreshStatus::NoRefreshRequested,
        RefreshStatus::RefreshRequestSubmitted,
        RefreshStatus::DeliverablesSubmitted,
        RefreshStatus::CreativesPendingApproval,
        RefreshStatus::CreativesCompletedAndApproved,
        RefreshStatus::CreativesImplemented,
    ];

    pub fn label(self) -> &'static str {
        match self {
            RefreshStatus::NoRefreshRequested => "No Refresh Requested",
            RefreshStatus::RefreshRequestSubmitted => "Refresh Request Submitted",
            RefreshStatus::DeliverablesSubmitted => "Deliverables Submitted",
            RefreshStatus::CreativesPendingApproval => "Creatives Pending Approval",
            RefreshStatus::CreativesCompletedAndApproved => "Creatives Completed & Approved",
            RefreshStatus::CreativesImplemented => "Creatives Implemented",
        }
    }

    /// Parses either the code (`creatives_pending_approval`) or the label.
    pub fn parse(input: &str) -> Option<Self> {
        let input = input.trim();
        Self::ALL.into_iter().find(|status| {
            status.label().eq_ignore_ascii_case(input)
                || serde_json::to_value(status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    == Some(input.to_owned())
        })
    }
}

impl fmt::Display for RefreshStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Ticket Status of one deliverable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    InProgress,
    PendingApproval,
    CompletedDeliverable,
}

impl TicketStatus {
    pub fn label(self) -> &'static str {
        match self {
            TicketStatus::InProgress => "In Progress",
            TicketStatus::PendingApproval => "Pending Approval",
            TicketStatus::CompletedDeliverable => "Completed Deliverable",
        }
    }
}

impl fmt::Display for TicketStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The copy approval or the graphic approval of a ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Approval {
    /// Nothing submitted yet in the first round.
    NotSubmitted,
    /// Submitted, waiting for the Team Lead's QA.
    AwaitingQa,
    /// Reset by a revision request: the next submission approves itself (R15).
    RevisionRequested,
    /// The Team Lead's QA sent it back: the next submission goes to QA again.
    SentBack,
    Approved,
}

impl Approval {
    pub fn label(self) -> &'static str {
        match self {
            Approval::NotSubmitted => "Not Submitted",
            Approval::AwaitingQa => "Awaiting QA",
            Approval::RevisionRequested => "Revisions Requested",
            Approval::SentBack => "Sent Back by QA",
            Approval::Approved => "Approved",
        }
    }

    /// Still waiting for its author to submit.
    pub fn awaits_author(self) -> bool {
        matches!(
            self,
            Approval::NotSubmitted | Approval::RevisionRequested | Approval::SentBack
        )
    }
}

/// Which part of a creative the client asked to change: the Needs Revisions field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevisionKind {
    CopyOnly,
    GraphicOnly,
    CopyAndGraphic,
}

impl RevisionKind {
    pub fn label(self) -> &'static str {
        match self {
            RevisionKind::CopyOnly => "Copy Revisions Only",
            RevisionKind::GraphicOnly => "Graphic Revisions Only",
            RevisionKind::CopyAndGraphic => "Copy and Graphic Revisions",
        }
    }

    pub fn touches_copy(self) -> bool {
        matches!(self, RevisionKind::CopyOnly | RevisionKind::CopyAndGraphic)
    }

    pub fn touches_graphic(self) -> bool {
        matches!(
            self,
            RevisionKind::GraphicOnly | RevisionKind::CopyAndGraphic
        )
    }
}

impl fmt::Display for RevisionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}
