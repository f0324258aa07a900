#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.
//! R11, R16, R17-R19: review rounds, sign-off, implementation and close.
mod support;

use freshet_domain::*;
use support::*;

// R11
#[test]
fn r11_the_last_ticket_in_pending_approval_hands_the_ad_set_to_the_am() {
    let mut given = Given::portfolio();
    let tickets = given.with_tickets(3);
    for ticket in &tickets[..2] {
        let events = given.creative_work_done(*ticket);
        assert_eq!(
            count_of!(events, Event::AdSetReadyForReview { .. }),
            0,
            "not before every ticket is ready"
        );
    }

    let events = given.creative_work_done(tickets[2]);

    assert_eq!(count_of!(events, Event::AdSetReadyForReview { .. }), 1);
    assert_eq!(
        given.state().status(),
        Some(RefreshStatus::CreativesPendingApproval)
    );
    let tasks = tasks_assigned(&events);
    let share: Vec<_> = tasks
        .iter()
        .filter(|t| t.kind == TaskKind::ShareDraftedDeliverables)
        .collect();
    assert_eq!(share.len(), 1);
    assert_eq!(
        share[0].kind.title(),
        "Share Drafted Deliverables With Client"
    );
    assert_eq!(share[0].assignee, user(AM));
    let mut recipients: Vec<_> = emails(&events)
        .into_iter()
        .filter(|e| e.kind == EmailKind::ReadyForClientReview)
        .map(|e| e.recipient)
        .collect();
    recipients.sort();
    assert_eq!(recipients, vec![user(AM), user(SAS)]);
}

// R11
#[test]
fn r11_an_ad_set_missing_tickets_is_not_ready_even_if_all_created_are() {
    let mut given = Given::portfolio();
    given.with_first_ticket_of(2);
    let events = given.creative_work_done(ticket_id(1));
    assert_eq!(count_of!(events, Event::AdSetReadyForReview { .. }), 0);
}

// R11: the portfolio is one stream, so two "last" approvals decided against the same version
// cannot both be stored; the loser is retried against the winner's state and fires nothing.
#[test]
fn r11_two_last_tickets_arriving_at_the_same_instant_fire_once() {
    let mut given = Given::portfolio();
    let tickets = given.with_tickets(2);
    for ticket in &tickets {
        given.by(COPYWRITER, Command::SubmitCopy { ticket_id: *ticket });
        given.by(DESIGNER, Command::SubmitGraphics { ticket_id: *ticket });
        given.by(TEAM_LEAD, Command::ApproveCopy { ticket_id: *ticket });
    }
    let base = given.state();
    let context = Context {
        actor: Actor::user(user(TEAM_LEAD)),
        now: date(2027, 3, 20).and_hms_opt(9, 0, 0).unwrap().and_utc(),
        today: date(2027, 3, 20),
        deadlines: Deadlines::default(),
    };
    // Each decided alone against the same state, neither sees the other: neither fires.
    for ticket in &tickets {
        let alone = decide(
            Some(&base),
            &Command::ApproveGraphics { ticket_id: *ticket },
            &context,
        )
        .unwrap();
        assert_eq!(count_of!(alone, Event::AdSetReadyForReview { .. }), 0);
    }
    // Serialized by the stream's version check, the second decision sees the first.
    let first = decide(
        Some(&base),
        &Command::ApproveGraphics {
            ticket_id: tickets[0],
        },
        &context,
    )
    .unwrap();
    let mut after_first = base.clone();
    for event in &first {
        after_first = Portfolio::evolve(Some(after_first), event).unwrap();
    }
    let second = decide(
        Some(&after_first),
        &Command::ApproveGraphics {
            ticket_id: tickets[1],
        },
        &context,
    )
    .unwrap();
    assert_eq!(
        count_of!(first, Event::AdSetReadyForReview { .. })
            + count_of!(second, Event::AdSetReadyForReview { .. }),
        1
    );
}

