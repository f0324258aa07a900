#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.
//! Process fidelity: no gate can be skipped, context belongs to its cycle, and the changes
//! real agencies make (withdraw, correct, cancel, pause, send back, reopen, reschedule).
mod support;

use freshet_domain::view::{AdLabLinkHint, TaskContext, task_context};
use freshet_domain::*;
use support::*;

fn alert_gates(events: &[Event]) -> Vec<StallGate> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::StallAlertRaised { gate, .. } => Some(*gate),
            _ => None,
        })
        .collect()
}

fn first_ticket(n: u32) -> Command {
    Command::CreateTicket {
        ticket_id: ticket_id(1),
        title: title("Deliverable 1"),
        folder: folder("Acme Spring 2027"),
        deliverables: count(n),
    }
}

// ---- the AM's decision is a gate only the AM opens ---------------------------------------

// R5, R6, R9
#[test]
fn r5_until_the_am_decides_the_sas_can_neither_create_tickets_nor_mark_them_submitted() {
    let mut given = Given::portfolio();
    given.tick_on(date(2027, 3, 1));
    given.tick_on(date(2027, 3, 15));
    given
        .when(SAS, first_ticket(1))
        .then_refused(DomainError::AmDecisionMissing {
            action: "create a ticket",
        });
    given
        .when(SAS, Command::MarkDeliverablesSubmitted)
        .then_refused_with(|error| matches!(error, DomainError::AmDecisionMissing { .. }));
    assert!(
        given.open_task(TaskKind::ReachOutToClient).is_some(),
        "the kickoff stays open"
    );
    // The AM's late request, with the Note the SAS needs, is still taken.
    given.by(
        AM,
        Command::RequestRefresh {
            note: Some(note("Late, but go ahead")),
        },
    );
    assert!(given.open_task(TaskKind::ReachOutToClient).is_none());
    given.by(SAS, first_ticket(1));
}

// R5: only the AM's decision (or an Admin's for the AM) closes the kickoff task.
#[test]
fn r5_the_kickoff_task_is_not_completed_by_hand() {
    let mut given = Given::portfolio();
    given.tick_on(date(2027, 3, 1));
    let kickoff = given.open_task(TaskKind::ReachOutToClient).unwrap();
    given
        .when(
            AM,
            Command::CompleteTask {
                task_id: kickoff.id,
            },
        )
        .then_refused_with(|error| matches!(error, DomainError::TaskCompletesByItself { .. }));
    given.admin(Command::RequestRefresh {
        note: Some(note("The client called the office")),
    });
    assert!(given.open_task(TaskKind::ReachOutToClient).is_none());
}

// R6, B1: the handoff tells the SAS the decision is missing; the stall is the AM's, alerted
// to the AM and the Team Lead, and no ticket alert reaches the SAS while they must wait.
#[test]
fn b1_an_undecided_cycle_alerts_the_am_and_the_team_lead_and_never_the_sas() {
    let mut given = Given::portfolio();
    given.tick_on(date(2027, 3, 1));
    let events = given.tick_on(date(2027, 3, 16));
    let handoff = given.open_task(TaskKind::CreateDeliverables).unwrap();
    assert!(matches!(
        task_context(&given.state(), &handoff),
        TaskContext::Submission {
            am_decision_missing: true,
            ..
        }
    ));
    assert_eq!(alert_gates(&events), [StallGate::AmDecision]);
    let alerted: Vec<_> = tasks_assigned(&events)
        .into_iter()
        .filter(|t| matches!(t.kind, TaskKind::StallAlert(_)))
        .map(|t| t.role)
        .collect();
    assert_eq!(alerted, [Role::AccountManager, Role::TeamLead]);
    for day in 17..=25 {
        let events = given.tick_on(date(2027, 3, day));
        assert!(
            !alert_gates(&events).contains(&StallGate::TicketSubmission),
            "a ticket alert on March {day} while the AM has not decided"
        );
    }
}

