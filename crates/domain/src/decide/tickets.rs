//! The Ad Set and its tickets: creation and cloning (R7, R8), the creative work and QA
//! (R10, R15), the client's answer per ticket (R13, R14), Notes (R21).

use super::draft::Draft;
use crate::error::DomainError;
use crate::event::Event;
use crate::ids::{NoteId, TicketId};
use crate::state::Ticket;
use crate::status::{Approval, RefreshStatus, RevisionKind, TicketStatus};
use crate::team::Role;
use crate::values::{DeliverableCount, FolderName, NoteText, TicketTitle};
use crate::work::TaskKind;

/// The two halves of a creative: the Copywriter's copy and the Designer's graphic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    Copy,
    Graphic,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Copy => "copy",
            Part::Graphic => "graphic",
        }
    }

    fn author(self) -> Role {
        match self {
            Part::Copy => Role::Copywriter,
            Part::Graphic => Role::Designer,
        }
    }

    fn of(self, ticket: &Ticket) -> Approval {
        match self {
            Part::Copy => ticket.copy,
            Part::Graphic => ticket.graphic,
        }
    }

    fn first_task(self) -> TaskKind {
        match self {
            Part::Copy => TaskKind::WriteCopy,
            Part::Graphic => TaskKind::CreateGraphics,
        }
    }

    fn review_task(self) -> TaskKind {
        match self {
            Part::Copy => TaskKind::ReviewCopy,
            Part::Graphic => TaskKind::ReviewGraphics,
        }
    }

    fn revision_task(self) -> TaskKind {
        match self {
            Part::Copy => TaskKind::ReviseCopy,
            Part::Graphic => TaskKind::ReviseGraphics,
        }
    }

    fn rework_task(self) -> TaskKind {
        match self {
            Part::Copy => TaskKind::ReworkCopy,
            Part::Graphic => TaskKind::ReworkGraphics,
        }
    }

    fn sent_back(self, ticket_id: TicketId) -> Event {
        match self {
            Part::Copy => Event::CopySentBack { ticket_id },
            Part::Graphic => Event::GraphicsSentBack { ticket_id },
        }
    }

    fn submitted(self, ticket_id: TicketId) -> Event {
        match self {
            Part::Copy => Event::CopySubmitted { ticket_id },
            Part::Graphic => Event::GraphicsSubmitted { ticket_id },
        }
    }

    fn approved(self, ticket_id: TicketId, qa_skipped: bool) -> Event {
        match self {
            Part::Copy => Event::CopyApproved {
                ticket_id,
                qa_skipped,
            },
            Part::Graphic => Event::GraphicsApproved {
                ticket_id,
                qa_skipped,
            },
        }
    }
}

/// Tickets may be created once the AM submitted the request, and until sign-off (a
/// corrected Number of Deliverables may ask for more). Never before the AM decided: that
/// gate is the AM's alone.
fn ensure_ticketing_open(draft: &Draft<'_>, action: &'static str) -> Result<(), DomainError> {
    match draft.state.status() {
        _ if draft.state.cycle.is_in_fulfilment() => Ok(()),
        None => Err(DomainError::AmDecisionMissing { action }),
        status => Err(DomainError::WrongStatus { action, status }),
    }
}

/// A ticket that can still be worked on: not withdrawn, not of a cancelled cycle.
fn ticket(draft: &Draft<'_>, id: TicketId) -> Result<Ticket, DomainError> {
    let live = draft
        .state
        .ad_sets
        .values()
        .filter(|set| !set.cancelled)
        .flat_map(|set| set.tickets.iter())
        .find(|ticket| ticket.id == id);
    match live {
        Some(ticket) => Ok(ticket.clone()),
        None if draft.state.ticket_id_taken(id) => Err(DomainError::TicketWithdrawn(id)),
        None => Err(DomainError::TicketNotFound(id)),
    }
}

/// The current cycle's Ad Set, before sign-off: what withdrawing and correcting change.
fn open_ad_set(
    draft: &Draft<'_>,
    action: &'static str,
) -> Result<crate::state::AdSet, DomainError> {
    let status = draft.state.status();
    if status == Some(RefreshStatus::CreativesCompletedAndApproved) {
        return Err(DomainError::WrongStatus { action, status });
    }
    draft
        .state
        .current_ad_set()
        .cloned()
        .ok_or(DomainError::AdSetNotStarted)
}

