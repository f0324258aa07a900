#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.
//! B4: each command is allowed to the roles the process gives it, and to Admins.
mod support;

use freshet_domain::permissions::{Permission, permission};
use freshet_domain::*;
use support::*;

/// A portfolio's history at a point of the process, as `Given` builds it.
type Setup = fn(&mut Given);

fn at_start(_: &mut Given) {}

fn kicked_off(given: &mut Given) {
    given.tick_on(date(2027, 3, 1));
}

fn requested(given: &mut Given) {
    given.kicked_off_and_requested();
}

fn first_of_two(given: &mut Given) {
    given.with_first_ticket_of(2);
}

fn one_ticket(given: &mut Given) {
    given.with_tickets(1);
}

fn two_tickets(given: &mut Given) {
    given.with_tickets(2);
}

fn copy_and_graphics_submitted(given: &mut Given) {
    given.with_tickets(1);
    given.by(
        COPYWRITER,
        Command::SubmitCopy {
            ticket_id: ticket_id(1),
        },
    );
    given.by(
        DESIGNER,
        Command::SubmitGraphics {
            ticket_id: ticket_id(1),
        },
    );
}

fn in_client_review(given: &mut Given) {
    given.in_client_review(1);
}

fn signed_off(given: &mut Given) {
    given.signed_off(1);
}

fn paused(given: &mut Given) {
    given.admin(Command::PausePortfolio);
}

/// The share task the AM is given when the Ad Set reaches the client (R11).
fn share_task(given: &Given) -> TaskId {
    given
        .open_task(TaskKind::ShareDraftedDeliverables)
        .expect("a share task")
        .id
}

/// Every command, each in a state where it succeeds for the roles the process gives it, so
/// that a refusal of any other role is about the role and nothing else (B4).
fn every_command_where_it_succeeds() -> Vec<(Setup, Command)> {
    let first = ticket_id(1);
    let mut other_team = team();
    other_team.copywriter = user(8);
    vec![
        (at_start, Command::ChangeTeam { team: other_team }),
        (
            at_start,
            Command::Reschedule {
                cadence: monthly(),
                refresh_date: date(2027, 6, 1),
            },
        ),
        (at_start, Command::PausePortfolio),
        (paused, Command::ResumePortfolio { refresh_date: None }),
        (at_start, Command::EndPortfolio),
        (kicked_off, Command::Tick),
        (at_start, Command::LogPortfolioNote { text: note("n") }),
        (kicked_off, Command::DeclineRefresh),
        (
            kicked_off,
            Command::RequestRefresh {
                note: Some(note("n")),
            },
        ),
        (
            requested,
            Command::CreateTicket {
                ticket_id: ticket_id(50),
                title: title("t"),
                folder: folder("f"),
                deliverables: count(1),
            },
        ),
        (
            first_of_two,
            Command::CloneTicket {
                ticket_id: ticket_id(51),
                source: first,
                title: title("t"),
                folder: None,
                deliverables: None,
            },
        ),
        (
            one_ticket,
            Command::EditTicket {
                ticket_id: first,
                title: Some(title("t2")),
                folder: None,
                deliverables: None,
            },
        ),
        (one_ticket, Command::MarkDeliverablesSubmitted),
        (
            two_tickets,
            Command::WithdrawTicket {
                ticket_id: ticket_id(2),
            },
        ),
        (
            first_of_two,
            Command::CorrectDeliverableCount {
                deliverables: count(1),
            },
        ),
        (one_ticket, Command::SubmitCopy { ticket_id: first }),
        (one_ticket, Command::SubmitGraphics { ticket_id: first }),
        (
            copy_and_graphics_submitted,
            Command::ApproveCopy { ticket_id: first },
        ),
        (
            copy_and_graphics_submitted,
            Command::ApproveGraphics { ticket_id: first },
        ),
        (
            copy_and_graphics_submitted,
            Command::SendBackCopy {
                ticket_id: first,
                note: note("Headline too long"),
            },
        ),
        (
            copy_and_graphics_submitted,
            Command::SendBackGraphics {
                ticket_id: first,
                note: note("Logo is cut off"),
            },
        ),
        (
            at_start,
            Command::UpdateAdLabLink {
                link: AdLabLink::parse("https://adlab.example/x").unwrap(),
            },
        ),
        (
            one_ticket,
            Command::LogTicketNote {
                ticket_id: first,
                text: note("q"),
            },
        ),
        (
            in_client_review,
            Command::RequestRevisions {
                ticket_id: first,
                kind: RevisionKind::CopyOnly,
                feedback: note("f"),
            },
        ),
        (
            signed_off,
            Command::CompleteDeliverable { ticket_id: first },
        ),
        (in_client_review, Command::SignOff),
        (
            one_ticket,
            Command::CancelCycle {
                reason: note("The client withdrew"),
            },
        ),
        (signed_off, Command::MarkCreativesImplemented),
        // `prepared` puts the AM's share task in place of the nil id.
        (
            in_client_review,
            Command::CompleteTask {
                task_id: TaskId::from_uuid(uuid::Uuid::nil()),
            },
        ),
    ]
}