// R16
#[test]
fn r16_revised_tickets_back_in_pending_approval_start_a_new_round() {
    let mut given = Given::portfolio();
    let tickets = given.in_client_review(3);
    given.by(
        AM,
        Command::CompleteDeliverable {
            ticket_id: tickets[0],
        },
    );
    for (ticket, kind) in [
        (tickets[1], RevisionKind::CopyOnly),
        (tickets[2], RevisionKind::GraphicOnly),
    ] {
        given.by(
            AM,
            Command::RequestRevisions {
                ticket_id: ticket,
                kind,
                feedback: note("Client feedback"),
            },
        );
    }

    let copy = given.by(
        COPYWRITER,
        Command::SubmitCopy {
            ticket_id: tickets[1],
        },
    );
    assert_eq!(
        count_of!(copy, Event::AdSetReadyForReview { .. }),
        0,
        "a ticket is still In Progress"
    );
    let graphics = given.by(
        DESIGNER,
        Command::SubmitGraphics {
            ticket_id: tickets[2],
        },
    );

    assert_eq!(count_of!(graphics, Event::AdSetReadyForReview { .. }), 1);
    assert!(
        graphics
            .iter()
            .any(|e| matches!(e, Event::AdSetReadyForReview { round: 2, .. }))
    );
    let share = tasks_assigned(&graphics);
    assert_eq!(share.len(), 1);
    assert_eq!(
        (share[0].kind, share[0].round),
        (TaskKind::ShareDraftedDeliverables, 2)
    );
    assert_eq!(
        emails(&graphics).len(),
        2,
        "the AM and the SAS are told again"
    );
    let state = given.state();
    assert_eq!(state.ticket(tickets[1]).unwrap().revision_round, 1);
    assert_eq!(state.ticket(tickets[0]).unwrap().revision_round, 0);
}

// R16
#[test]
fn r16_the_loop_repeats_until_sign_off() {
    let mut given = Given::portfolio();
    let tickets = given.in_client_review(1);
    for round in 2..=4 {
        given.by(
            AM,
            Command::RequestRevisions {
                ticket_id: tickets[0],
                kind: RevisionKind::CopyOnly,
                feedback: note("Again"),
            },
        );
        let events = given.by(
            COPYWRITER,
            Command::SubmitCopy {
                ticket_id: tickets[0],
            },
        );
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::AdSetReadyForReview { round: r, .. } if *r == round))
        );
    }
    given.by(AM, Command::SignOff);
    assert_eq!(
        given.state().status(),
        Some(RefreshStatus::CreativesCompletedAndApproved)
    );
}

// R17
#[test]
fn r17_sign_off_tasks_and_emails_the_sas() {
    let mut given = Given::portfolio();
    given.in_client_review(2);
    let events = given.by(AM, Command::SignOff);
    assert_eq!(
        given.state().status(),
        Some(RefreshStatus::CreativesCompletedAndApproved)
    );
    let tasks = tasks_assigned(&events);
    assert_eq!(tasks.len(), 1);
    assert_eq!(
        (tasks[0].kind.title(), tasks[0].assignee),
        ("Implement New Creatives for Refresh", user(SAS))
    );
    let sent = emails(&events);
    assert_eq!(
        (sent.len(), sent[0].kind, sent[0].recipient),
        (1, EmailKind::CreativesApproved, user(SAS))
    );
}

// R17
#[test]
fn r17_sign_off_with_a_ticket_in_progress_is_refused() {
    let mut given = Given::portfolio();
    let tickets = given.in_client_review(2);
    given.by(
        AM,
        Command::RequestRevisions {
            ticket_id: tickets[0],
            kind: RevisionKind::GraphicOnly,
            feedback: note("Bigger logo"),
        },
    );
    given
        .when(AM, Command::SignOff)
        .then_refused(DomainError::RevisionsOutstanding { in_progress: 1 });
}

// R17
#[test]
fn r17_only_the_am_can_sign_off_and_only_after_review() {
    let mut given = Given::portfolio();
    let tickets = given.with_tickets(1);
    given
        .when(AM, Command::SignOff)
        .then_refused_with(|error| matches!(error, DomainError::WrongStatus { .. }));
    given.creative_work_done(tickets[0]);
    for who in [SAS, COPYWRITER, DESIGNER, TEAM_LEAD] {
        given
            .when(who, Command::SignOff)
            .then_refused_with(|error| matches!(error, DomainError::NotPermitted { .. }));
    }
}

