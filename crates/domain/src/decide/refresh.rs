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
    let cycle = draft.state.cycle.number;
    if draft.state.cycle.handed_off {
        // The SAS was already asked for the tickets: their task is void, and they are told.
        let details = draft.email_details();
        draft.email(
            EmailKind::HandoffVoided,
            &[Role::SocialAdSpecialist],
            cycle,
            0,
            &details,
        );
    }
    let today = draft.today();
    draft.emit(Event::RefreshDeclined {
        cycle,
        next_refresh_date: draft.state.schedule.after_close(Some(today)).refresh_date(),
        on: Some(today),
    });
    draft.run_date_triggers();
    Ok(())
}

/// The client withdrew after the tickets were created: the tickets and every open task of
/// the cycle close, the SAS and the Creative Team are told, and the date moves by the
/// cadence. The AM's reason is kept as a Note.
pub(super) fn cancel(draft: &mut Draft<'_>, reason: &NoteText) -> Result<(), DomainError> {
    if draft.state.current_ad_set().is_none() {
        return Err(DomainError::NothingToCancel);
    }
    log_note_as(draft, reason, Some(Role::AccountManager))?;
    let cycle = draft.state.cycle.number;
    let details = draft.email_details();
    draft.email(
        EmailKind::CycleCancelled,
        &[
            Role::SocialAdSpecialist,
            Role::Copywriter,
            Role::Designer,
            Role::TeamLead,
        ],
        cycle,
        0,
        &details,
    );
    let today = draft.today();
    draft.emit(Event::CycleCancelled {
        cycle,
        next_refresh_date: draft.state.schedule.after_close(Some(today)).refresh_date(),
        on: today,
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
        on: Some(draft.today()),
    });
    Ok(())
}

/// R9: all tickets exist; the SAS notes it. No automation fires. Never before the AM's
/// decision: that gate is the AM's alone.
pub(super) fn mark_deliverables_submitted(draft: &mut Draft<'_>) -> Result<(), DomainError> {
    let action = "mark the deliverables submitted";
    match draft.state.status() {
        Some(RefreshStatus::RefreshRequestSubmitted) => {}
        None => return Err(DomainError::AmDecisionMissing { action }),
        status => return Err(DomainError::WrongStatus { action, status }),
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
    if draft.state.current_ad_lab_link() != Some(link) {
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
    let today = draft.today();
    let next_refresh_date = draft.state.schedule.after_close(Some(today)).refresh_date();
    let mut details = draft.email_details();
    details.next_refresh_date = Some(next_refresh_date);
    draft.emit(Event::CreativesImplemented {
        cycle,
        via,
        next_refresh_date,
        on: Some(today),
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
        | TaskKind::ReviseGraphics
        | TaskKind::ReworkCopy
        | TaskKind::ReworkGraphics => Err(DomainError::TaskCompletesByItself {
            how: "the work on its ticket is done",
        }),
        // The AM's decision is a gate only the AM opens (or an Admin acting for the AM).
        TaskKind::ReachOutToClient => Err(DomainError::TaskCompletesByItself {
            how: "the Account Manager declines or submits the refresh request",
        }),
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
        TaskKind::ShareDraftedDeliverables
        | TaskKind::ConfirmAdsRunning
        | TaskKind::StallAlert(_) => {
            draft.complete_task(task_id);
            Ok(())
        }
    }
}
