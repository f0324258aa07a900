//! `decide`: a command, the state and the context in; the events it causes out, or a typed
//! refusal and nothing. Pure: no I/O, no clock.

pub(crate) mod automation;
mod draft;
mod refresh;
mod setup;
mod tickets;

use crate::command::{Command, Context};
use crate::error::DomainError;
use crate::event::Event;
use crate::permissions::authorize;
use crate::state::{Lifecycle, Portfolio};

pub use automation::next_trigger_date;
use draft::Draft;

/// Decides `command` against `state` (`None` before the portfolio exists).
pub fn decide(
    state: Option<&Portfolio>,
    command: &Command,
    context: &Context,
) -> Result<Vec<Event>, DomainError> {
    authorize(state, command, context.actor)?;
    decide_unchecked(state, command, context)
}

/// `decide` without the permission check, for previews that change nothing.
pub(crate) fn decide_unchecked(
    state: Option<&Portfolio>,
    command: &Command,
    context: &Context,
) -> Result<Vec<Event>, DomainError> {
    let mut draft = match (state, command) {
        (None, Command::CreatePortfolio { .. }) => setup::create(command, context)?,
        (None, _) => return Err(DomainError::PortfolioNotFound),
        (Some(_), Command::CreatePortfolio { .. }) => {
            return Err(DomainError::PortfolioAlreadyExists);
        }
        (Some(portfolio), command) => {
            let mut draft = Draft::new(portfolio.clone(), context);
            handle(&mut draft, command)?;
            draft
        }
    };
    automation::react(&mut draft);
    Ok(draft.into_events())
}

/// A paused or ended portfolio takes only what keeps its records straight: its lifecycle,
/// its team, Notes, and the tasks and tickets left from earlier cycles.
fn ensure_active_for(draft: &Draft<'_>, command: &Command) -> Result<(), DomainError> {
    let allowed_while_inactive = matches!(
        command,
        Command::ChangeTeam { .. }
            | Command::LogPortfolioNote { .. }
            | Command::LogTicketNote { .. }
            | Command::CompleteTask { .. }
            | Command::CompleteDeliverable { .. }
            | Command::Tick
    );
    match draft.state.lifecycle {
        Lifecycle::Active => Ok(()),
        Lifecycle::Paused(_)
            if allowed_while_inactive
                || matches!(
                    command,
                    Command::ResumePortfolio { .. } | Command::EndPortfolio
                ) =>
        {
            Ok(())
        }
        Lifecycle::Ended(_) if allowed_while_inactive => Ok(()),
        Lifecycle::Paused(since) => Err(DomainError::PortfolioPaused { since }),
        Lifecycle::Ended(since) => Err(DomainError::PortfolioEnded { since }),
    }
}

fn handle(draft: &mut Draft<'_>, command: &Command) -> Result<(), DomainError> {
    ensure_active_for(draft, command)?;
    match command {
        Command::CreatePortfolio { .. } => Err(DomainError::PortfolioAlreadyExists),
        Command::ChangeTeam { team } => setup::change_team(draft, *team),
        Command::Reschedule {
            cadence,
            refresh_date,
        } => setup::reschedule(draft, *cadence, *refresh_date),
        Command::PausePortfolio => setup::pause(draft),
        Command::ResumePortfolio { refresh_date } => setup::resume(draft, *refresh_date),
        Command::EndPortfolio => setup::end(draft),
        Command::CancelCycle { reason } => refresh::cancel(draft, reason),
        Command::WithdrawTicket { ticket_id } => tickets::withdraw(draft, *ticket_id),
        Command::CorrectDeliverableCount { deliverables } => {
            tickets::correct_count(draft, *deliverables)
        }
        Command::SendBackCopy { ticket_id, note } => {
            tickets::send_back(draft, *ticket_id, tickets::Part::Copy, note)
        }
        Command::SendBackGraphics { ticket_id, note } => {
            tickets::send_back(draft, *ticket_id, tickets::Part::Graphic, note)
        }
        Command::Tick => {
            draft.run_date_triggers();
            Ok(())
        }
        Command::LogPortfolioNote { text } => refresh::log_note(draft, text),
        Command::DeclineRefresh => refresh::decline(draft),
        Command::RequestRefresh { note } => refresh::request(draft, note.as_ref()),
        Command::MarkDeliverablesSubmitted => refresh::mark_deliverables_submitted(draft),
        Command::UpdateAdLabLink { link } => refresh::update_ad_lab_link(draft, link),
        Command::SignOff => refresh::sign_off(draft),
        Command::MarkCreativesImplemented => refresh::mark_implemented(draft),
        Command::CompleteTask { task_id } => refresh::complete_task(draft, *task_id),
        Command::CreateTicket {
            ticket_id,
            title,
            folder,
            deliverables,
        } => tickets::create(draft, *ticket_id, title, folder, *deliverables),
        Command::CloneTicket {
            ticket_id,
            source,
            title,
            folder,
            deliverables,
        } => tickets::clone(
            draft,
            *ticket_id,
            *source,
            title,
            folder.as_ref(),
            *deliverables,
        ),
        Command::EditTicket {
            ticket_id,
            title,
            folder,
            deliverables,
        } => tickets::edit(
            draft,
            *ticket_id,
            title.as_ref(),
            folder.as_ref(),
            *deliverables,
        ),
        Command::SubmitCopy { ticket_id } => {
            tickets::submit(draft, *ticket_id, tickets::Part::Copy)
        }
        Command::SubmitGraphics { ticket_id } => {
            tickets::submit(draft, *ticket_id, tickets::Part::Graphic)
        }
        Command::ApproveCopy { ticket_id } => {
            tickets::approve(draft, *ticket_id, tickets::Part::Copy)
        }
        Command::ApproveGraphics { ticket_id } => {
            tickets::approve(draft, *ticket_id, tickets::Part::Graphic)
        }
        Command::LogTicketNote { ticket_id, text } => tickets::log_note(draft, *ticket_id, text),
        Command::RequestRevisions {
            ticket_id,
            kind,
            feedback,
        } => tickets::request_revisions(draft, *ticket_id, *kind, feedback),
        Command::CompleteDeliverable { ticket_id } => {
            tickets::complete_deliverable(draft, *ticket_id)
        }
    }
}
