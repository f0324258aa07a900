#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.
//! B4: each command is allowed to the roles the process gives it, and to Admins.
mod support;

use freshet_domain::permissions::{Permission, permission};
use freshet_domain::*;
use support::*;

fn every_command(ticket: TicketId, task: TaskId) -> Vec<Command> {
    vec![
        Command::ChangeTeam { team: team() },
        Command::Reschedule {
            cadence: monthly(),
            refresh_date: date(2027, 6, 1),
        },
        Command::Tick,
        Command::LogPortfolioNote { text: note("n") },
        Command::DeclineRefresh,
        Command::RequestRefresh {
            note: Some(note("n")),
        },
        Command::CreateTicket {
            ticket_id: ticket_id(50),
            title: title("t"),
            folder: folder("f"),
            deliverables: count(1),
        },
        Command::CloneTicket {
            ticket_id: ticket_id(51),
            source: ticket,
            title: title("t"),
            folder: None,
            deliverables: None,
        },
        Command::EditTicket {
            ticket_id: ticket,
            title: Some(title("t2")),
            folder: None,
            deliverables: None,
        },
        Command::MarkDeliverablesSubmitted,
        Command::SubmitCopy { ticket_id: ticket },
        Command::SubmitGraphics { ticket_id: ticket },
        Command::ApproveCopy { ticket_id: ticket },
        Command::ApproveGraphics { ticket_id: ticket },
        Command::UpdateAdLabLink {
            link: AdLabLink::parse("https://adlab.example/x").unwrap(),
        },
        Command::LogTicketNote {
            ticket_id: ticket,
            text: note("q"),
        },
        Command::RequestRevisions {
            ticket_id: ticket,
            kind: RevisionKind::CopyOnly,
            feedback: note("f"),
        },
        Command::CompleteDeliverable { ticket_id: ticket },
        Command::SignOff,
        Command::MarkCreativesImplemented,
        Command::CompleteTask { task_id: task },
    ]
}

/// B4 as the process documents give it, written out here rather than read from the code
/// under test.
fn allowed_roles(command: &Command) -> Vec<Role> {
    use Role::*;
    match command {
        Command::CreatePortfolio { .. }
        | Command::ChangeTeam { .. }
        | Command::Reschedule { .. }
        | Command::Tick => vec![],
        Command::LogPortfolioNote { .. } | Command::CompleteDeliverable { .. } => {
            vec![AccountManager, SocialAdSpecialist]
        }
        Command::DeclineRefresh
        | Command::RequestRefresh { .. }
        | Command::RequestRevisions { .. }
        | Command::SignOff => vec![AccountManager],
        Command::CreateTicket { .. }
        | Command::CloneTicket { .. }
        | Command::EditTicket { .. }
        | Command::MarkDeliverablesSubmitted
        | Command::MarkCreativesImplemented => vec![SocialAdSpecialist],
        Command::SubmitCopy { .. } => vec![Copywriter],
        Command::SubmitGraphics { .. } | Command::UpdateAdLabLink { .. } => vec![Designer],
        Command::ApproveCopy { .. } | Command::ApproveGraphics { .. } => vec![TeamLead],
        // R21: anyone on the team; a task: its assignee, whoever that is.
        Command::LogTicketNote { .. } | Command::CompleteTask { .. } => Role::ALL.to_vec(),
    }
}

#[test]
fn b4_the_permission_table_matches_the_process() {
    let mut base = Given::portfolio();
    let tickets = base.with_tickets(1);
    for command in every_command(tickets[0], TaskId::derive(base.portfolio_id, "x")) {
        let declared = match permission(&command) {
            Permission::Admin | Permission::Automation => vec![],
            Permission::Roles(roles) => roles.to_vec(),
            Permission::Team | Permission::TaskAssignee => Role::ALL.to_vec(),
        };
        assert_eq!(declared, allowed_roles(&command), "{command:?}");
    }
}

fn is_permission_refusal(error: &DomainError) -> bool {
    matches!(
        error,
        DomainError::NotPermitted { .. } | DomainError::NotOnTeam | DomainError::NotYourTask { .. }
    )
}