// B1: a late decision gives the SAS their full ticket deadline from the day it came.
#[test]
fn b1_the_ticket_deadline_counts_from_a_late_decision() {
    let mut given = Given::portfolio();
    given.tick_on(date(2027, 3, 1));
    given.tick_on(date(2027, 3, 20));
    given.by(
        AM,
        Command::RequestRefresh {
            note: Some(note("Go")),
        },
    );
    assert!(alert_gates(&given.tick_on(date(2027, 3, 21))).is_empty());
    assert_eq!(
        alert_gates(&given.tick_on(date(2027, 3, 22))),
        [StallGate::TicketSubmission]
    );
}

// B1, R17: every ticket approved by the client but no sign-off: the AM's sign-off is the
// stall, not the client.
#[test]
fn b1_with_every_deliverable_completed_the_share_task_closes_and_sign_off_is_the_alert() {
    let mut given = Given::portfolio();
    let tickets = given.in_client_review(2);
    for ticket in &tickets {
        given.by(AM, Command::CompleteDeliverable { ticket_id: *ticket });
    }
    assert!(
        given
            .open_task(TaskKind::ShareDraftedDeliverables)
            .is_none()
    );
    let review_started = given.state().cycle.review_started_on.unwrap();
    let deadline = review_started + chrono::Days::new(7);
    assert_eq!(alert_gates(&given.tick_on(deadline)), [StallGate::SignOff]);
    let alert = given
        .open_task(TaskKind::StallAlert(StallGate::SignOff))
        .unwrap();
    assert_eq!(alert.role, Role::AccountManager);
    given.by(AM, Command::SignOff);
    assert!(
        given
            .open_task(TaskKind::StallAlert(StallGate::SignOff))
            .is_none()
    );
}

// ---- review rounds are rounds ------------------------------------------------------------

// R14, R16: a ticket revised in round 1 goes back to the client only with round 2.
#[test]
fn r16_a_revised_ticket_is_answered_for_the_client_only_after_its_round_is_shared() {
    let mut given = Given::portfolio();
    let tickets = given.in_client_review(2);
    let revise = |ticket_id| Command::RequestRevisions {
        ticket_id,
        kind: RevisionKind::CopyOnly,
        feedback: note("Shorter"),
    };
    given.by(AM, revise(tickets[0]));
    given.by(AM, revise(tickets[1]));
    given.by(
        COPYWRITER,
        Command::SubmitCopy {
            ticket_id: tickets[0],
        },
    );
    // tickets[0] is back in Pending Approval, tickets[1] still In Progress: round 1 is over.
    let state = given.state();
    assert_eq!(
        state.ticket(tickets[0]).unwrap().status,
        TicketStatus::PendingApproval
    );
    given
        .when(
            AM,
            Command::CompleteDeliverable {
                ticket_id: tickets[0],
            },
        )
        .then_refused(DomainError::TicketNotShared(tickets[0]));
    given
        .when(AM, revise(tickets[0]))
        .then_refused(DomainError::TicketNotShared(tickets[0]));
    let events = given.by(
        COPYWRITER,
        Command::SubmitCopy {
            ticket_id: tickets[1],
        },
    );
    assert_eq!(count_of!(events, Event::AdSetReadyForReview { .. }), 1);
    let state = given.state();
    assert!(
        tickets
            .iter()
            .all(|t| state.ticket(*t).unwrap().shared_in_round == Some(2))
    );
    given.by(
        AM,
        Command::CompleteDeliverable {
            ticket_id: tickets[0],
        },
    );
}

// R15: in a revision round an author's approval says it approved itself.
#[test]
fn r15_an_authors_approval_in_a_revision_round_says_the_part_approved_itself() {
    let mut given = Given::portfolio();
    let tickets = given.in_client_review(1);
    given.by(
        AM,
        Command::RequestRevisions {
            ticket_id: tickets[0],
            kind: RevisionKind::CopyAndGraphic,
            feedback: note("New offer"),
        },
    );
    given.by(
        COPYWRITER,
        Command::SubmitCopy {
            ticket_id: tickets[0],
        },
    );
    given
        .when(
            COPYWRITER,
            Command::ApproveCopy {
                ticket_id: tickets[0],
            },
        )
        .then_refused(DomainError::ApprovesItself { part: "copy" });
    given
        .when(
            DESIGNER,
            Command::ApproveGraphics {
                ticket_id: tickets[0],
            },
        )
        .then_refused(DomainError::ApprovesItself { part: "graphic" });
    // In the first round the same call is the Team Lead's.
    let mut first_round = Given::portfolio();
    let tickets = first_round.with_tickets(1);
    first_round.by(
        COPYWRITER,
        Command::SubmitCopy {
            ticket_id: tickets[0],
        },
    );
    first_round
        .when(
            COPYWRITER,
            Command::ApproveCopy {
                ticket_id: tickets[0],
            },
        )
        .then_refused_with(|error| matches!(error, DomainError::NotPermitted { .. }));
}