/// Takes a ticket out of the Ad Set before sign-off; its tasks close and the review
/// handoff (R11) is checked again at once. The Number of Deliverables stays: clone a
/// replacement, or correct the number.
pub(super) fn withdraw(draft: &mut Draft<'_>, ticket_id: TicketId) -> Result<(), DomainError> {
    let set = open_ad_set(draft, "withdraw a ticket")?;
    ticket(draft, ticket_id)?;
    if !set.tickets.iter().any(|t| t.id == ticket_id) {
        return Err(DomainError::WrongStatus {
            action: "withdraw a ticket of a closed cycle",
            status: draft.state.status(),
        });
    }
    if set.tickets.len() == 1 {
        return Err(DomainError::LastTicket);
    }
    draft.emit(Event::TicketWithdrawn {
        ticket_id,
        cycle: draft.state.cycle.number,
    });
    Ok(())
}

/// One set-wide Number of Deliverables (R7 keeps it the same on every ticket), never below
/// the tickets that exist; the review handoff (R11) is checked again at once.
pub(super) fn correct_count(
    draft: &mut Draft<'_>,
    deliverables: DeliverableCount,
) -> Result<(), DomainError> {
    let set = open_ad_set(draft, "correct the Number of Deliverables")?;
    if deliverables.get() < set.created() {
        return Err(DomainError::CountBelowTickets {
            created: set.created(),
            requested: deliverables.get(),
        });
    }
    if deliverables != set.deliverables {
        draft.emit(Event::DeliverableCountCorrected {
            cycle: draft.state.cycle.number,
            deliverables,
        });
    }
    Ok(())
}

/// The Team Lead's QA sends a submitted part back to its author with a Note; the author
/// gets a task, and their next submission goes to QA again.
pub(super) fn send_back(
    draft: &mut Draft<'_>,
    ticket_id: TicketId,
    part: Part,
    note: &NoteText,
) -> Result<(), DomainError> {
    let ticket = ticket(draft, ticket_id)?;
    let approval = part.of(&ticket);
    if approval != Approval::AwaitingQa {
        return Err(DomainError::WrongApproval {
            action: "send it back",
            part: part.name(),
            approval,
        });
    }
    log_note(draft, ticket_id, note)?;
    draft.emit(part.sent_back(ticket_id));
    let round = ticket.qa_returns + 1;
    draft.assign(
        part.rework_task(),
        part.author(),
        Some(ticket_id),
        round,
        None,
    );
    Ok(())
}

fn add_ticket(
    draft: &mut Draft<'_>,
    ticket_id: TicketId,
    title: &TicketTitle,
    folder: FolderName,
    deliverables: DeliverableCount,
    cloned_from: Option<TicketId>,
) {
    draft.emit(Event::TicketCreated {
        ticket_id,
        cycle: draft.state.cycle.number,
        title: title.clone(),
        folder,
        deliverables,
        cloned_from,
    });
    // R8: the Copywriter and the Designer each get a task on the new ticket.
    for part in [Part::Copy, Part::Graphic] {
        draft.assign(part.first_task(), part.author(), Some(ticket_id), 0, None);
    }
}

/// R7: the first ticket of the Ad Set, from scratch.
pub(super) fn create(
    draft: &mut Draft<'_>,
    ticket_id: TicketId,
    title: &TicketTitle,
    folder: &FolderName,
    deliverables: DeliverableCount,
) -> Result<(), DomainError> {
    if draft.state.ticket_id_taken(ticket_id) {
        return Err(DomainError::TicketAlreadyExists(ticket_id));
    }
    if draft.state.current_ad_set().is_some() {
        return Err(DomainError::AdSetAlreadyStarted);
    }
    ensure_ticketing_open(draft, "create a ticket")?;
    add_ticket(draft, ticket_id, title, folder.clone(), deliverables, None);
    Ok(())
}

/// R7: every other ticket is cloned from one of the set and carries its folder and count.
pub(super) fn clone(
    draft: &mut Draft<'_>,
    ticket_id: TicketId,
    source: TicketId,
    title: &TicketTitle,
    folder: Option<&FolderName>,
    deliverables: Option<DeliverableCount>,
) -> Result<(), DomainError> {
    if draft.state.ticket_id_taken(ticket_id) {
        return Err(DomainError::TicketAlreadyExists(ticket_id));
    }
    let set = draft
        .state
        .current_ad_set()
        .cloned()
        .ok_or(DomainError::AdSetNotStarted)?;
    if !set.tickets.iter().any(|t| t.id == source) {
        return Err(DomainError::TicketNotFound(source));
    }
    ensure_same_set(&set.folder, set.deliverables, folder, deliverables)?;
    if set.is_complete() {
        return Err(DomainError::TooManyTickets {
            count: set.deliverables.get(),
        });
    }
    ensure_ticketing_open(draft, "clone a ticket")?;
    add_ticket(
        draft,
        ticket_id,
        title,
        set.folder,
        set.deliverables,
        Some(source),
    );
    Ok(())
}