/// B4 as the process documents give it, written out here rather than read from the code
/// under test. `CompleteTask` is its task's assignee's alone.
fn allowed_roles(command: &Command) -> Vec<Role> {
    use Role::*;
    match command {
        Command::CreatePortfolio { .. }
        | Command::ChangeTeam { .. }
        | Command::Reschedule { .. }
        | Command::PausePortfolio
        | Command::ResumePortfolio { .. }
        | Command::EndPortfolio
        | Command::Tick => vec![],
        Command::LogPortfolioNote { .. }
        | Command::CompleteDeliverable { .. }
        | Command::WithdrawTicket { .. }
        | Command::CorrectDeliverableCount { .. } => vec![AccountManager, SocialAdSpecialist],
        Command::DeclineRefresh
        | Command::RequestRefresh { .. }
        | Command::RequestRevisions { .. }
        | Command::SignOff
        | Command::CancelCycle { .. } => vec![AccountManager],
        Command::CreateTicket { .. }
        | Command::CloneTicket { .. }
        | Command::EditTicket { .. }
        | Command::MarkDeliverablesSubmitted
        | Command::MarkCreativesImplemented => vec![SocialAdSpecialist],
        Command::SubmitCopy { .. } => vec![Copywriter],
        Command::SubmitGraphics { .. } | Command::UpdateAdLabLink { .. } => vec![Designer],
        Command::ApproveCopy { .. }
        | Command::ApproveGraphics { .. }
        | Command::SendBackCopy { .. }
        | Command::SendBackGraphics { .. } => vec![TeamLead],
        // R21: anyone on the team.
        Command::LogTicketNote { .. } => Role::ALL.to_vec(),
        // The share task of the example is the AM's.
        Command::CompleteTask { .. } => vec![AccountManager],
    }
}

/// The given state, and the command with the share task's real id where it names a task.
fn prepared(setup: Setup, command: &Command) -> (Given, Command) {
    let mut given = Given::portfolio();
    setup(&mut given);
    let command = match command {
        Command::CompleteTask { .. } => Command::CompleteTask {
            task_id: share_task(&given),
        },
        other => other.clone(),
    };
    (given, command)
}

#[test]
fn b4_the_permission_table_matches_the_process() {
    for (_, command) in every_command_where_it_succeeds() {
        let declared = match permission(&command) {
            Permission::Admin | Permission::Automation => vec![],
            Permission::Roles(roles) => roles.to_vec(),
            Permission::Team => Role::ALL.to_vec(),
            Permission::TaskAssignee => vec![Role::AccountManager],
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

// B4: every command, every role, in a state where the command succeeds for its roles: the
// allowed roles succeed, every other role gets a permission refusal and nothing changes, and
// an Admin may act for anyone.
#[test]
fn b4_every_command_is_allowed_to_its_roles_only() {
    let people = [
        (Role::AccountManager, AM),
        (Role::SocialAdSpecialist, SAS),
        (Role::Copywriter, COPYWRITER),
        (Role::Designer, DESIGNER),
        (Role::TeamLead, TEAM_LEAD),
    ];
    for (setup, command) in every_command_where_it_succeeds() {
        let allowed = allowed_roles(&command);
        for (role, who) in people {
            let (mut given, command) = prepared(setup, &command);
            let before = given.history.len();
            match given.decide_as(Actor::user(user(who)), command.clone()) {
                Ok(_) => assert!(allowed.contains(&role), "{role} was allowed {command:?}"),
                Err(error) if allowed.contains(&role) => {
                    panic!("{role} may {command:?} but was refused: {error}")
                }
                Err(error) => {
                    assert!(
                        is_permission_refusal(&error),
                        "{role} got {error} for {command:?}"
                    );
                    assert_eq!(given.history.len(), before, "a refusal changes nothing");
                }
            }
        }
        let (mut given, command) = prepared(setup, &command);
        let as_admin = if command == Command::Tick {
            given.decide_as(Actor::System, command.clone())
        } else {
            given.decide_as(Actor::admin(user(ADMIN)), command.clone())
        };
        assert!(as_admin.is_ok(), "an Admin may {command:?}: {as_admin:?}");
    }
}

// B4
#[test]
fn b4_someone_not_on_the_team_is_refused_everything() {
    for (setup, command) in every_command_where_it_succeeds() {
        let (mut given, command) = prepared(setup, &command);
        given
            .when(OUTSIDER, command.clone())
            .then_refused_with(is_permission_refusal);
    }
}

// B4
#[test]
fn b4_admin_commands_are_refused_to_the_team_and_allowed_to_admins() {
    let mut given = Given::portfolio();
    given
        .when(
            AM,
            Command::Reschedule {
                cadence: monthly(),
                refresh_date: date(2027, 5, 1),
            },
        )
        .then_refused(DomainError::NotPermitted {
            action: "reschedule the refresh",
            allowed: "an Admin".to_owned(),
        });
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
    given
        .when(SAS, Command::CompleteTask { task_id: share.id })
        .then_refused(DomainError::NotYourTask {
            task: share.id,
            role: Role::AccountManager,
        });
    given.by(AM, Command::CompleteTask { task_id: share.id });
}

// B4
#[test]
fn b4_the_scheduler_runs_only_the_date_triggers() {
    let mut given = Given::portfolio();
    // The system does not sign off.
    given
        .when_as(Actor::System, Command::SignOff)
        .then_refused_with(|error| matches!(error, DomainError::NotPermitted { .. }));
    given
        .when(AM, Command::Tick)
        .then_refused_with(|error| matches!(error, DomainError::NotPermitted { .. }));
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
