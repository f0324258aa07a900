#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.
//! R7-R10, R12-R15, R20, R21: the Ad Set, its tickets, the creative work and the client's answer.
mod support;

use freshet_domain::*;
use support::*;

fn clone_of(first: TicketId, n: u128) -> Command {
    Command::CloneTicket {
        ticket_id: ticket_id(n),
        source: first,
        title: title("Another deliverable"),
        folder: None,
        deliverables: None,
    }
}

// R7
#[test]
fn r7_clones_carry_the_folder_name_and_the_number_of_deliverables() {
    let mut given = Given::portfolio();
    let tickets = given.with_tickets(3);
    let state = given.state();
    let set = state.current_ad_set().expect("an Ad Set");
    assert_eq!(set.tickets.len(), 3);
    assert_eq!(set.folder, folder("Acme Spring 2027"));
    assert_eq!(set.deliverables, count(3));
    let clones_from_first = given
        .history
        .iter()
        .filter(|e| matches!(e, Event::TicketCreated { cloned_from: Some(source), folder: f, deliverables: d, .. }
            if *source == tickets[0] && *f == folder("Acme Spring 2027") && *d == count(3)))
        .count();
    assert_eq!(clones_from_first, 2);
}

// R7
#[test]
fn r7_a_change_of_folder_name_is_refused() {
    let mut given = Given::portfolio();
    let tickets = given.with_tickets(2);
    let error = given
        .when(
            SAS,
            Command::EditTicket {
                ticket_id: tickets[1],
                title: None,
                folder: Some(folder("Acme Summer")),
                deliverables: None,
            },
        )
        .then_refused_with(|error| matches!(error, DomainError::FolderNameImmutable { .. }));
    assert!(error.to_string().contains("can never be changed"));
    given
        .when(
            SAS,
            Command::CloneTicket {
                ticket_id: ticket_id(9),
                source: tickets[0],
                title: title("x"),
                folder: Some(folder("Acme Summer")),
                deliverables: None,
            },
        )
        .then_refused_with(|error| matches!(error, DomainError::FolderNameImmutable { .. }));
}

// R7
#[test]
fn r7_a_clone_with_another_count_is_refused() {
    let mut given = Given::portfolio();
    given.with_first_ticket_of(3);
    given
        .when(
            SAS,
            Command::CloneTicket {
                ticket_id: ticket_id(2),
                source: ticket_id(1),
                title: title("Deliverable 2"),
                folder: None,
                deliverables: Some(count(4)),
            },
        )
        .then_refused(DomainError::DeliverableCountMismatch {
            current: 3,
            requested: 4,
        });
}

// R7
#[test]
fn r7_more_tickets_than_the_count_are_refused() {
    let mut given = Given::portfolio();
    let tickets = given.with_tickets(2);
    given
        .when(SAS, clone_of(tickets[0], 3))
        .then_refused(DomainError::TooManyTickets { count: 2 });
}

// R7
#[test]
fn r7_a_second_first_ticket_is_refused_in_favour_of_a_clone() {
    let mut given = Given::portfolio();
    given.with_tickets(2);
    given
        .when(
            SAS,
            Command::CreateTicket {
                ticket_id: ticket_id(7),
                title: title("x"),
                folder: folder("Other folder"),
                deliverables: count(2),
            },
        )
        .then_refused(DomainError::AdSetAlreadyStarted);
}

// R8
#[test]
fn r8_each_ticket_gives_the_copywriter_and_the_designer_a_task_on_it() {
    let mut given = Given::portfolio();
    let tickets = given.with_tickets(2);
    for ticket in tickets {
        let tasks: Vec<_> = given
            .open_tasks()
            .into_iter()
            .filter(|t| t.ticket == Some(ticket))
            .map(|t| (t.kind, t.assignee))
            .collect();
        assert_eq!(
            tasks.len(),
            2,
            "one task each for the Copywriter and the Designer"
        );
        assert!(tasks.contains(&(TaskKind::WriteCopy, user(COPYWRITER))));
        assert!(tasks.contains(&(TaskKind::CreateGraphics, user(DESIGNER))));
    }
}

