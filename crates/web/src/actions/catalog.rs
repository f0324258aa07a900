//! Every action of the process a page offers: its words, the fields its form asks for, and
//! the command it becomes. The domain's `decide` stays the only judge of whether it may
//! happen; this file only says how a person asks.

use freshet_api::ApiError;
use freshet_domain::{
    AdLabLink, Command, DeliverableCount, FolderName, InvalidValue, NoteText, Portfolio,
    RevisionKind, TaskId, TaskKind, TicketId, TicketTitle,
};

/// What an action is done to, besides its portfolio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    Portfolio,
    Ticket,
    Task,
}

/// One thing a person of the process does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// The AM or SAS logs a Note on the portfolio (R5, R6).
    Note,
    /// The AM requests the refresh, with the client's direction as a Note (R5).
    Request,
    /// The AM declines this cycle's refresh (R4).
    Decline,
    /// The SAS creates the Ad Set's first ticket (R7).
    CreateTicket,
    /// The SAS marks the deliverables submitted (R9).
    DeliverablesSubmitted,
    /// The Designer keeps the Most Recent Ad Lab Link up to date (R12).
    AdLabLink,
    /// The AM signs off the Ad Set (R17).
    SignOff,
    /// The SAS marks the new creatives implemented (R18).
    Implemented,
    /// The SAS clones a ticket of the set: same folder, same count (R7).
    CloneTicket,
    /// The Copywriter submits copy (R10, R15).
    SubmitCopy,
    /// The Designer submits graphics (R10, R15).
    SubmitGraphics,
    /// The Team Lead's QA approves copy (R10).
    ApproveCopy,
    /// The Team Lead's QA approves graphics (R10).
    ApproveGraphics,
    /// The Team Lead's QA sends copy back with a Note.
    SendBackCopy,
    /// The Team Lead's QA sends graphics back with a Note.
    SendBackGraphics,
    /// A question or answer on a ticket (R21).
    TicketNote,
    /// The AM records the client's changes on a ticket (R14).
    RequestRevisions,
    /// The client approved the ticket, or the SAS closes it (R13, R20).
    CompleteDeliverable,
    /// The SAS or AM takes a ticket out of the Ad Set before sign-off.
    WithdrawTicket,
    /// The SAS or AM corrects the set-wide Number of Deliverables before sign-off (R7).
    CorrectCount,
    /// The AM cancels the cycle: the client withdrew after the tickets were created.
    CancelCycle,
    /// The SAS renames a ticket.
    RenameTicket,
    /// The assignee finishes a task that has no other action (share, implement, confirm).
    CompleteTask,
}

/// A form field an action asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    /// A Note; `required` unless a Note logged earlier in the cycle will do.
    Note {
        label: &'static str,
        required: bool,
    },
    Title,
    Folder,
    Deliverables,
    Link,
    RevisionKind,
    /// A box to tick: for what cannot be undone by a click.
    Confirm {
        label: &'static str,
    },
}

/// What a person typed into an action's form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub(crate) struct Typed {
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub folder: String,
    #[serde(default)]
    pub deliverables: String,
    #[serde(default)]
    pub link: String,
    #[serde(default)]
    pub kind: String,
    /// `yes` when the box of a [`Field::Confirm`] is ticked.
    #[serde(default)]
    pub confirm: String,
}

/// The revision kinds as the form offers them: value and label.
pub(crate) const REVISION_KINDS: [(&str, RevisionKind); 3] = [
    ("copy", RevisionKind::CopyOnly),
    ("graphic", RevisionKind::GraphicOnly),
    ("both", RevisionKind::CopyAndGraphic),
];

impl Action {
    pub(crate) const ALL: [Action; 23] = [
        Action::Request,
        Action::Decline,
        Action::Note,
        Action::CreateTicket,
        Action::DeliverablesSubmitted,
        Action::AdLabLink,
        Action::SignOff,
        Action::Implemented,
        Action::CorrectCount,
        Action::CancelCycle,
        Action::SubmitCopy,
        Action::SubmitGraphics,
        Action::ApproveCopy,
        Action::SendBackCopy,
        Action::ApproveGraphics,
        Action::SendBackGraphics,
        Action::RequestRevisions,
        Action::CompleteDeliverable,
        Action::TicketNote,
        Action::CloneTicket,
        Action::RenameTicket,
        Action::WithdrawTicket,
        Action::CompleteTask,
    ];