// ---- context belongs to its cycle --------------------------------------------------------

/// Cycle 1 through to implementation, with an Ad Lab link and an AM Note; then cycle 2's
/// kickoff and request.
fn second_cycle(given: &mut Given, request_note: Option<&str>) {
    given.by(
        DESIGNER,
        Command::UpdateAdLabLink {
            link: AdLabLink::parse("https://adlab.example/cycle-1").unwrap(),
        },
    );
    given.signed_off(1);
    given.by(SAS, Command::MarkCreativesImplemented);
    given.tick_on(date(2027, 4, 1));
    if let Some(text) = request_note {
        given.by(
            AM,
            Command::RequestRefresh {
                note: Some(note(text)),
            },
        );
    }
}

// R12: cycle 2's share task never offers cycle 1's link.
#[test]
fn r12_the_share_task_offers_only_a_link_set_in_this_cycle() {
    let mut given = Given::portfolio();
    given.by(
        DESIGNER,
        Command::UpdateAdLabLink {
            link: AdLabLink::parse("https://adlab.example/cycle-1").unwrap(),
        },
    );
    given.signed_off(1);
    given.by(SAS, Command::MarkCreativesImplemented);
    assert_eq!(given.state().current_ad_lab_link(), None);
    given.tick_on(date(2027, 4, 1));
    given.by(
        AM,
        Command::RequestRefresh {
            note: Some(note("Cycle 2")),
        },
    );
    given.by(
        SAS,
        Command::CreateTicket {
            ticket_id: ticket_id(20),
            title: title("Feed"),
            folder: folder("Acme Summer"),
            deliverables: count(1),
        },
    );
    let events = given.creative_work_done(ticket_id(20));
    let share = given.open_task(TaskKind::ShareDraftedDeliverables).unwrap();
    assert_eq!(
        task_context(&given.state(), &share),
        TaskContext::Share {
            ad_lab_link: AdLabLinkHint::AskTheDesigner
        }
    );
    assert!(
        emails(&events)
            .iter()
            .all(|e| e.details.ad_lab_link.is_none())
    );
    // The same link set again in cycle 2 counts for cycle 2.
    let link = AdLabLink::parse("https://adlab.example/cycle-1").unwrap();
    let events = given.by(DESIGNER, Command::UpdateAdLabLink { link });
    assert_eq!(count_of!(events, Event::AdLabLinkUpdated { .. }), 1);
}

// R6: the SAS's handoff shows this cycle's AM Note, or says there is none.
#[test]
fn r6_the_handoff_shows_this_cycles_am_note_and_never_an_older_one() {
    let mut given = Given::portfolio();
    second_cycle(&mut given, None);
    assert!(
        given.state().latest_am_note().is_none(),
        "cycle 1's Note is not cycle 2's"
    );
    let events = given.tick_on(date(2027, 4, 15));
    let handoff = emails(&events)
        .into_iter()
        .find(|e| e.kind == EmailKind::DeliverablesDue)
        .unwrap();
    assert_eq!(handoff.details.am_note, None);
    given.by(
        AM,
        Command::RequestRefresh {
            note: Some(note("Cycle 2: summer colours")),
        },
    );
    let task = given.open_task(TaskKind::CreateDeliverables).unwrap();
    assert_eq!(
        task_context(&given.state(), &task),
        TaskContext::Submission {
            am_note: Some("Cycle 2: summer colours".to_owned()),
            am_decision_missing: false,
        }
    );
}

