#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.
//! R2, R4, R6: the date triggers and the AM's decision.
mod support;

use freshet_domain::*;
use support::*;

// R2
#[test]
fn r2_kickoff_gives_the_am_a_task_and_an_email_when_the_date_is_15_days_away() {
    let mut given = Given::portfolio();
    // 16 days away: nothing yet.
    given.when_tick_on(date(2027, 2, 27)).then_emits_nothing();

    let events = given.tick_on(date(2027, 2, 28));

    let tasks = tasks_assigned(&events);
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].kind, TaskKind::ReachOutToClient);
    assert_eq!(
        tasks[0].kind.title(),
        "Reach out to client about creative refresh"
    );
    assert_eq!(tasks[0].assignee, user(AM));
    let sent = emails(&events);
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].kind, sent[0].recipient),
        (EmailKind::Kickoff, user(AM))
    );
}

// R2
#[test]
fn r2_kickoff_happens_once_per_cycle_however_often_the_scheduler_runs() {
    let mut given = Given::portfolio();
    let mut kickoffs = 0;
    for day in 20..=28 {
        for _ in 0..3 {
            kickoffs += count_of!(
                given.tick_on(date(2027, 2, day)),
                Event::RefreshKickedOff { .. }
            );
        }
    }
    assert_eq!(kickoffs, 1);
}

// R2
#[test]
fn r2_a_portfolio_created_within_15_days_of_its_date_is_kicked_off_at_once() {
    let given = Given::portfolio_refreshing_on(date(2027, 3, 15), date(2027, 3, 5), monthly());
    assert_eq!(count_of!(given.history, Event::RefreshKickedOff { .. }), 1);
    assert_eq!(emails(&given.history).len(), 1);
}

// R2
#[test]
fn r2_rescheduling_to_a_date_within_15_days_kicks_off_at_once() {
    let mut given = Given::portfolio();
    given
        .when_admin(Command::Reschedule {
            cadence: monthly(),
            refresh_date: date(2027, 2, 10),
        })
        .then_emits(|events| count_of!(events, Event::RefreshKickedOff { .. }) == 1);
    assert_eq!(given.state().refresh_date(), date(2027, 2, 10));
}

// R4
#[test]
fn r4_declining_ends_the_cycle_and_reschedules_by_the_cadence() {
    let mut given = Given::portfolio();
    given.tick_on(date(2027, 3, 1));

    given
        .when(AM, Command::DeclineRefresh)
        .then_emits(|events| count_of!(events, Event::TaskCompleted { .. }) == 1);

    let state = given.state();
    assert_eq!(state.refresh_date(), date(2027, 4, 15));
    assert_eq!(state.status(), None, "the status is cleared");
    assert_eq!(state.cycle.number, 2);
    assert!(
        given.open_task(TaskKind::ReachOutToClient).is_none(),
        "the kickoff task is done"
    );
}

// R4
#[test]
fn r4_a_declined_cycle_gets_no_sas_task_on_its_date_and_no_tickets() {
    let mut given = Given::portfolio();
    given.tick_on(date(2027, 3, 1));
    given.by(AM, Command::DeclineRefresh);

    given.when_tick_on(date(2027, 3, 15)).then_emits(|events| {
        count_of!(events, Event::DeliverablesRequested { .. }) == 0
            && tasks_assigned(events).is_empty()
    });
    given
        .when(
            SAS,
            Command::CreateTicket {
                ticket_id: ticket_id(1),
                title: title("Deliverable 1"),
                folder: folder("Acme Spring"),
                deliverables: count(2),
            },
        )
        .then_refused_with(|error| matches!(error, DomainError::AmDecisionMissing { .. }));
}

// R4
#[test]
fn r4_the_cycle_cannot_be_declined_once_tickets_exist() {
    let mut given = Given::portfolio();
    given.with_tickets(2);
    given
        .when(AM, Command::DeclineRefresh)
        .then_refused(DomainError::TicketsAlreadyCreated);
}