    pub(crate) fn slug(self) -> &'static str {
        match self {
            Action::Note => "note",
            Action::Request => "request",
            Action::Decline => "decline",
            Action::CreateTicket => "create-ticket",
            Action::DeliverablesSubmitted => "deliverables-submitted",
            Action::AdLabLink => "ad-lab-link",
            Action::SignOff => "sign-off",
            Action::Implemented => "implemented",
            Action::CloneTicket => "clone-ticket",
            Action::SubmitCopy => "submit-copy",
            Action::SubmitGraphics => "submit-graphics",
            Action::ApproveCopy => "approve-copy",
            Action::ApproveGraphics => "approve-graphics",
            Action::SendBackCopy => "send-back-copy",
            Action::SendBackGraphics => "send-back-graphics",
            Action::TicketNote => "ticket-note",
            Action::RequestRevisions => "request-revisions",
            Action::CompleteDeliverable => "complete-deliverable",
            Action::WithdrawTicket => "withdraw-ticket",
            Action::CorrectCount => "correct-count",
            Action::CancelCycle => "cancel-cycle",
            Action::RenameTicket => "rename-ticket",
            Action::CompleteTask => "complete-task",
        }
    }

    pub(crate) fn parse(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.slug() == slug)
    }

    /// The button's words.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Action::Note => "Log the Note",
            Action::Request => "Request the refresh",
            Action::Decline => "Decline this refresh",
            Action::CreateTicket => "Create the first ticket",
            Action::DeliverablesSubmitted => "Mark deliverables submitted",
            Action::AdLabLink => "Save the Ad Lab link",
            Action::SignOff => "Sign off the Ad Set",
            Action::Implemented => "Mark creatives implemented",
            Action::CloneTicket => "Clone this ticket",
            Action::SubmitCopy => "Submit copy",
            Action::SubmitGraphics => "Submit graphics",
            Action::ApproveCopy => "Approve copy",
            Action::ApproveGraphics => "Approve graphics",
            Action::SendBackCopy => "Send copy back",
            Action::SendBackGraphics => "Send graphics back",
            Action::TicketNote => "Log the Note",
            Action::RequestRevisions => "Request revisions",
            Action::CompleteDeliverable => "Mark Completed Deliverable",
            Action::WithdrawTicket => "Withdraw this ticket",
            Action::CorrectCount => "Correct the Number of Deliverables",
            Action::CancelCycle => "Cancel this cycle",
            Action::RenameTicket => "Rename this ticket",
            Action::CompleteTask => "Mark done",
        }
    }

    pub(crate) fn scope(self) -> Scope {
        match self {
            Action::Note
            | Action::Request
            | Action::Decline
            | Action::CreateTicket
            | Action::DeliverablesSubmitted
            | Action::AdLabLink
            | Action::SignOff
            | Action::Implemented
            | Action::CorrectCount
            | Action::CancelCycle => Scope::Portfolio,
            Action::CompleteTask => Scope::Task,
            _ => Scope::Ticket,
        }
    }

    pub(crate) fn fields(self) -> &'static [Field] {
        const NOTE: Field = Field::Note {
            label: "Note",
            required: true,
        };
        match self {
            Action::Note | Action::TicketNote => &[NOTE],
            Action::Request => &[Field::Note {
                label: "The client's direction (optional if you logged a Note this cycle)",
                required: false,
            }],
            Action::CreateTicket => &[Field::Title, Field::Folder, Field::Deliverables],
            Action::CloneTicket | Action::RenameTicket => &[Field::Title],
            Action::CorrectCount => &[Field::Deliverables],
            Action::Decline => &[Field::Confirm {
                label: "The client does not want a refresh this cycle",
            }],
            Action::WithdrawTicket => &[Field::Confirm {
                label: "Take this ticket out of the Ad Set",
            }],
            Action::CancelCycle => &[Field::Note {
                label: "Why the client withdrew",
                required: true,
            }],
            Action::AdLabLink => &[Field::Link],
            Action::SendBackCopy | Action::SendBackGraphics => &[Field::Note {
                label: "What to change",
                required: true,
            }],
            Action::RequestRevisions => &[
                Field::RevisionKind,
                Field::Note {
                    label: "The client's feedback",
                    required: true,
                },
            ],
            _ => &[],
        }
    }

    /// Whether the action is the usual way to finish a task of `kind`: My work offers it
    /// on that task's line.
    pub(crate) fn finishes(self, kind: TaskKind) -> bool {
        use TaskKind as K;
        match self {
            Action::Request | Action::Decline => kind == K::ReachOutToClient,
            Action::SubmitCopy => matches!(kind, K::WriteCopy | K::ReviseCopy | K::ReworkCopy),
            Action::SubmitGraphics => {
                matches!(
                    kind,
                    K::CreateGraphics | K::ReviseGraphics | K::ReworkGraphics
                )
            }
            Action::ApproveCopy | Action::SendBackCopy => kind == K::ReviewCopy,
            Action::ApproveGraphics | Action::SendBackGraphics => kind == K::ReviewGraphics,
            Action::CompleteTask => matches!(
                kind,
                K::CreateDeliverables
                    | K::ShareDraftedDeliverables
                    | K::ImplementNewCreatives
                    | K::ConfirmAdsRunning
            ),
            // The usual last steps, when the whole set went as planned: every ticket
            // created (R9), the client approving the whole set (R17).
            Action::DeliverablesSubmitted => kind == K::CreateDeliverables,
            Action::SignOff => kind == K::ShareDraftedDeliverables,
            _ => false,
        }
    }

    /// The command this action asks for, from what was typed. `new_ticket` names a ticket
    /// this action would create: the form's idempotency key, so a resent form names the same.
    pub(crate) fn command(
        self,
        target: Target,
        typed: &Typed,
        new_ticket: TicketId,
    ) -> Result<Command, String> {
        let ticket = || target.ticket.ok_or_else(|| missing("ticket"));
        Ok(match self {
            Action::Note => Command::LogPortfolioNote {
                text: note(typed, "Write the Note first.")?,
            },
            Action::Request => Command::RequestRefresh {
                note: optional_note(typed)?,
            },
            Action::Decline => {
                confirmed(typed)?;
                Command::DeclineRefresh
            }
            Action::CreateTicket => Command::CreateTicket {
                ticket_id: new_ticket,
                title: TicketTitle::parse(typed.title.trim()).map_err(api_words)?,
                folder: FolderName::parse(typed.folder.trim()).map_err(api_words)?,
                deliverables: deliverables(&typed.deliverables)?,
            },
            Action::DeliverablesSubmitted => Command::MarkDeliverablesSubmitted,
            Action::AdLabLink => Command::UpdateAdLabLink {
                link: AdLabLink::parse(typed.link.trim()).map_err(api_words)?,
            },
            Action::SignOff => Command::SignOff,
            Action::Implemented => Command::MarkCreativesImplemented,
            Action::CloneTicket => Command::CloneTicket {
                ticket_id: new_ticket,
                source: ticket()?,
                title: TicketTitle::parse(typed.title.trim()).map_err(api_words)?,
                folder: None,
                deliverables: None,
            },
            Action::SubmitCopy => Command::SubmitCopy {
                ticket_id: ticket()?,
            },
            Action::SubmitGraphics => Command::SubmitGraphics {
                ticket_id: ticket()?,
            },
            Action::ApproveCopy => Command::ApproveCopy {
                ticket_id: ticket()?,
            },
            Action::ApproveGraphics => Command::ApproveGraphics {
                ticket_id: ticket()?,
            },
            Action::SendBackCopy => Command::SendBackCopy {
                ticket_id: ticket()?,
                note: note(typed, "Say what to change first.")?,
            },
            Action::SendBackGraphics => Command::SendBackGraphics {
                ticket_id: ticket()?,
                note: note(typed, "Say what to change first.")?,
            },
            Action::TicketNote => Command::LogTicketNote {
                ticket_id: ticket()?,
                text: note(typed, "Write the Note first.")?,
            },
            Action::RequestRevisions => Command::RequestRevisions {
                ticket_id: ticket()?,
                kind: revision_kind(&typed.kind)?,
                feedback: note(typed, "Write the client's feedback first.")?,
            },
            Action::CompleteDeliverable => Command::CompleteDeliverable {
                ticket_id: ticket()?,
            },
            Action::WithdrawTicket => {
                confirmed(typed)?;
                Command::WithdrawTicket {
                    ticket_id: ticket()?,
                }
            }
            Action::CorrectCount => Command::CorrectDeliverableCount {
                deliverables: deliverables(&typed.deliverables)?,
            },
            Action::CancelCycle => Command::CancelCycle {
                reason: note(typed, "Say why the client withdrew first.")?,
            },
            Action::RenameTicket => Command::EditTicket {
                ticket_id: ticket()?,
                title: Some(TicketTitle::parse(typed.title.trim()).map_err(api_words)?),
                folder: None,
                deliverables: None,
            },
            Action::CompleteTask => Command::CompleteTask {
                task_id: target.task.ok_or_else(|| missing("task"))?,
            },
        })
    }

    /// What a form would plausibly hold on `portfolio`, to ask `decide` whether the action
    /// is open at all: the Ad Set's own folder and count, any Note. An action whose Note may
    /// be left out is tried both ways.
    pub(crate) fn samples(self, portfolio: &Portfolio) -> Vec<Typed> {
        let set = portfolio.current_ad_set();
        let sample = Typed {
            note: "(a Note)".to_owned(),
            title: "(a title)".to_owned(),
            folder: set.map_or_else(|| "(a folder)".to_owned(), |set| set.folder.to_string()),
            deliverables: set.map_or_else(|| "1".to_owned(), |set| set.deliverables.to_string()),
            link: "https://adlab.example/sample".to_owned(),
            kind: "both".to_owned(),
            confirm: "yes".to_owned(),
        };
        if self == Action::Request {
            vec![Typed::default(), sample]
        } else {
            vec![sample]
        }
    }
}