// ---- changes real agencies make ----------------------------------------------------------

// R7, R11: withdrawing a ticket closes its tasks; the set is checked again at once.
#[test]
fn withdrawing_a_ticket_closes_its_tasks_and_the_ad_set_is_rechecked_at_once() {
    let mut given = Given::portfolio();
    let tickets = given.with_tickets(3);
    given.creative_work_done(tickets[0]);
    given.creative_work_done(tickets[1]);
    given.by(
        SAS,
        Command::CorrectDeliverableCount {
            deliverables: count(3),
        },
    );
    let events = given.by(
        SAS,
        Command::WithdrawTicket {
            ticket_id: tickets[2],
        },
    );
    assert_eq!(count_of!(events, Event::TicketWithdrawn { .. }), 1);
    assert!(
        given
            .open_tasks()
            .iter()
            .all(|t| t.ticket != Some(tickets[2]))
    );
    assert_eq!(
        count_of!(events, Event::AdSetReadyForReview { .. }),
        0,
        "2 of 3: not yet"
    );
    let events = given.by(
        AM,
        Command::CorrectDeliverableCount {
            deliverables: count(2),
        },
    );
    assert_eq!(
        count_of!(events, Event::AdSetReadyForReview { .. }),
        1,
        "2 of 2: at once"
    );
    given
        .when(
            COPYWRITER,
            Command::SubmitCopy {
                ticket_id: tickets[2],
            },
        )
        .then_refused(DomainError::TicketWithdrawn(tickets[2]));
    // Ids stay taken.
    given
        .when(
            SAS,
            Command::CloneTicket {
                ticket_id: tickets[2],
                source: tickets[0],
                title: title("Again"),
                folder: None,
                deliverables: None,
            },
        )
        .then_refused(DomainError::TicketAlreadyExists(tickets[2]));
}

// R7: the count is one set-wide value, never below the tickets that exist; the last ticket
// cannot be withdrawn (cancel instead).
#[test]
fn the_number_of_deliverables_is_corrected_set_wide_and_never_below_the_tickets() {
    let mut given = Given::portfolio();
    let first = given.with_first_ticket_of(4);
    given
        .when(SAS, Command::WithdrawTicket { ticket_id: first })
        .then_refused(DomainError::LastTicket);
    given.by(
        SAS,
        Command::CloneTicket {
            ticket_id: ticket_id(2),
            source: first,
            title: title("Second"),
            folder: None,
            deliverables: None,
        },
    );
    given
        .when(
            SAS,
            Command::CorrectDeliverableCount {
                deliverables: count(1),
            },
        )
        .then_refused(DomainError::CountBelowTickets {
            created: 2,
            requested: 1,
        });
    given.by(
        SAS,
        Command::CorrectDeliverableCount {
            deliverables: count(2),
        },
    );
    let state = given.state();
    assert_eq!(state.current_ad_set().unwrap().deliverables, count(2));
    assert!(state.current_ad_set().unwrap().is_complete());
}

// A cycle cancelled after its tickets exist: tickets and tasks close, the SAS and the
// Creative Team are told, the date moves by the cadence.
#[test]
fn cancelling_a_cycle_closes_its_work_tells_the_team_and_moves_the_date() {
    let mut given = Given::portfolio();
    given.with_tickets(2);
    Given::portfolio()
        .when(AM, Command::CancelCycle { reason: note("x") })
        .then_refused(DomainError::NothingToCancel);
    let events = given.by(
        AM,
        Command::CancelCycle {
            reason: note("The client withdrew"),
        },
    );
    let told: Vec<Role> = emails(&events)
        .iter()
        .filter(|e| e.kind == EmailKind::CycleCancelled)
        .map(|e| e.role)
        .collect();
    assert_eq!(
        told,
        [
            Role::SocialAdSpecialist,
            Role::Copywriter,
            Role::Designer,
            Role::TeamLead
        ]
    );
    let state = given.state();
    assert!(state.open_tasks.is_empty(), "{:?}", state.open_tasks);
    assert_eq!(state.refresh_date(), date(2027, 4, 15));
    assert_eq!(state.status(), None);
    assert_eq!(
        state.latest_am_note().map(|n| n.cycle),
        None,
        "the reason belongs to the cancelled cycle"
    );
    given
        .when(
            COPYWRITER,
            Command::SubmitCopy {
                ticket_id: ticket_id(1),
            },
        )
        .then_refused(DomainError::TicketWithdrawn(ticket_id(1)));
}