// R18
#[test]
fn r18_completing_the_implementation_task_implements_by_itself() {
    let mut given = Given::portfolio();
    given.signed_off(1);
    let task = given.open_task(TaskKind::ImplementNewCreatives).unwrap();
    given
        .when(SAS, Command::CompleteTask { task_id: task.id })
        .then_emits(|events| {
            count_of!(
                events,
                Event::CreativesImplemented {
                    via: ImplementationPath::TaskCompleted,
                    ..
                }
            ) == 1
        });
    // Exactly once.
    given
        .when(SAS, Command::MarkCreativesImplemented)
        .then_refused_with(|error| matches!(error, DomainError::WrongStatus { .. }));
    given
        .when(SAS, Command::CompleteTask { task_id: task.id })
        .then_refused(DomainError::TaskAlreadyDone(task.id));
}

// R18
#[test]
fn r18_moving_the_status_by_hand_implements_and_closes_the_task() {
    let mut given = Given::portfolio();
    given.signed_off(1);
    let task = given.open_task(TaskKind::ImplementNewCreatives).unwrap();
    given
        .when(SAS, Command::MarkCreativesImplemented)
        .then_emits(|events| {
            count_of!(events, Event::CreativesImplemented { .. }) == 1
                && completed(events).contains(&task.id)
        });
    given
        .when(SAS, Command::CompleteTask { task_id: task.id })
        .then_refused(DomainError::TaskAlreadyDone(task.id));
}

// R18
#[test]
fn r18_creatives_implemented_is_refused_from_any_other_status() {
    let mut given = Given::portfolio();
    given
        .when(SAS, Command::MarkCreativesImplemented)
        .then_refused(DomainError::WrongStatus {
            action: "mark the creatives implemented",
            status: None,
        });
    given.kicked_off_and_requested();
    given
        .when(SAS, Command::MarkCreativesImplemented)
        .then_refused(DomainError::WrongStatus {
            action: "mark the creatives implemented",
            status: Some(RefreshStatus::RefreshRequestSubmitted),
        });
    let mut in_review = Given::portfolio();
    in_review.in_client_review(1);
    in_review
        .when(SAS, Command::MarkCreativesImplemented)
        .then_refused(DomainError::WrongStatus {
            action: "mark the creatives implemented",
            status: Some(RefreshStatus::CreativesPendingApproval),
        });
}

// R19
#[test]
fn r19_implementation_reschedules_clears_the_status_and_tells_the_am() {
    let mut given = Given::portfolio();
    given.signed_off(2);
    assert_eq!(
        given.state().refresh_date(),
        date(2027, 3, 15),
        "not recalculated before implementation"
    );
    given.on(date(2027, 3, 25));
    let events = given.by(SAS, Command::MarkCreativesImplemented);

    let state = given.state();
    assert_eq!(
        state.refresh_date(),
        date(2027, 4, 15),
        "current date plus the cadence, not today plus it"
    );
    assert_eq!(state.status(), None);
    assert_eq!(state.cycle.number, 2);
    let live: Vec<_> = emails(&events)
        .into_iter()
        .filter(|e| e.kind == EmailKind::CreativesLive)
        .collect();
    assert_eq!(live.len(), 1);
    assert_eq!(
        (live[0].recipient, live[0].details.next_refresh_date),
        (user(AM), Some(date(2027, 4, 15)))
    );
    let confirm = given
        .open_task(TaskKind::ConfirmAdsRunning)
        .expect("the AM's confirmation task");
    assert_eq!(confirm.assignee, user(AM));
    let leftovers: Vec<_> = given
        .open_tasks()
        .into_iter()
        .filter(|t| t.kind != TaskKind::ConfirmAdsRunning)
        .collect();
    assert!(
        leftovers.iter().all(|t| t.cycle == 2),
        "nothing of cycle 1 is left open: {leftovers:?}"
    );
}

// R19
#[test]
fn r19_the_next_cycle_starts_fresh_and_is_kicked_off_on_its_own_schedule() {
    let mut given = Given::portfolio();
    given.signed_off(1);
    given.by(SAS, Command::MarkCreativesImplemented);
    given.when_tick_on(date(2027, 3, 30)).then_emits_nothing();
    given.when_tick_on(date(2027, 3, 31)).then_emits(|events| {
        events.contains(&Event::RefreshKickedOff {
            cycle: 2,
            refresh_date: date(2027, 4, 15),
        })
    });
}