/// The ticket or task an action names, from its form.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Target {
    pub ticket: Option<TicketId>,
    pub task: Option<TaskId>,
}

/// A value's refusal as the API words it.
fn api_words(invalid: InvalidValue) -> String {
    ApiError::from(invalid).problem().detail
}

fn confirmed(typed: &Typed) -> Result<(), String> {
    if typed.confirm == "yes" {
        Ok(())
    } else {
        Err("Tick the box to confirm first.".to_owned())
    }
}

fn missing(what: &str) -> String {
    format!("This action needs a {what}.")
}

fn note(typed: &Typed, when_empty: &str) -> Result<NoteText, String> {
    optional_note(typed)?.ok_or_else(|| when_empty.to_owned())
}

fn optional_note(typed: &Typed) -> Result<Option<NoteText>, String> {
    let text = typed.note.trim();
    if text.is_empty() {
        return Ok(None);
    }
    NoteText::parse(text).map(Some).map_err(api_words)
}

fn deliverables(typed: &str) -> Result<DeliverableCount, String> {
    let count = typed.trim().parse::<u32>().map_err(|_| {
        format!(
            "The Number of Deliverables is a whole number from 1 to {}.",
            DeliverableCount::MAX
        )
    })?;
    DeliverableCount::new(count).map_err(api_words)
}

fn revision_kind(typed: &str) -> Result<RevisionKind, String> {
    REVISION_KINDS
        .iter()
        .find(|(value, _)| *value == typed)
        .map(|(_, kind)| *kind)
        .ok_or_else(|| "Choose which revisions the client asked for.".to_owned())
}