// A paused portfolio has no kickoff and takes no process command until resumed; an ended
// one has nothing scheduled at all.
#[test]
fn a_paused_portfolio_has_no_kickoff_until_resumed_and_an_ended_one_nothing() {
    let mut given = Given::portfolio();
    given.tick_on(date(2027, 3, 1));
    given.admin(Command::PausePortfolio);
    assert!(given.open_tasks().is_empty(), "the kickoff task closed");
    assert_eq!(next_trigger_date(&given.state(), &given.deadlines), None);
    for day in [date(2027, 3, 15), date(2027, 4, 1), date(2027, 5, 1)] {
        assert!(
            given.tick_on(day).is_empty(),
            "a paused portfolio ticked on {day}"
        );
    }
    given
        .when(
            AM,
            Command::RequestRefresh {
                note: Some(note("Go")),
            },
        )
        .then_refused(DomainError::PortfolioPaused {
            since: date(2027, 3, 1),
        });
    // Resumed on May 1: the schedule's next date (May 15) keeps the client's day; it is
    // 14 days away, so the kickoff fires at once.
    let events = given.admin(Command::ResumePortfolio { refresh_date: None });
    assert_eq!(given.state().refresh_date(), date(2027, 5, 15));
    assert_eq!(count_of!(events, Event::RefreshKickedOff { .. }), 1);
    given.admin(Command::EndPortfolio);
    assert!(given.open_tasks().is_empty());
    assert_eq!(next_trigger_date(&given.state(), &given.deadlines), None);
    given
        .when(AM, Command::DeclineRefresh)
        .then_refused_with(|error| matches!(error, DomainError::PortfolioEnded { .. }));
    // A cycle with tickets is cancelled before a pause, so that the creatives are told.
    let mut ticketed = Given::portfolio();
    ticketed.with_tickets(1);
    ticketed
        .when_admin(Command::PausePortfolio)
        .then_refused(DomainError::CancelCycleFirst);
}

// R10: QA sends a part back with a Note; the author reworks it and it goes to QA again.
#[test]
fn qa_sends_a_part_back_to_its_author_with_a_note_and_it_returns_to_qa() {
    let mut given = Given::portfolio();
    let tickets = given.with_tickets(1);
    given.by(
        COPYWRITER,
        Command::SubmitCopy {
            ticket_id: tickets[0],
        },
    );
    let events = given.by(
        TEAM_LEAD,
        Command::SendBackCopy {
            ticket_id: tickets[0],
            note: note("The headline is off brief"),
        },
    );
    let rework = tasks_assigned(&events);
    assert_eq!(rework.len(), 1);
    assert_eq!(
        (rework[0].kind, rework[0].role),
        (TaskKind::ReworkCopy, Role::Copywriter)
    );
    let ticket = given.state().ticket(tickets[0]).cloned().unwrap();
    assert_eq!(ticket.copy, Approval::SentBack);
    let notes = ticket_notes(&given.history, tickets[0]);
    assert_eq!(notes.last().unwrap().3, "The headline is off brief");
    assert!(
        given.open_task(TaskKind::ReviewCopy).is_none(),
        "QA's task is done"
    );
    let events = given.by(
        COPYWRITER,
        Command::SubmitCopy {
            ticket_id: tickets[0],
        },
    );
    assert_eq!(
        tasks_assigned(&events)
            .iter()
            .map(|t| t.kind)
            .collect::<Vec<_>>(),
        [TaskKind::ReviewCopy],
        "back to QA, not approved by itself"
    );
    assert!(given.open_task(TaskKind::ReworkCopy).is_none());
    // Nothing submitted to send back.
    given
        .when(
            TEAM_LEAD,
            Command::SendBackGraphics {
                ticket_id: tickets[0],
                note: note("x"),
            },
        )
        .then_refused_with(|error| matches!(error, DomainError::WrongApproval { .. }));
}