fn ensure_same_set(
    folder: &FolderName,
    deliverables: DeliverableCount,
    requested_folder: Option<&FolderName>,
    requested_deliverables: Option<DeliverableCount>,
) -> Result<(), DomainError> {
    if let Some(requested) = requested_folder.filter(|requested| *requested != folder) {
        return Err(DomainError::FolderNameImmutable {
            current: folder.to_string(),
            requested: requested.to_string(),
        });
    }
    if let Some(requested) = requested_deliverables.filter(|requested| *requested != deliverables) {
        return Err(DomainError::DeliverableCountMismatch {
            current: deliverables.get(),
            requested: requested.get(),
        });
    }
    Ok(())
}

/// A ticket's title may change; its folder name and count never (R7).
pub(super) fn edit(
    draft: &mut Draft<'_>,
    ticket_id: TicketId,
    title: Option<&TicketTitle>,
    folder: Option<&FolderName>,
    deliverables: Option<DeliverableCount>,
) -> Result<(), DomainError> {
    let ticket = ticket(draft, ticket_id)?;
    let cycle = draft.state.cycle_of(ticket_id).unwrap_or_default();
    let set = draft
        .state
        .ad_sets
        .get(&cycle)
        .cloned()
        .ok_or(DomainError::TicketNotFound(ticket_id))?;
    ensure_same_set(&set.folder, set.deliverables, folder, deliverables)?;
    if let Some(title) = title.filter(|title| **title != ticket.title) {
        draft.emit(Event::TicketRetitled {
            ticket_id,
            title: title.clone(),
        });
    }
    Ok(())
}

/// R10 and R15: the Copywriter or the Designer submits their part. In the first round it
/// goes to the Team Lead's QA; in a revision round it approves itself.
pub(super) fn submit(
    draft: &mut Draft<'_>,
    ticket_id: TicketId,
    part: Part,
) -> Result<(), DomainError> {
    let ticket = ticket(draft, ticket_id)?;
    let action = match part {
        Part::Copy => "submit copy",
        Part::Graphic => "submit graphics",
    };
    if ticket.status != TicketStatus::InProgress {
        return Err(DomainError::WrongTicketStatus {
            action,
            status: ticket.status,
        });
    }
    match part.of(&ticket) {
        Approval::NotSubmitted | Approval::SentBack => {
            draft.emit(part.submitted(ticket_id));
            draft.assign(
                part.review_task(),
                Role::TeamLead,
                Some(ticket_id),
                ticket.qa_returns,
                None,
            );
        }
        Approval::RevisionRequested => {
            draft.emit(part.submitted(ticket_id));
            draft.emit(part.approved(ticket_id, true));
            move_to_pending_approval_when_approved(draft, ticket_id);
        }
        approval @ (Approval::AwaitingQa | Approval::Approved) => {
            return Err(DomainError::WrongApproval {
                action,
                part: part.name(),
                approval,
            });
        }
    }
    Ok(())
}

/// R10: the Team Lead's QA approves a submitted part.
pub(super) fn approve(
    draft: &mut Draft<'_>,
    ticket_id: TicketId,
    part: Part,
) -> Result<(), DomainError> {
    let ticket = ticket(draft, ticket_id)?;
    let action = match part {
        Part::Copy => "approve copy",
        Part::Graphic => "approve graphics",
    };
    let approval = part.of(&ticket);
    if approval != Approval::AwaitingQa {
        return Err(DomainError::WrongApproval {
            action,
            part: part.name(),
            approval,
        });
    }
    draft.emit(part.approved(ticket_id, false));
    move_to_pending_approval_when_approved(draft, ticket_id);
    Ok(())
}

/// R10: both approvals `Approved` move the ticket to Pending Approval.
fn move_to_pending_approval_when_approved(draft: &mut Draft<'_>, ticket_id: TicketId) {
    let ready = draft.state.ticket(ticket_id).is_some_and(|t| {
        t.status == TicketStatus::InProgress
            && t.copy == Approval::Approved
            && t.graphic == Approval::Approved
    });
    if ready {
        draft.emit(Event::TicketMovedToPendingApproval { ticket_id });
    }
}