// R9
#[test]
fn r9_deliverables_submitted_is_a_notation_once_every_ticket_exists() {
    let mut given = Given::portfolio();
    given.with_first_ticket_of(2);
    given
        .when(SAS, Command::MarkDeliverablesSubmitted)
        .then_refused(DomainError::AdSetIncomplete {
            created: 1,
            count: 2,
        });
    let task = given
        .open_task(TaskKind::CreateDeliverables)
        .expect("submission task");
    given
        .when(SAS, Command::CompleteTask { task_id: task.id })
        .then_refused(DomainError::AdSetIncomplete {
            created: 1,
            count: 2,
        });

    given.by(SAS, clone_of(ticket_id(1), 2));
    given
        .when(SAS, Command::CompleteTask { task_id: task.id })
        .then_emits_exactly(&[Event::TaskCompleted {
            task_id: task.id,
            by: Some(user(SAS)),
        }]);
    // No automation fires.
    given
        .when(SAS, Command::MarkDeliverablesSubmitted)
        .then_emits_exactly(&[Event::DeliverablesSubmitted { cycle: 1 }]);
    assert_eq!(
        given.state().status(),
        Some(RefreshStatus::DeliverablesSubmitted)
    );
}

// R10
#[test]
fn r10_both_approvals_from_the_team_lead_move_the_ticket_to_pending_approval() {
    let mut given = Given::portfolio();
    let tickets = given.with_tickets(2);
    let ticket = tickets[0];
    given.by(COPYWRITER, Command::SubmitCopy { ticket_id: ticket });
    given.by(DESIGNER, Command::SubmitGraphics { ticket_id: ticket });
    // QA is the Team Lead's.
    given
        .when(COPYWRITER, Command::ApproveCopy { ticket_id: ticket })
        .then_refused_with(|error| matches!(error, DomainError::NotPermitted { .. }));
    given.by(TEAM_LEAD, Command::ApproveCopy { ticket_id: ticket });
    assert_eq!(
        given.state().ticket(ticket).unwrap().status,
        TicketStatus::InProgress
    );

    given
        .when(TEAM_LEAD, Command::ApproveGraphics { ticket_id: ticket })
        .then_emits(|events| {
            events.contains(&Event::TicketMovedToPendingApproval { ticket_id: ticket })
        });

    let state = given.state();
    let t = state.ticket(ticket).unwrap();
    assert_eq!(
        (t.status, t.copy, t.graphic),
        (
            TicketStatus::PendingApproval,
            Approval::Approved,
            Approval::Approved
        )
    );
}

// R10
#[test]
fn r10_approval_before_submission_is_refused() {
    let mut given = Given::portfolio();
    let tickets = given.with_tickets(1);
    given
        .when(
            TEAM_LEAD,
            Command::ApproveGraphics {
                ticket_id: tickets[0],
            },
        )
        .then_refused(DomainError::WrongApproval {
            action: "approve graphics",
            part: "graphic",
            approval: Approval::NotSubmitted,
        });
}

// R12
#[test]
fn r12_the_share_task_shows_the_ad_lab_link_or_says_to_ask_the_designer() {
    let mut given = Given::portfolio();
    given.in_client_review(1);
    let share = given
        .open_task(TaskKind::ShareDraftedDeliverables)
        .expect("share task");
    assert_eq!(
        view::task_context(&given.state(), &share),
        view::TaskContext::Share {
            ad_lab_link: view::AdLabLinkHint::AskTheDesigner
        }
    );

    given.by(
        DESIGNER,
        Command::UpdateAdLabLink {
            link: AdLabLink::parse("https://adlab.example/acme/spring").unwrap(),
        },
    );

    assert_eq!(
        view::task_context(&given.state(), &share),
        view::TaskContext::Share {
            ad_lab_link: view::AdLabLinkHint::Link("https://adlab.example/acme/spring".to_owned())
        }
    );
    // The Designer keeps the link.
    given
        .when(
            AM,
            Command::UpdateAdLabLink {
                link: AdLabLink::parse("https://x.example").unwrap(),
            },
        )
        .then_refused_with(|error| matches!(error, DomainError::NotPermitted { .. }));
}

// R13
#[test]
fn r13_the_am_moves_an_approved_deliverable_to_completed() {
    let mut given = Given::portfolio();
    let tickets = given.in_client_review(2);
    given.by(
        AM,
        Command::CompleteDeliverable {
            ticket_id: tickets[0],
        },
    );
    assert_eq!(
        given.state().ticket(tickets[0]).unwrap().status,
        TicketStatus::CompletedDeliverable
    );
    // A duplicate is refused.
    given
        .when(
            AM,
            Command::CompleteDeliverable {
                ticket_id: tickets[0],
            },
        )
        .then_refused_with(|error| matches!(error, DomainError::WrongTicketStatus { .. }));
}

