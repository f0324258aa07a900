//! Events: immutable facts in the past tense. Each has a stable wire name (never the Rust
//! identifier, so renaming code never breaks stored history) and a schema version.

use chrono::{DateTime, NaiveDate, Utc};
use serde::de::value::MapDeserializer;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::cadence::Cadence;
use crate::ids::{NoteId, PortfolioId, TaskId, TicketId, UserId};
use crate::status::RevisionKind;
use crate::team::{Role, Team};
use crate::values::{AdLabLink, ClientName, DeliverableCount, FolderName, NoteText, TicketTitle};
use crate::work::{Email, StallGate, Task};

/// How the SAS closed the cycle (R18).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImplementationPath {
    /// Completed the "Implement New Creatives for Refresh" task.
    TaskCompleted,
    /// Moved the status to Creatives Implemented by hand.
    StatusMoved,
}

/// Declares [`Event`] from one table: each variant is written `RustName = "WireName" { .. }`,
/// once. The macro gives the variant its serde name and builds `WIRE_NAMES` and
/// `Event::wire_name` from the same pairs, so the name that is stored, the name that is
/// decoded and the list of names can never disagree. A Rust name may change; its wire name
/// never does (`tests/event_codec.rs` pins every one).
macro_rules! events_with_wire_names {
    (
        $(#[$meta:meta])*
        pub enum Event {
            $(
                $(#[$variant_meta:meta])*
                $variant:ident = $wire:literal { $($fields:tt)* }
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        pub enum Event {
            $(
                $(#[$variant_meta])*
                #[serde(rename = $wire)]
                $variant { $($fields)* },
            )*
        }

        /// Every wire name this Freshet writes and reads.
        const WIRE_NAMES: &[&str] = &[$($wire),*];

        impl Event {
            fn wire_name(&self) -> &'static str {
                match self {
                    $(Event::$variant { .. } => $wire,)*
                }
            }
        }
    };
}

events_with_wire_names! {
    /// A fact of the Creative Refresh process, in the past tense. Each variant is written
    /// `RustName = "WireName"`: the wire name is what is stored, and it never changes.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(tag = "type", content = "data", deny_unknown_fields)]
    pub enum Event {
        PortfolioCreated = "PortfolioCreated" {
            portfolio_id: PortfolioId,
            client: ClientName,
            team: Team,
            cadence: Cadence,
            refresh_date: NaiveDate,
            /// The day the portfolio was created: its first cycle opens then.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            on: Option<NaiveDate>,
        },
        TeamChanged = "TeamChanged" { team: Team },
        PortfolioRescheduled = "PortfolioRescheduled" {
            cadence: Cadence,
            refresh_date: NaiveDate,
        },
        RefreshKickedOff = "RefreshKickedOff" { cycle: u32, refresh_date: NaiveDate },
        /// The refresh date moved more than the kickoff lead away: the kickoff fires again.
        KickoffReset = "KickoffReset" { cycle: u32 },
        PortfolioNoteLogged = "PortfolioNoteLogged" {
            note_id: NoteId,
            author: UserId,
            /// The role the author wrote as; the SAS reads the latest Account Manager note (R6).
            author_role: Option<Role>,
            text: NoteText,
            logged_at: DateTime<Utc>,
        },
        RefreshDeclined = "RefreshDeclined" {
            cycle: u32,
            next_refresh_date: NaiveDate,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            on: Option<NaiveDate>,
        },
        RefreshRequested = "RefreshRequested" {
            cycle: u32,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            on: Option<NaiveDate>,
        },
        DeliverablesRequested = "DeliverablesRequested" {
            cycle: u32,
            refresh_date: NaiveDate,
            decision_missing: bool,
        },
        TicketCreated = "TicketCreated" {
            ticket_id: TicketId,
            cycle: u32,
            title: TicketTitle,
            folder: FolderName,
            deliverables: DeliverableCount,
            cloned_from: Option<TicketId>,
        },
        /// The SAS or the AM took a ticket out of the Ad Set; its id stays taken.
        TicketWithdrawn = "TicketWithdrawn" { ticket_id: TicketId, cycle: u32 },
        /// The Number of Deliverables In This Ad Set, corrected on every ticket of the set.
        DeliverableCountCorrected = "DeliverableCountCorrected" {
            cycle: u32,
            deliverables: DeliverableCount,
        },
        TicketRetitled = "TicketRetitled" {
            ticket_id: TicketId,
            title: TicketTitle,
        },
        DeliverablesSubmitted = "DeliverablesSubmitted" { cycle: u32 },
        CopySubmitted = "CopySubmitted" { ticket_id: TicketId },
        GraphicsSubmitted = "GraphicsSubmitted" { ticket_id: TicketId },
        CopyApproved = "CopyApproved" {
            ticket_id: TicketId,
            /// True in a revision round, where the Copywriter approves their own copy (R15).
            qa_skipped: bool,
        },
        /// Stored as `GraphicApproved`, its name before it matched `GraphicsSubmitted`.
        GraphicsApproved = "GraphicApproved" {
            ticket_id: TicketId,
            qa_skipped: bool,
        },
        /// The Team Lead's QA sent the copy back to the Copywriter.
        CopySentBack = "CopySentBack" { ticket_id: TicketId },
        GraphicsSentBack = "GraphicsSentBack" { ticket_id: TicketId },
        /// Both approvals are `Approved`: the Ticket Status moved to Pending Approval (R10).
        /// Stored as `TicketPendingApproval`, its name when it was named after the state.
        TicketMovedToPendingApproval = "TicketPendingApproval" { ticket_id: TicketId },
        AdSetReadyForReview = "AdSetReadyForReview" {
            cycle: u32,
            folder: FolderName,
            round: u32,
            on: NaiveDate,
        },
        RevisionsRequested = "RevisionsRequested" {
            ticket_id: TicketId,
            kind: RevisionKind,
            revision_round: u32,
        },
        DeliverableCompleted = "DeliverableCompleted" { ticket_id: TicketId },
        TicketNoteLogged = "TicketNoteLogged" {
            ticket_id: TicketId,
            note_id: NoteId,
            author: UserId,
            text: NoteText,
            logged_at: DateTime<Utc>,
        },
        AdLabLinkUpdated = "AdLabLinkUpdated" { link: AdLabLink },
        CreativesApproved = "CreativesApproved" { cycle: u32, on: NaiveDate },
        CreativesImplemented = "CreativesImplemented" {
            cycle: u32,
            via: ImplementationPath,
            next_refresh_date: NaiveDate,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            on: Option<NaiveDate>,
        },
        /// The AM ended a cycle whose tickets exist (the client withdrew).
        CycleCancelled = "CycleCancelled" {
            cycle: u32,
            next_refresh_date: NaiveDate,
            on: NaiveDate,
        },
        /// An Admin put the client on hold: no kickoff until resumed.
        PortfolioPaused = "PortfolioPaused" { cycle: u32, on: NaiveDate },
        PortfolioResumed = "PortfolioResumed" {
            refresh_date: NaiveDate,
            on: NaiveDate,
        },
        /// The client left: nothing is scheduled any more.
        PortfolioEnded = "PortfolioEnded" { cycle: u32, on: NaiveDate },
        TaskAssigned = "TaskAssigned" { task: Task },
        /// An open task's due date followed a change of the refresh date.
        TaskDueChanged = "TaskDueChanged" { task_id: TaskId, due: NaiveDate },
        TaskCompleted = "TaskCompleted" {
            task_id: TaskId,
            /// `None` when the process completed it by itself.
            by: Option<UserId>,
        },
        EmailRequested = "EmailRequested" { email: Email },
        StallAlertRaised = "StallAlertRaised" {
            cycle: u32,
            gate: StallGate,
            round: u32,
            deadline: NaiveDate,
        },
    }
}

/// The schema version every event is written with today. A stored event with a newer
/// version was written by a newer Freshet and is refused rather than misread.
pub const CURRENT_SCHEMA_VERSION: i32 = 1;

/// An event as it is stored: wire name, schema version and JSON payload.
#[derive(Clone, Debug, PartialEq)]
pub struct EncodedEvent {
    pub event_type: String,
    pub schema_version: i32,
    pub payload: serde_json::Value,
}

#[derive(Debug, Error)]
pub enum DecodeError {
    #[error("unknown event type \"{event_type}\"")]
    UnknownType { event_type: String },
    #[error(
        "event \"{event_type}\" has schema version {version}; this Freshet reads versions 1 to {CURRENT_SCHEMA_VERSION}"
    )]
    UnsupportedVersion { event_type: String, version: i32 },
    #[error("event \"{event_type}\" (schema version {version}) does not decode: {source}")]
    BadPayload {
        event_type: String,
        version: i32,
        source: serde_json::Error,
    },
}

#[derive(Serialize, Deserialize)]
struct Tagged {
    #[serde(rename = "type")]
    event_type: String,
    data: serde_json::Value,
}

impl Event {
    /// Every wire name this Freshet writes and reads.
    pub fn wire_names() -> &'static [&'static str] {
        WIRE_NAMES
    }

    /// The stable wire name, e.g. `RefreshRequested`.
    pub fn event_type(&self) -> &'static str {
        self.wire_name()
    }

    pub fn encode(&self) -> EncodedEvent {
        // Serializing a plain data enum to a JSON value cannot fail: every key is a string.
        let tagged: Tagged = serde_json::to_value(self)
            .and_then(serde_json::from_value)
            .unwrap_or_else(|_| Tagged {
                event_type: self.event_type().to_owned(),
                data: serde_json::Value::Null,
            });
        EncodedEvent {
            event_type: tagged.event_type,
            schema_version: CURRENT_SCHEMA_VERSION,
            payload: tagged.data,
        }
    }

    pub fn decode(
        event_type: &str,
        schema_version: i32,
        payload: &serde_json::Value,
    ) -> Result<Self, DecodeError> {
        if !WIRE_NAMES.contains(&event_type) {
            return Err(DecodeError::UnknownType {
                event_type: event_type.to_owned(),
            });
        }
        if schema_version > CURRENT_SCHEMA_VERSION || schema_version < 1 {
            return Err(DecodeError::UnsupportedVersion {
                event_type: event_type.to_owned(),
                version: schema_version,
            });
        }
        // The tag first, then the payload, borrowed: the adjacently tagged enum then reads
        // the payload straight into its variant (a JSON object would put `data` first and
        // make serde buffer the whole payload before it knows the variant).
        let tag = serde_json::Value::String(event_type.to_owned());
        let tagged = MapDeserializer::<_, serde_json::Error>::new(
            [("type", &tag), ("data", payload)].into_iter(),
        );
        Self::deserialize(tagged).map_err(|source| DecodeError::BadPayload {
            event_type: event_type.to_owned(),
            version: schema_version,
            source,
        })
    }
}