// R13, R14: the client changed their mind: the AM reopens a Completed Deliverable before
// sign-off, as a revision request.
#[test]
fn the_am_reopens_a_completed_deliverable_before_sign_off_as_a_revision_request() {
    let mut given = Given::portfolio();
    let tickets = given.in_client_review(1);
    given.by(
        AM,
        Command::CompleteDeliverable {
            ticket_id: tickets[0],
        },
    );
    let events = given.by(
        AM,
        Command::RequestRevisions {
            ticket_id: tickets[0],
            kind: RevisionKind::GraphicOnly,
            feedback: note("After all, the blue version"),
        },
    );
    assert_eq!(count_of!(events, Event::RevisionsRequested { .. }), 1);
    let ticket = given.state().ticket(tickets[0]).cloned().unwrap();
    assert_eq!(ticket.status, TicketStatus::InProgress);
    assert_eq!(ticket.graphic, Approval::RevisionRequested);
    assert!(given.open_task(TaskKind::ReviseGraphics).is_some());
    let mut signed = Given::portfolio();
    let tickets = signed.signed_off(1);
    signed.by(
        AM,
        Command::CompleteDeliverable {
            ticket_id: tickets[0],
        },
    );
    // Not after sign-off.
    signed
        .when(
            AM,
            Command::RequestRevisions {
                ticket_id: tickets[0],
                kind: RevisionKind::CopyOnly,
                feedback: note("x"),
            },
        )
        .then_refused_with(|error| matches!(error, DomainError::WrongStatus { .. }));
}

// R1, R19: a new cadence is taken at any time and applies when the cycle closes.
#[test]
fn a_new_cadence_mid_cycle_applies_when_the_cycle_closes() {
    let mut given = Given::portfolio();
    given.with_tickets(1);
    let two_months = Cadence::new(2, CadenceUnit::Months).unwrap();
    given.admin(Command::Reschedule {
        cadence: two_months,
        refresh_date: date(2027, 3, 15),
    });
    assert_eq!(given.state().refresh_date(), date(2027, 3, 15));
    // The date, not the cadence, is fixed now.
    given
        .when_admin(Command::Reschedule {
            cadence: two_months,
            refresh_date: date(2027, 3, 20),
        })
        .then_refused_with(|error| matches!(error, DomainError::WrongStatus { .. }));
    given.by(AM, Command::CancelCycle { reason: note("x") });
    assert_eq!(given.state().refresh_date(), date(2027, 5, 15));
}

// R2: rescheduling more than 15 days out after the kickoff resets it; a nearer date moves
// the open kickoff task's due date.
#[test]
fn r2_a_reschedule_after_the_kickoff_resets_it_or_moves_its_task() {
    let mut given = Given::portfolio();
    given.tick_on(date(2027, 3, 1));
    given.admin(Command::Reschedule {
        cadence: monthly(),
        refresh_date: date(2027, 3, 10),
    });
    assert_eq!(
        given.open_task(TaskKind::ReachOutToClient).unwrap().due,
        Some(date(2027, 3, 10))
    );
    let events = given.admin(Command::Reschedule {
        cadence: monthly(),
        refresh_date: date(2027, 4, 20),
    });
    assert_eq!(count_of!(events, Event::KickoffReset { .. }), 1);
    assert!(given.open_task(TaskKind::ReachOutToClient).is_none());
    assert!(given.tick_on(date(2027, 4, 4)).is_empty());
    let events = given.tick_on(date(2027, 4, 5));
    assert_eq!(
        count_of!(events, Event::RefreshKickedOff { .. }),
        1,
        "fires again when due"
    );
    assert_eq!(
        given.open_task(TaskKind::ReachOutToClient).unwrap().due,
        Some(date(2027, 4, 20))
    );
}

