#![allow(clippy::unwrap_used)]
//! The calendar preview: what fires when, and a what-if reschedule that changes nothing.
mod support;

use freshet_domain::preview::{Trigger, UpcomingTrigger, preview_reschedule, upcoming};
use freshet_domain::*;
use support::*;

// R2, R6, B1
#[test]
fn the_calendar_shows_kickoff_handoff_and_deadlines_in_date_order() {
    let given = Given::portfolio();
    let calendar = upcoming(&given.state(), &Deadlines::default());
    assert_eq!(
        calendar,
        vec![
            UpcomingTrigger {
                on: date(2027, 2, 28),
                trigger: Trigger::Kickoff
            },
            UpcomingTrigger {
                on: date(2027, 3, 15),
                trigger: Trigger::Handoff
            },
            UpcomingTrigger {
                on: date(2027, 3, 15),
                trigger: Trigger::Deadline(StallGate::AmDecision)
            },
            UpcomingTrigger {
                on: date(2027, 3, 17),
                trigger: Trigger::Deadline(StallGate::TicketSubmission)
            },
            UpcomingTrigger {
                on: date(2027, 4, 15),
                trigger: Trigger::NextRefreshDate
            },
        ]
    );
}

// R2, B1: the preview agrees with what the scheduler then does.
#[test]
fn every_previewed_date_is_a_date_on_which_the_scheduler_acts() {
    let mut given = Given::portfolio();
    given.by(
        AM,
        Command::RequestRefresh {
            note: Some(note("The client called early: go ahead.")),
        },
    );
    let calendar = upcoming(&given.state(), &Deadlines::default());
    let mut dates: Vec<_> = calendar
        .iter()
        .filter(|e| e.trigger != Trigger::NextRefreshDate)
        .map(|e| e.on)
        .collect();
    dates.dedup();
    for on in dates {
        assert!(
            given.tick_on(on.pred_opt().unwrap()).is_empty(),
            "something fired before {on}"
        );
        assert!(!given.tick_on(on).is_empty(), "nothing fired on {on}");
    }
}

#[test]
fn a_what_if_reschedule_previews_without_changing_anything() {
    let given = Given::portfolio();
    let state = given.state();
    let context = Context {
        actor: Actor::System,
        now: date(2027, 2, 1).and_hms_opt(9, 0, 0).unwrap().and_utc(),
        today: date(2027, 2, 1),
        deadlines: Deadlines::default(),
    };
    let weekly = Cadence::new(3, CadenceUnit::Weeks).unwrap();
    let preview = preview_reschedule(&state, weekly, date(2027, 2, 10), &context).unwrap();
    assert_eq!(
        preview[0],
        UpcomingTrigger {
            on: date(2027, 2, 1),
            trigger: Trigger::Kickoff
        },
        "within 15 days: kickoff at once"
    );
    assert!(preview.contains(&UpcomingTrigger {
        on: date(2027, 2, 10),
        trigger: Trigger::Handoff
    }));
    assert!(preview.contains(&UpcomingTrigger {
        on: date(2027, 3, 3),
        trigger: Trigger::NextRefreshDate
    }));
    assert_eq!(given.state(), state, "nothing changed");
    let past = preview_reschedule(&state, weekly, date(2027, 1, 10), &context);
    assert_eq!(past, Err(DomainError::RefreshDateInPast));
}
