//! The Creative Refresh Status gates: the AM's decision (R4, R5), the SAS's submission (R9),
//! sign-off (R17) and implementation (R18, R19); plus portfolio Notes and tasks.

use super::draft::Draft;
use crate::error::DomainError;
use crate::event::{Event, ImplementationPath};
use crate::ids::{NoteId, TaskId};
use crate::status::{RefreshStatus, TicketStatus};
use crate::team::Role;
use crate::values::{AdLabLink, NoteText};
use crate::work::{EmailKind, TaskKind};

pub(super) fn log_note(draft: &mut Draft<'_>, text: &NoteText) -> Result<(), DomainError> {
    log_note_as(draft, text, None)
}

/// Logs a portfolio Note; an Admin who is not on the team writes as `acting_for`, if given.
fn log_note_as(
    draft: &mut Draft<'_>,
    text: &NoteText,
    acting_for: Option<Role>,
) -> Result<(), DomainError> {
    let author = draft
        .context
        .actor
        .user_id()
        .ok_or(DomainError::NotOnTeam)?;
    let team = draft.state.team;
    let author_role = [Role::AccountManager, Role::SocialAdSpecialist]
        .into_iter()
        .find(|role| team.holds(author, *role))
        .or(acting_for.filter(|_| draft.context.actor.is_admin()));
    let note_id = NoteId::derive(draft.state.id, draft.state.notes_logged + 1);
    draft.emit(Event::PortfolioNoteLogged {
        note_id,
        author,
        author_role,
        text: text.clone(),
        logged_at: draft.context.now,
    });
    Ok(())
}

/// R4: the client declines. The cycle ends at once and the date moves by the cadence.
pub(super) fn decline(draft: &mut Draft<'_>) -> Result<(), DomainError> {
    let status = draft.state.status();
    if !matches!(status, None | Some(RefreshStatus::RefreshRequestSubmitted)) {
        return Err(DomainError::WrongStatus {
            action: "decline the refresh",
            status,
        });
    }
    if draft.state.current_ad_set().is_some() {
        return Err(DomainError::TicketsAlreadyCreated);
    }
    draft.emit(Event::RefreshDeclined {
        cycle: draft.state.cycle.number,
        next_refresh_date: draft.state.schedule.next_refresh_date(),
    });
    draft.run_date_triggers();
    Ok(())
}

/// R5: the client wants a refresh; a notation only, no task and no email.
pub(super) fn request(draft: &mut Draft<'_>, note: Option<&NoteText>) -> Result<(), DomainError> {
    let status = draft.state.status();
    if status.is_some() {
        return Err(DomainError::WrongStatus {
            action: "submit the refresh request",
            status,
        });
    }
    if let Some(text) = note {
        // An Admin submitting the request acts as the AM (B4), and so does their Note.
        log_note_as(draft, text, Some(Role::AccountManager))?;
    }
    if !draft.state.cycle.am_noted {
        return Err(DomainError::NoteRequired);
    }
    draft.emit(Event::RefreshRequested {
        cycle: draft.state.cycle.number,
    });
    Ok(())
}

/// R9: all tickets exist; the SAS notes it. No automation fires.
pub(super) fn mark_deliverables_submitted(draft: &mut Draft<'_>) -> Result<(), DomainError> {
    let status = draft.state.status();
    let underway =
        draft.state.cycle.handed_off || status == Some(RefreshStatus::RefreshRequestSubmitted);
    if !matches!(status, None | Some(RefreshStatus::RefreshRequestSubmitted)) {
        return Err(DomainError::WrongStatus {
            action: "mark the deliverables submitted",
            status,
        });
    }
    if !underway {
        return Err(DomainError::CycleNotUnderway {
            action: "mark the deliverables submitted",
        });
    }
    ensure_ad_set_complete(draft)?;
    draft.emit(Event::DeliverablesSubmitted {
        cycle: draft.state.cycle.number,
    });
    Ok(())
}

fn ensure_ad_set_complete(draft: &Draft<'_>) -> Result<(), DomainError> {
    let set = draft
        .state
        .current_ad_set()
        .ok_or(DomainError::AdSetNotStarted)?;
    if set.is_complete() {
        Ok(())
    } else {
        Err(DomainError::AdSetIncomplete {
            created: set.created(),
            count: set.deliverables.get(),
        })
    }
}

