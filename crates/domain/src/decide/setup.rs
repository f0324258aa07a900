//! Admin set-up: portfolios, teams, cadences.

use chrono::NaiveDate;

use super::draft::Draft;
use crate::cadence::Cadence;
use crate::command::{Command, Context};
use crate::error::DomainError;
use crate::event::Event;
use crate::state::Portfolio;
use crate::status::RefreshStatus;
use crate::team::Team;

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
    };
    let state = Portfolio::evolve(None, &created).map_err(|_| DomainError::PortfolioNotFound)?;
    // R2: a portfolio created with a date already 15 or fewer days away is kicked off now.
    Ok(Draft::starting_with(state, context, created))
}

pub(super) fn change_team(draft: &mut Draft<'_>, team: Team) -> Result<(), DomainError> {
    if draft.state.team != team {
        draft.emit(Event::TeamChanged { team });
    }
    Ok(())
}

pub(super) fn reschedule(
    draft: &mut Draft<'_>,
    cadence: Cadence,
    refresh_date: NaiveDate,
) -> Result<(), DomainError> {
    let cycle = &draft.state.cycle;
    let downstream_started = cycle.handed_off
        || cycle
            .status
            .is_some_and(|s| s != RefreshStatus::RefreshRequestSubmitted)
        || draft.state.current_ad_set().is_some();
    if downstream_started {
        return Err(DomainError::WrongStatus {
            action: "reschedule the refresh",
            status: cycle.status,
        });
    }
    if refresh_date < draft.today() {
        return Err(DomainError::RefreshDateInPast);
    }
    if draft.state.schedule.cadence != cadence || draft.state.refresh_date() != refresh_date {
        draft.emit(Event::PortfolioRescheduled {
            cadence,
            refresh_date,
        });
        draft.run_date_triggers();
    }
    Ok(())
}
