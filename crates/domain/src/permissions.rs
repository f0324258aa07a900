//! B4: each command is allowed to the roles the process gives it, and to Admins. Roles are
//! held per portfolio: a person is the AM of the portfolios whose team names them so.

use crate::command::Command;
use crate::error::DomainError;
use crate::state::Portfolio;
use crate::team::{Actor, Role};

/// Who may issue a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Admins only: setting up portfolios, teams and cadences.
    Admin,
    /// Freshet's own scheduler, or an Admin running it by hand.
    Automation,
    /// Whoever holds one of these roles on the portfolio's team.
    Roles(&'static [Role]),
    /// Anyone on the portfolio's team (Notes on tickets, R21).
    Team,
    /// The person the task is assigned to (checked against the task when deciding).
    TaskAssignee,
}

const AM: &[Role] = &[Role::AccountManager];
const SAS: &[Role] = &[Role::SocialAdSpecialist];
const AM_OR_SAS: &[Role] = &[Role::AccountManager, Role::SocialAdSpecialist];
const COPYWRITER: &[Role] = &[Role::Copywriter];
const DESIGNER: &[Role] = &[Role::Designer];
const TEAM_LEAD: &[Role] = &[Role::TeamLead];

pub fn permission(command: &Command) -> Permission {
    match command {
        Command::CreatePortfolio { .. }
        | Command::ChangeTeam { .. }
        | Command::Reschedule { .. }
        | Command::PausePortfolio
        | Command::ResumePortfolio { .. }
        | Command::EndPortfolio => Permission::Admin,
        Command::Tick => Permission::Automation,
        Command::DeclineRefresh
        | Command::RequestRefresh { .. }
        | Command::RequestRevisions { .. }
        | Command::SignOff
        | Command::CancelCycle { .. } => Permission::Roles(AM),
        Command::LogPortfolioNote { .. }
        | Command::CompleteDeliverable { .. }
        | Command::WithdrawTicket { .. }
        | Command::CorrectDeliverableCount { .. } => Permission::Roles(AM_OR_SAS),
        Command::CreateTicket { .. }
        | Command::CloneTicket { .. }
        | Command::EditTicket { .. }
        | Command::MarkDeliverablesSubmitted
        | Command::MarkCreativesImplemented => Permission::Roles(SAS),
        Command::SubmitCopy { .. } => Permission::Roles(COPYWRITER),
        Command::SubmitGraphics { .. } | Command::UpdateAdLabLink { .. } => {
            Permission::Roles(DESIGNER)
        }
        Command::ApproveCopy { .. }
        | Command::ApproveGraphics { .. }
        | Command::SendBackCopy { .. }
        | Command::SendBackGraphics { .. } => Permission::Roles(TEAM_LEAD),
        Command::LogTicketNote { .. } => Permission::Team,
        Command::CompleteTask { .. } => Permission::TaskAssignee,
    }
}

fn describe(roles: &[Role]) -> String {
    let names: Vec<String> = roles.iter().map(|role| format!("the {role}")).collect();
    names.join(" or ")
}

/// Refuses the command unless `actor` may issue it on `portfolio` (`None`: not created yet).
pub fn authorize(
    portfolio: Option<&Portfolio>,
    command: &Command,
    actor: Actor,
) -> Result<(), DomainError> {
    if actor.is_admin() {
        return Ok(());
    }
    let action = command.action();
    let user = match (permission(command), actor) {
        (Permission::Automation, Actor::System) => return Ok(()),
        (Permission::Admin, _) => {
            return Err(DomainError::NotPermitted {
                action,
                allowed: "an Admin".to_owned(),
            });
        }
        (Permission::Automation, Actor::User { .. }) => {
            return Err(DomainError::NotPermitted {
                action,
                allowed: "Freshet's scheduler or an Admin".to_owned(),
            });
        }
        (_, Actor::System) => {
            return Err(DomainError::NotPermitted {
                action,
                allowed: "a person on the portfolio's team".to_owned(),
            });
        }
        (_, Actor::User { id, .. }) => id,
    };
    let portfolio = portfolio.ok_or(DomainError::PortfolioNotFound)?;
    if !portfolio.team.includes(user) {
        return Err(DomainError::NotOnTeam);
    }
    match permission(command) {
        Permission::Roles(roles) if !roles.iter().any(|role| portfolio.team.holds(user, *role)) => {
            Err(
                self_approval_in_revision(portfolio, command, user).unwrap_or(
                    DomainError::NotPermitted {
                        action,
                        allowed: describe(roles),
                    },
                ),
            )
        }
        _ => Ok(()),
    }
}

/// R15: a Copywriter or Designer approving their own part in a revision round is told that
/// it approved itself, not that only the Team Lead may approve.
fn self_approval_in_revision(
    portfolio: &Portfolio,
    command: &Command,
    user: crate::ids::UserId,
) -> Option<DomainError> {
    let (ticket_id, author, part) = match command {
        Command::ApproveCopy { ticket_id } => (ticket_id, Role::Copywriter, "copy"),
        Command::ApproveGraphics { ticket_id } => (ticket_id, Role::Designer, "graphic"),
        _ => return None,
    };
    let ticket = portfolio.ticket(*ticket_id)?;
    (portfolio.team.holds(user, author) && ticket.revision_round > 0)
        .then_some(DomainError::ApprovesItself { part })
}