// R5
#[test]
fn r5_requesting_a_refresh_is_a_notation_with_no_task_and_no_email() {
    let mut given = Given::portfolio();
    given.tick_on(date(2027, 3, 1));
    given
        .when(
            AM,
            Command::RequestRefresh {
                note: Some(note(
                    "Client sent three new product shots; wants a softer tone.",
                )),
            },
        )
        .then_emits(|events| tasks_assigned(events).is_empty() && emails(events).is_empty());
    assert_eq!(
        given.state().status(),
        Some(RefreshStatus::RefreshRequestSubmitted)
    );
    assert!(
        given.open_task(TaskKind::ReachOutToClient).is_none(),
        "the kickoff task is done"
    );
    let note = given
        .state()
        .latest_am_note()
        .cloned()
        .expect("the AM's note is logged");
    assert_eq!(note.author, user(AM));
}

// R5
#[test]
fn r5_a_request_without_any_note_from_the_am_is_refused() {
    let mut given = Given::portfolio();
    given.tick_on(date(2027, 3, 1));
    given
        .when(AM, Command::RequestRefresh { note: None })
        .then_refused(DomainError::NoteRequired);

    given.by(
        AM,
        Command::LogPortfolioNote {
            text: note("Assets: see drive."),
        },
    );
    given.by(AM, Command::RequestRefresh { note: None });
    assert_eq!(
        given.state().status(),
        Some(RefreshStatus::RefreshRequestSubmitted)
    );
}

// R6
#[test]
fn r6_on_the_refresh_date_the_sas_gets_the_submission_task_showing_the_latest_am_note() {
    let mut given = Given::portfolio();
    given.kicked_off_and_requested();
    given.by(
        AM,
        Command::LogPortfolioNote {
            text: note("Update: use the blue palette."),
        },
    );
    assert!(
        given.tick_on(date(2027, 3, 14)).is_empty(),
        "the day before: nothing"
    );

    let events = given.tick_on(date(2027, 3, 15));

    let task = tasks_assigned(&events).pop().expect("a task");
    assert_eq!(
        task.kind.title(),
        "Create Paid Social Deliverables for Refresh"
    );
    assert_eq!(task.assignee, user(SAS));
    let sent = emails(&events);
    assert_eq!((sent.len(), sent[0].recipient), (1, user(SAS)));
    assert_eq!(
        sent[0].details.am_note.as_deref(),
        Some("Update: use the blue palette.")
    );
    let context = view::task_context(&given.state(), &task);
    assert_eq!(
        context,
        view::TaskContext::Submission {
            am_note: Some("Update: use the blue palette.".to_owned()),
            am_decision_missing: false,
        }
    );
}

// R6
#[test]
fn r6_without_an_am_decision_the_task_is_still_created_and_says_the_decision_is_missing() {
    let mut given = Given::portfolio();
    given.tick_on(date(2027, 3, 1));
    let events = given.tick_on(date(2027, 3, 15));

    assert!(events.contains(&Event::DeliverablesRequested {
        cycle: 1,
        refresh_date: date(2027, 3, 15),
        decision_missing: true,
    }));
    let task = given
        .open_task(TaskKind::CreateDeliverables)
        .expect("the SAS task");
    let view::TaskContext::Submission {
        am_decision_missing,
        ..
    } = view::task_context(&given.state(), &task)
    else {
        panic!("a submission task shows the submission context");
    };
    assert!(am_decision_missing);
    assert!(emails(&events).iter().any(|e| e.details.decision_missing));
}

// R6
#[test]
fn r6_a_missed_date_is_caught_up_by_the_next_tick_once() {
    let mut given = Given::portfolio();
    given.kicked_off_and_requested();
    given
        .when_tick_on(date(2027, 3, 18))
        .then_emits(|events| count_of!(events, Event::DeliverablesRequested { .. }) == 1);
    given
        .when_tick_on(date(2027, 3, 19))
        .then_emits(|events| count_of!(events, Event::DeliverablesRequested { .. }) == 0);
}