/// R21: questions and answers about a ticket are Notes on it, with author and time.
pub(super) fn log_note(
    draft: &mut Draft<'_>,
    ticket_id: TicketId,
    text: &NoteText,
) -> Result<(), DomainError> {
    ticket(draft, ticket_id)?;
    let author = draft
        .context
        .actor
        .user_id()
        .ok_or(DomainError::NotOnTeam)?;
    let note_id = NoteId::derive(draft.state.id, draft.state.notes_logged + 1);
    draft.emit(Event::TicketNoteLogged {
        ticket_id,
        note_id,
        author,
        text: text.clone(),
        logged_at: draft.context.now,
    });
    Ok(())
}

fn ensure_in_client_review(draft: &Draft<'_>, action: &'static str) -> Result<(), DomainError> {
    match draft.state.status() {
        Some(RefreshStatus::CreativesPendingApproval) => Ok(()),
        None
        | Some(RefreshStatus::RefreshRequestSubmitted | RefreshStatus::DeliverablesSubmitted) => {
            Err(DomainError::NotYetReviewed)
        }
        status => Err(DomainError::WrongStatus { action, status }),
    }
}

/// R14: the client asks for changes on one ticket: the feedback as a Note, the ticket back
/// to In Progress, the named approvals reset, and tasks for whoever must revise.
pub(super) fn request_revisions(
    draft: &mut Draft<'_>,
    ticket_id: TicketId,
    kind: RevisionKind,
    feedback: &NoteText,
) -> Result<(), DomainError> {
    let ticket = ticket(draft, ticket_id)?;
    if draft.state.cycle_of(ticket_id) != Some(draft.state.cycle.number) {
        return Err(DomainError::WrongStatus {
            action: "request revisions on a ticket of a closed cycle",
            status: draft.state.status(),
        });
    }
    ensure_in_client_review(draft, "request revisions")?;
    // A Completed Deliverable can be reopened before sign-off: the client changed their mind.
    match ticket.status {
        TicketStatus::PendingApproval if !ticket.is_with_client() => {
            return Err(DomainError::TicketNotShared(ticket_id));
        }
        TicketStatus::PendingApproval | TicketStatus::CompletedDeliverable => {}
        TicketStatus::InProgress => {
            return Err(DomainError::WrongTicketStatus {
                action: "request revisions",
                status: ticket.status,
            });
        }
    }
    log_note(draft, ticket_id, feedback)?;
    let revision_round = ticket.revision_round + 1;
    draft.emit(Event::RevisionsRequested {
        ticket_id,
        kind,
        revision_round,
    });
    for part in [Part::Copy, Part::Graphic] {
        let touched = match part {
            Part::Copy => kind.touches_copy(),
            Part::Graphic => kind.touches_graphic(),
        };
        if touched {
            draft.assign(
                part.revision_task(),
                part.author(),
                Some(ticket_id),
                revision_round,
                None,
            );
        }
    }
    Ok(())
}

/// R13 and R20: the client approved this deliverable (or, after sign-off, the SAS tidies up).
pub(super) fn complete_deliverable(
    draft: &mut Draft<'_>,
    ticket_id: TicketId,
) -> Result<(), DomainError> {
    let ticket = ticket(draft, ticket_id)?;
    if ticket.status != TicketStatus::PendingApproval {
        return Err(DomainError::WrongTicketStatus {
            action: "complete the deliverable",
            status: ticket.status,
        });
    }
    let in_current_cycle = draft.state.cycle_of(ticket_id) == Some(draft.state.cycle.number);
    if in_current_cycle && draft.state.cycle.review_round == 0 {
        return Err(DomainError::NotYetReviewed);
    }
    // R16: a revised ticket goes back to the client with the next round, not before.
    if in_current_cycle && !ticket.is_with_client() {
        return Err(DomainError::TicketNotShared(ticket_id));
    }
    // R13: recording the client's approval is the AM's. R20: after sign-off (or once the
    // cycle closed) the SAS may tidy up the remaining tickets too.
    let actor = draft.context.actor;
    let is_am = actor
        .user_id()
        .is_some_and(|user| draft.state.team.holds(user, Role::AccountManager));
    let signed_off = !in_current_cycle
        || draft.state.status() == Some(RefreshStatus::CreativesCompletedAndApproved);
    if !actor.is_admin() && !is_am && !signed_off {
        return Err(DomainError::NotPermitted {
            action: "complete a deliverable before sign-off",
            allowed: "the Account Manager".to_owned(),
        });
    }
    draft.emit(Event::DeliverableCompleted { ticket_id });
    Ok(())
}