pub(super) fn update_ad_lab_link(
    draft: &mut Draft<'_>,
    link: &AdLabLink,
) -> Result<(), DomainError> {
    if draft.state.ad_lab_link.as_ref() != Some(link) {
        draft.emit(Event::AdLabLinkUpdated { link: link.clone() });
    }
    Ok(())
}

/// R17: only the AM, and only with no revision outstanding.
pub(super) fn sign_off(draft: &mut Draft<'_>) -> Result<(), DomainError> {
    let status = draft.state.status();
    if status != Some(RefreshStatus::CreativesPendingApproval) {
        return Err(DomainError::WrongStatus {
            action: "sign off the creatives",
            status,
        });
    }
    ensure_ad_set_complete(draft)?;
    let in_progress = draft
        .state
        .current_ad_set()
        .map_or(0, |set| set.count_with(TicketStatus::InProgress));
    if in_progress > 0 {
        return Err(DomainError::RevisionsOutstanding { in_progress });
    }
    let cycle = draft.state.cycle.number;
    draft.emit(Event::CreativesApproved {
        cycle,
        on: draft.today(),
    });
    let due = draft.days_from_today(draft.context.deadlines.implementation);
    draft.assign(
        TaskKind::ImplementNewCreatives,
        Role::SocialAdSpecialist,
        None,
        0,
        Some(due),
    );
    let details = draft.email_details();
    draft.email(
        EmailKind::CreativesApproved,
        &[Role::SocialAdSpecialist],
        cycle,
        0,
        &details,
    );
    Ok(())
}

/// R18, manual path: the SAS moves the status to Creatives Implemented.
pub(super) fn mark_implemented(draft: &mut Draft<'_>) -> Result<(), DomainError> {
    implement(draft, ImplementationPath::StatusMoved)
}

/// R18 and R19: either path, exactly once, only from Creatives Completed & Approved.
fn implement(draft: &mut Draft<'_>, via: ImplementationPath) -> Result<(), DomainError> {
    let status = draft.state.status();
    if status != Some(RefreshStatus::CreativesCompletedAndApproved) {
        return Err(DomainError::WrongStatus {
            action: "mark the creatives implemented",
            status,
        });
    }
    let cycle = draft.state.cycle.number;
    let next_refresh_date = draft.state.schedule.next_refresh_date();
    let mut details = draft.email_details();
    details.next_refresh_date = Some(next_refresh_date);
    draft.emit(Event::CreativesImplemented {
        cycle,
        via,
        next_refresh_date,
    });
    draft.email(
        EmailKind::CreativesLive,
        &[Role::AccountManager],
        cycle,
        0,
        &details,
    );
    draft.assign_in_cycle(
        cycle,
        TaskKind::ConfirmAdsRunning,
        Role::AccountManager,
        None,
        0,
        None,
    );
    draft.run_date_triggers();
    Ok(())
}

pub(super) fn complete_task(draft: &mut Draft<'_>, task_id: TaskId) -> Result<(), DomainError> {
    let Some(task) = draft.state.open_tasks.get(&task_id).cloned() else {
        return Err(if draft.state.done_tasks.contains(&task_id) {
            DomainError::TaskAlreadyDone(task_id)
        } else {
            DomainError::TaskNotFound(task_id)
        });
    };
    let actor = draft.context.actor;
    if !actor.is_admin() && actor.user_id() != Some(task.assignee) {
        return Err(DomainError::NotYourTask {
            task: task_id,
            role: task.role,
        });
    }
    match task.kind {
        TaskKind::WriteCopy
        | TaskKind::CreateGraphics
        | TaskKind::ReviewCopy
        | TaskKind::ReviewGraphics
        | TaskKind::ReviseCopy
        | TaskKind::ReviseGraphics => Err(DomainError::TaskCompletesByItself),
        TaskKind::CreateDeliverables => {
            // R9: the submission task is done when every ticket exists.
            ensure_ad_set_complete(draft)?;
            draft.complete_task(task_id);
            Ok(())
        }
        TaskKind::ImplementNewCreatives => {
            // R18, preferred path: completing the task implements.
            draft.complete_task(task_id);
            implement(draft, ImplementationPath::TaskCompleted)
        }
        TaskKind::ReachOutToClient
        | TaskKind::ShareDraftedDeliverables
        | TaskKind::ConfirmAdsRunning
        | TaskKind::StallAlert(_) => {
            draft.complete_task(task_id);
            Ok(())
        }
    }
}