// B4: every command, every role: the refusal is a permission error exactly when the role is
// not among the allowed ones, and a refused command emits nothing.
#[test]
fn b4_every_command_is_allowed_to_its_roles_only() {
    let mut base = Given::portfolio();
    let tickets = base.with_tickets(1);
    let kickoff = base
        .state()
        .done_tasks
        .iter()
        .next()
        .copied()
        .expect("a done task");
    let people = [
        (Role::AccountManager, AM),
        (Role::SocialAdSpecialist, SAS),
        (Role::Copywriter, COPYWRITER),
        (Role::Designer, DESIGNER),
        (Role::TeamLead, TEAM_LEAD),
    ];
    for command in every_command(tickets[0], kickoff) {
        let allowed = allowed_roles(&command);
        for (role, who) in people {
            let mut given = Given {
                history: base.history.clone(),
                today: base.today,
                deadlines: base.deadlines,
                portfolio_id: base.portfolio_id,
            };
            let before = given.history.len();
            let outcome = given.when(Actor::user(user(who)), command.clone());
            match outcome {
                Err(error) if is_permission_refusal(&error) => {
                    assert!(
                        !allowed.contains(&role)
                            || matches!(error, DomainError::NotYourTask { .. }),
                        "{role} refused {command:?}: {error}"
                    );
                    assert_eq!(given.history.len(), before);
                }
                Err(error) => assert!(
                    allowed.contains(&role),
                    "{role} got {error} instead of a permission refusal for {command:?}"
                ),
                Ok(_) => assert!(allowed.contains(&role), "{role} was allowed {command:?}"),
            }
        }
    }
}

// B4
#[test]
fn b4_someone_not_on_the_team_is_refused_everything() {
    let mut given = Given::portfolio();
    let tickets = given.with_tickets(1);
    for command in every_command(tickets[0], TaskId::derive(given.portfolio_id, "x")) {
        let error = given.refused(OUTSIDER, command.clone());
        assert!(is_permission_refusal(&error), "{command:?}: {error}");
    }
}

// B4
#[test]
fn b4_admin_commands_are_refused_to_the_team_and_allowed_to_admins() {
    let mut given = Given::portfolio();
    let error = given.refused(
        AM,
        Command::Reschedule {
            cadence: monthly(),
            refresh_date: date(2027, 5, 1),
        },
    );
    assert_eq!(
        error,
        DomainError::NotPermitted {
            action: "reschedule the refresh",
            allowed: "an Admin".to_owned()
        }
    );
    given.admin(Command::Reschedule {
        cadence: monthly(),
        refresh_date: date(2027, 5, 1),
    });
    assert_eq!(given.state().refresh_date(), date(2027, 5, 1));
}

// B4
#[test]
fn b4_an_admin_may_act_for_any_role() {
    let mut given = Given::portfolio();
    given.in_client_review(1);
    given.admin(Command::SignOff);
    assert_eq!(
        given.state().status(),
        Some(RefreshStatus::CreativesCompletedAndApproved)
    );
}

// B4
#[test]
fn b4_a_task_can_be_completed_only_by_its_assignee() {
    let mut given = Given::portfolio();
    given.in_client_review(1);
    let share = given.open_task(TaskKind::ShareDraftedDeliverables).unwrap();
    let error = given.refused(SAS, Command::CompleteTask { task_id: share.id });
    assert_eq!(
        error,
        DomainError::NotYourTask {
            task: share.id,
            role: Role::AccountManager
        }
    );
    given.by(AM, Command::CompleteTask { task_id: share.id });
}

// B4
#[test]
fn b4_the_scheduler_runs_only_the_date_triggers() {
    let mut given = Given::portfolio();
    let error = given
        .when(Actor::System, Command::SignOff)
        .expect_err("the system does not sign off");
    assert_eq!(error.code(), "not-permitted");
    assert_eq!(given.refused(AM, Command::Tick).code(), "not-permitted");
}

// B4, R5: an Admin may submit the request for the AM, with the client's direction as the
// AM's Note the SAS will read.
#[test]
fn b4_an_admin_may_submit_the_request_with_the_note_for_the_am() {
    let mut given = Given::portfolio();
    given.admin(Command::RequestRefresh {
        note: Some(note("Client called the office: go ahead.")),
    });
    let state = given.state();
    assert_eq!(state.status(), Some(RefreshStatus::RefreshRequestSubmitted));
    assert_eq!(
        state.latest_am_note().map(|n| n.text.as_str()),
        Some("Client called the office: go ahead.")
    );
}
