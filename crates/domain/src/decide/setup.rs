//! Admin set-up: portfolios, teams, cadences.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::draft::Draft;
use crate::cadence::Cadence;
use crate::command::{Command, Context};
use crate::error::DomainError;
use crate::event::Event;
use crate::ids::UserId;
use crate::state::{Lifecycle, Portfolio};
use crate::status::RefreshStatus;
use crate::team::{Role, Team};
use crate::work::{EmailKind, KICKOFF_LEAD_DAYS, TaskKind};

pub(super) fn create<'c>(
    command: &Command,
    context: &'c Context,
) -> Result<Draft<'c>, DomainError> {
    let Command::CreatePortfolio {
        portfolio_id,
        client,
        team,
        cadence,
        refresh_date,
    } = command
    else {
        return Err(DomainError::PortfolioNotFound);
    };
    if *refresh_date < context.today {
        return Err(DomainError::RefreshDateInPast);
    }
    let created = Event::PortfolioCreated {
        portfolio_id: *portfolio_id,
        client: client.clone(),
        team: *team,
        cadence: *cadence,
        refresh_date: *refresh_date,
        on: Some(context.today),
    };
    let state = Portfolio::evolve(None, &created).map_err(|_| DomainError::PortfolioNotFound)?;
    // R2: a portfolio created with a date already 15 or fewer days away is kicked off now.
    Ok(Draft::starting_with(state, context, created))
}

/// Open work follows its role to the new person, who is told by email which tasks moved.
pub(super) fn change_team(draft: &mut Draft<'_>, team: Team) -> Result<(), DomainError> {
    if draft.state.team == team {
        return Ok(());
    }
    let mut moved: BTreeMap<UserId, (Role, Vec<String>)> = BTreeMap::new();
    for task in draft.state.open_tasks.values() {
        let holder = team.member(task.role);
        if holder != task.assignee {
            let entry = moved
                .entry(holder)
                .or_insert_with(|| (task.role, Vec::new()));
            entry.1.push(task.kind.title().to_owned());
        }
    }
    draft.emit(Event::TeamChanged { team });
    let cycle = draft.state.cycle.number;
    let round = draft.state.team_changes;
    for (role, tasks) in moved.into_values() {
        let mut details = draft.email_details();
        details.tasks = tasks;
        draft.email(EmailKind::WorkReassigned, &[role], cycle, round, &details);
    }
    Ok(())
}

/// A new cadence is taken at any time and applies when the cycle closes (it only counts
/// then); a new date only before the cycle's work has started. A date moved more than the
/// kickoff lead away before the AM decided resets the kickoff; a nearer one moves the open
/// kickoff task's due date.
pub(super) fn reschedule(
    draft: &mut Draft<'_>,
    cadence: Cadence,
    refresh_date: NaiveDate,
) -> Result<(), DomainError> {
    let cycle = draft.state.cycle.clone();
    let date_changes = draft.state.refresh_date() != refresh_date;
    let downstream_started = cycle.handed_off
        || cycle
            .status
            .is_some_and(|s| s != RefreshStatus::RefreshRequestSubmitted)
        || draft.state.current_ad_set().is_some();
    if date_changes && downstream_started {
        return Err(DomainError::WrongStatus {
            action: "move the refresh date",
            status: cycle.status,
        });
    }
    if date_changes && refresh_date < draft.today() {
        return Err(DomainError::RefreshDateInPast);
    }
    if !date_changes && draft.state.schedule.cadence == cadence {
        return Ok(());
    }
    draft.emit(Event::PortfolioRescheduled {
        cadence,
        refresh_date,
    });
    if date_changes && cycle.kicked_off && cycle.status.is_none() {
        let days_away = (refresh_date - draft.today()).num_days();
        if days_away > KICKOFF_LEAD_DAYS {
            draft.emit(Event::KickoffReset {
                cycle: cycle.number,
            });
        } else {
            let kickoff_tasks: Vec<_> = draft
                .state
                .open_tasks
                .values()
                .filter(|task| task.kind == TaskKind::ReachOutToClient)
                .map(|task| task.id)
                .collect();
            for task_id in kickoff_tasks {
                draft.emit(Event::TaskDueChanged {
                    task_id,
                    due: refresh_date,
                });
            }
        }
    }
    draft.run_date_triggers();
    Ok(())
}

/// The client is on hold: the open cycle's tasks close and nothing is scheduled. A cycle
/// with tickets is cancelled first, so that the creatives are told.
pub(super) fn pause(draft: &mut Draft<'_>) -> Result<(), DomainError> {
    if draft.state.current_ad_set().is_some() {
        return Err(DomainError::CancelCycleFirst);
    }
    draft.emit(Event::PortfolioPaused {
        cycle: draft.state.cycle.number,
        on: draft.today(),
    });
    Ok(())
}

/// Back from hold on `refresh_date`, or on the schedule's first date after today (the
/// client keeps their day of the month). The kickoff fires at once if that date is near.
pub(super) fn resume(
    draft: &mut Draft<'_>,
    refresh_date: Option<NaiveDate>,
) -> Result<(), DomainError> {
    if !matches!(draft.state.lifecycle, Lifecycle::Paused(_)) {
        return Err(DomainError::NotPaused);
    }
    let today = draft.today();
    let refresh_date = match refresh_date {
        Some(date) if date < today => return Err(DomainError::RefreshDateInPast),
        Some(date) => date,
        None => draft.state.schedule.first_after(today).refresh_date(),
    };
    draft.emit(Event::PortfolioResumed {
        refresh_date,
        on: today,
    });
    draft.run_date_triggers();
    Ok(())
}

/// The client left: every open task closes and nothing is scheduled any more.
pub(super) fn end(draft: &mut Draft<'_>) -> Result<(), DomainError> {
    draft.emit(Event::PortfolioEnded {
        cycle: draft.state.cycle.number,
        on: draft.today(),
    });
    Ok(())
}