// People are told when work moves to them: a team change emails each new holder.
#[test]
fn a_team_change_emails_the_new_holder_of_each_moved_task() {
    let mut given = Given::portfolio();
    given.with_tickets(1);
    let mut new_team = team();
    new_team.copywriter = user(8);
    let events = given.admin(Command::ChangeTeam { team: new_team });
    let moved: Vec<_> = emails(&events)
        .into_iter()
        .filter(|e| e.kind == EmailKind::WorkReassigned)
        .collect();
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].recipient, user(8));
    assert_eq!(moved[0].details.tasks, ["Write copy for deliverable"]);
    assert_eq!(
        given.open_task(TaskKind::WriteCopy).unwrap().assignee,
        user(8)
    );
}

// R4: a decline after the SAS was asked for the tickets tells the SAS their task is void.
#[test]
fn r4_a_decline_after_the_handoff_tells_the_sas_their_task_is_void() {
    let mut given = Given::portfolio();
    given.tick_on(date(2027, 3, 1));
    given.tick_on(date(2027, 3, 15));
    let events = given.by(AM, Command::DeclineRefresh);
    let void: Vec<_> = emails(&events)
        .into_iter()
        .filter(|e| e.kind == EmailKind::HandoffVoided)
        .map(|e| e.role)
        .collect();
    assert_eq!(void, [Role::SocialAdSpecialist]);
    assert!(given.open_task(TaskKind::CreateDeliverables).is_none());
    // Before the handoff a decline tells the SAS nothing: there was nothing to void.
    let mut early = Given::portfolio();
    early.tick_on(date(2027, 3, 1));
    let events = early.by(AM, Command::DeclineRefresh);
    assert!(
        emails(&events)
            .iter()
            .all(|e| e.kind != EmailKind::HandoffVoided)
    );
}

// R19, B1: a weekly cycle implemented long after its next dates passed opens on the first
// date after the close, with its kickoff and no burst of handoff and alerts.
#[test]
fn r19_a_cycle_closing_after_its_next_date_starts_with_a_kickoff_not_a_burst_of_alerts() {
    let weekly = Cadence::new(1, CadenceUnit::Weeks).unwrap();
    let mut given = Given::portfolio_refreshing_on(date(2027, 3, 1), date(2027, 2, 20), weekly);
    given.tick_on(date(2027, 2, 20));
    given.by(
        AM,
        Command::RequestRefresh {
            note: Some(note("Go")),
        },
    );
    given.by(SAS, first_ticket(1));
    given.tick_on(date(2027, 3, 1));
    given.creative_work_done(ticket_id(1));
    given.by(AM, Command::SignOff);
    given.on(date(2027, 3, 19));
    let events = given.by(SAS, Command::MarkCreativesImplemented);
    let state = given.state();
    assert_eq!(
        state.refresh_date(),
        date(2027, 3, 22),
        "Mar 8 and 15 have passed"
    );
    assert_eq!(count_of!(events, Event::RefreshKickedOff { .. }), 1);
    assert_eq!(count_of!(events, Event::DeliverablesRequested { .. }), 0);
    assert!(alert_gates(&events).is_empty());
    assert!(given.tick_on(date(2027, 3, 21)).is_empty());
    assert_eq!(
        count_of!(
            given.tick_on(date(2027, 3, 22)),
            Event::DeliverablesRequested { .. }
        ),
        1
    );
}

// Every Note stays in the history, none in the state a command loads: 2,000 Notes of 20,000
// characters leave the state as small as a portfolio with none.
#[test]
fn thousands_of_long_notes_do_not_grow_the_state_a_command_loads() {
    let mut given = Given::portfolio();
    let tickets = given.with_tickets(1);
    let size = |given: &Given| serde_json::to_string(&given.state()).unwrap().len();
    let before = size(&given);
    let long = "x".repeat(20_000);
    for n in 0..1_000 {
        given.by(SAS, Command::LogPortfolioNote { text: note(&long) });
        given.by(
            COPYWRITER,
            Command::LogTicketNote {
                ticket_id: tickets[0],
                text: note(&format!("{n}{long}")[..20_000]),
            },
        );
    }
    let after = size(&given);
    assert!(
        after < before + 200,
        "the state grew from {before} to {after} bytes"
    );
    assert_eq!(given.state().ticket(tickets[0]).unwrap().notes, 1_000);
    assert_eq!(ticket_notes(&given.history, tickets[0]).len(), 1_000);
}