// R13
#[test]
fn r13_a_deliverable_the_client_has_not_seen_cannot_be_completed() {
    let mut given = Given::portfolio();
    let tickets = given.with_tickets(2);
    given.creative_work_done(tickets[0]);
    given
        .when(
            AM,
            Command::CompleteDeliverable {
                ticket_id: tickets[0],
            },
        )
        .then_refused(DomainError::NotYetReviewed);
}

fn revision_effects(kind: RevisionKind) -> (Given, TicketId, Vec<Event>) {
    let mut given = Given::portfolio();
    let tickets = given.in_client_review(2);
    let events = given.by(
        AM,
        Command::RequestRevisions {
            ticket_id: tickets[1],
            kind,
            feedback: note("Client: headline too long; logo too small."),
        },
    );
    (given, tickets[1], events)
}

// R14
#[test]
fn r14_copy_revisions_reset_the_copy_approval_and_task_the_copywriter() {
    let (given, ticket, events) = revision_effects(RevisionKind::CopyOnly);
    let state = given.state();
    let t = state.ticket(ticket).unwrap();
    assert_eq!(t.status, TicketStatus::InProgress);
    assert_eq!(
        (t.copy, t.graphic),
        (Approval::RevisionRequested, Approval::Approved)
    );
    assert_eq!(t.needs_revisions, Some(RevisionKind::CopyOnly));
    let tasks: Vec<_> = tasks_assigned(&events)
        .into_iter()
        .map(|t| (t.kind, t.assignee))
        .collect();
    assert_eq!(tasks, vec![(TaskKind::ReviseCopy, user(COPYWRITER))]);
    let notes = ticket_notes(&given.history, ticket);
    let (_, author, _, text) = notes.last().expect("the feedback note");
    assert_eq!(text, "Client: headline too long; logo too small.");
    assert_eq!(*author, user(AM));
    assert_eq!(t.notes, 1);
}

// R14
#[test]
fn r14_graphic_revisions_reset_the_graphic_approval_and_task_the_designer() {
    let (given, ticket, events) = revision_effects(RevisionKind::GraphicOnly);
    let state = given.state();
    let t = state.ticket(ticket).unwrap();
    assert_eq!(
        (t.copy, t.graphic),
        (Approval::Approved, Approval::RevisionRequested)
    );
    let tasks: Vec<_> = tasks_assigned(&events)
        .into_iter()
        .map(|t| (t.kind, t.assignee))
        .collect();
    assert_eq!(tasks, vec![(TaskKind::ReviseGraphics, user(DESIGNER))]);
}

// R14
#[test]
fn r14_copy_and_graphic_revisions_reset_both_and_task_both() {
    let (given, ticket, events) = revision_effects(RevisionKind::CopyAndGraphic);
    let state = given.state();
    let t = state.ticket(ticket).unwrap();
    assert_eq!(
        (t.copy, t.graphic),
        (Approval::RevisionRequested, Approval::RevisionRequested)
    );
    let mut tasks: Vec<_> = tasks_assigned(&events)
        .into_iter()
        .map(|t| t.assignee)
        .collect();
    tasks.sort();
    assert_eq!(tasks, vec![user(COPYWRITER), user(DESIGNER)]);
    assert!(
        given
            .open_task(TaskKind::ShareDraftedDeliverables)
            .is_none(),
        "the AM has shared and answered"
    );
}

// R14
#[test]
fn r14_revisions_before_the_client_review_are_refused() {
    let mut given = Given::portfolio();
    let tickets = given.with_tickets(2);
    given.creative_work_done(tickets[0]);
    given
        .when(
            AM,
            Command::RequestRevisions {
                ticket_id: tickets[0],
                kind: RevisionKind::CopyOnly,
                feedback: note("x"),
            },
        )
        .then_refused(DomainError::NotYetReviewed);
}

// R15
#[test]
fn r15_in_a_revision_round_the_creatives_approve_their_own_work() {
    let (mut given, ticket, _) = revision_effects(RevisionKind::CopyAndGraphic);
    // Approved at once, and no Team Lead QA task.
    given
        .when(COPYWRITER, Command::SubmitCopy { ticket_id: ticket })
        .then_emits(|events| {
            events.contains(&Event::CopyApproved {
                ticket_id: ticket,
                qa_skipped: true,
            }) && tasks_assigned(events).is_empty()
        });
    given
        .when(DESIGNER, Command::SubmitGraphics { ticket_id: ticket })
        .then_emits(|events| {
            events.contains(&Event::GraphicsApproved {
                ticket_id: ticket,
                qa_skipped: true,
            })
        });
    assert_eq!(
        given.state().ticket(ticket).unwrap().status,
        TicketStatus::PendingApproval
    );
    assert!(
        given.open_tasks().iter().all(|t| t.ticket != Some(ticket)),
        "revision tasks are done"
    );
}

// R20
#[test]
fn r20_the_implementation_task_lists_tickets_not_yet_completed_and_the_sas_can_complete_them() {
    let mut given = Given::portfolio();
    let tickets = given.in_client_review(3);
    given.by(
        AM,
        Command::CompleteDeliverable {
            ticket_id: tickets[0],
        },
    );
    given.by(AM, Command::SignOff);
    let task = given
        .open_task(TaskKind::ImplementNewCreatives)
        .expect("implementation task");
    let view::TaskContext::Implementation { open_tickets } =
        view::task_context(&given.state(), &task)
    else {
        panic!("the implementation task shows the open tickets");
    };
    let listed: Vec<_> = open_tickets.iter().map(|t| t.id).collect();
    assert_eq!(listed, vec![tickets[1], tickets[2]]);

    given.by(SAS, Command::MarkCreativesImplemented);
    given.by(
        SAS,
        Command::CompleteDeliverable {
            ticket_id: tickets[1],
        },
    );
    given.by(
        AM,
        Command::CompleteDeliverable {
            ticket_id: tickets[2],
        },
    );
    let state = given.state();
    let set = state.ad_sets.get(&1).expect("cycle 1's Ad Set");
    assert_eq!(set.count_with(TicketStatus::CompletedDeliverable), 3);
}

// R21
#[test]
fn r21_questions_are_notes_on_the_ticket_with_author_and_time() {
    let mut given = Given::portfolio();
    let tickets = given.with_tickets(1);
    given.on(date(2027, 3, 16));
    given.by(
        COPYWRITER,
        Command::LogTicketNote {
            ticket_id: tickets[0],
            text: note("Which offer goes in the headline?"),
        },
    );
    given.on(date(2027, 3, 17));
    given.by(
        SAS,
        Command::LogTicketNote {
            ticket_id: tickets[0],
            text: note("Offer A, per the AM's note."),
        },
    );
    given
        .when(
            OUTSIDER,
            Command::LogTicketNote {
                ticket_id: tickets[0],
                text: note("hi"),
            },
        )
        .then_refused(DomainError::NotOnTeam);

    let notes = ticket_notes(&given.history, tickets[0]);
    assert_eq!(given.state().ticket(tickets[0]).unwrap().notes, 2);
    let authors: Vec<_> = notes
        .iter()
        .map(|(_, author, at, _)| (*author, at.date_naive()))
        .collect();
    assert_eq!(
        authors,
        vec![
            (user(COPYWRITER), date(2027, 3, 16)),
            (user(SAS), date(2027, 3, 17))
        ]
    );
    assert_ne!(notes[0].0, notes[1].0);
}

// R13, R20: the client's approval is recorded by the AM; the SAS completes tickets only to
// tidy up after sign-off.
#[test]
fn r13_the_sas_cannot_record_the_clients_approval_before_sign_off() {
    let mut given = Given::portfolio();
    let tickets = given.in_client_review(2);
    given
        .when(
            SAS,
            Command::CompleteDeliverable {
                ticket_id: tickets[0],
            },
        )
        .then_refused_with(|error| matches!(error, DomainError::NotPermitted { .. }));
    given.by(AM, Command::SignOff);
    given.by(
        SAS,
        Command::CompleteDeliverable {
            ticket_id: tickets[0],
        },
    );
    assert_eq!(
        given.state().ticket(tickets[0]).unwrap().status,
        TicketStatus::CompletedDeliverable
    );
}
