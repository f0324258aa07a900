#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.
//! B1: stall alerts for each manual gate, once per missed deadline.
mod support;

use freshet_domain::*;
use support::*;

fn alerts(events: &[Event]) -> Vec<(StallGate, Vec<UserId>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::StallAlertRaised { gate, .. } => Some(*gate),
            _ => None,
        })
        .map(|gate| {
            let mut inboxes: Vec<_> = tasks_assigned(events)
                .into_iter()
                .filter(|t| t.kind == TaskKind::StallAlert(gate))
                .map(|t| t.assignee)
                .collect();
            inboxes.sort();
            (gate, inboxes)
        })
        .collect()
}

// B1
#[test]
fn b1_no_am_decision_by_the_refresh_date_alerts_the_am_and_the_team_lead_once() {
    let mut given = Given::portfolio();
    given.tick_on(date(2027, 3, 1));
    assert!(alerts(&given.tick_on(date(2027, 3, 14))).is_empty());
    let events = given.tick_on(date(2027, 3, 15));
    assert_eq!(
        alerts(&events),
        vec![(StallGate::AmDecision, vec![user(AM), user(TEAM_LEAD)])]
    );
    assert_eq!(
        emails(&events)
            .iter()
            .filter(|e| e.kind == EmailKind::StallAlert(StallGate::AmDecision))
            .count(),
        2
    );
    assert!(alerts(&given.tick_on(date(2027, 3, 16))).is_empty(), "once");

    given.by(
        AM,
        Command::RequestRefresh {
            note: Some(note("Late, but yes.")),
        },
    );
    assert!(
        given
            .open_tasks()
            .iter()
            .all(|t| t.kind != TaskKind::StallAlert(StallGate::AmDecision)),
        "the alert closes when the gate opens"
    );
}

// B1
#[test]
fn b1_no_tickets_two_days_after_the_refresh_date_alerts_the_sas_and_the_team_lead() {
    let mut given = Given::portfolio();
    given.kicked_off_and_requested();
    given.tick_on(date(2027, 3, 15));
    assert!(alerts(&given.tick_on(date(2027, 3, 16))).is_empty());
    let events = given.tick_on(date(2027, 3, 17));
    assert_eq!(
        alerts(&events),
        vec![(
            StallGate::TicketSubmission,
            vec![user(SAS), user(TEAM_LEAD)]
        )]
    );
}

// B1
#[test]
fn b1_tickets_in_time_raise_no_submission_alert() {
    let mut given = Given::portfolio();
    given.with_tickets(2);
    assert!(alerts(&given.tick_on(date(2027, 3, 20))).is_empty());
}

// B1
#[test]
fn b1_an_ad_set_waiting_seven_days_for_the_client_alerts_once_per_round() {
    let mut given = Given::portfolio();
    let tickets = given.with_tickets(1);
    given.on(date(2027, 3, 18));
    given.creative_work_done(tickets[0]);
    assert!(alerts(&given.tick_on(date(2027, 3, 24))).is_empty());
    let events = given.tick_on(date(2027, 3, 25));
    assert_eq!(
        alerts(&events),
        vec![(StallGate::ClientReview, vec![user(AM), user(TEAM_LEAD)])]
    );
    assert!(alerts(&given.tick_on(date(2027, 3, 26))).is_empty());

    given.by(
        AM,
        Command::RequestRevisions {
            ticket_id: tickets[0],
            kind: RevisionKind::CopyOnly,
            feedback: note("Shorter"),
        },
    );
    given.by(
        COPYWRITER,
        Command::SubmitCopy {
            ticket_id: tickets[0],
        },
    );
    let events = given.tick_on(date(2027, 4, 2));
    let round_two: Vec<_> = alerts(&events)
        .into_iter()
        .filter(|(gate, _)| *gate == StallGate::ClientReview)
        .collect();
    assert_eq!(
        round_two,
        vec![(StallGate::ClientReview, vec![user(AM), user(TEAM_LEAD)])],
        "round 2 has its own"
    );
}

// B1
#[test]
fn b1_approved_but_not_implemented_after_three_days_alerts_the_sas() {
    let mut given = Given::portfolio();
    given.in_client_review(1);
    given.on(date(2027, 3, 20));
    given.by(AM, Command::SignOff);
    assert!(alerts(&given.tick_on(date(2027, 3, 22))).is_empty());
    let events = given.tick_on(date(2027, 3, 23));
    assert_eq!(
        alerts(&events),
        vec![(StallGate::Implementation, vec![user(SAS), user(TEAM_LEAD)])]
    );
    given.by(SAS, Command::MarkCreativesImplemented);
    assert!(
        given
            .open_tasks()
            .iter()
            .all(|t| !matches!(t.kind, TaskKind::StallAlert(_)))
    );
}

// B1
#[test]
fn b1_deadlines_are_configurable() {
    let mut given = Given::portfolio();
    given.deadlines = Deadlines {
        tickets_after_refresh: 5,
        ..Deadlines::default()
    };
    given.kicked_off_and_requested();
    assert!(alerts(&given.tick_on(date(2027, 3, 19))).is_empty());
    let events = given.tick_on(date(2027, 3, 20));
    assert_eq!(alerts(&events).len(), 1);
}

// B1: the next kickoff (Mar 31) comes due during most monthly cycles with a revision
// round, which is no stall; a cycle still open on the next refresh date (Apr 15) is, and the
// alert says how late it is.
#[test]
fn b1_a_cycle_still_open_on_the_next_refresh_date_alerts_once_and_says_how_late() {
    let mut given = Given::portfolio();
    given.with_tickets(1);
    for day in [date(2027, 3, 31), date(2027, 4, 14)] {
        assert!(alerts(&given.tick_on(day)).is_empty(), "no alert on {day}");
    }
    let events = given.tick_on(date(2027, 4, 15));
    assert!(
        alerts(&events)
            .iter()
            .any(|(gate, _)| *gate == StallGate::NextKickoffOverlap)
    );
    let late: Vec<_> = emails(&events)
        .iter()
        .filter(|e| e.kind == EmailKind::StallAlert(StallGate::NextKickoffOverlap))
        .map(|e| e.details.days_late)
        .collect();
    assert_eq!(
        late,
        [Some(31), Some(31)],
        "31 days after Mar 15, to the AM and the Team Lead"
    );
    assert_eq!(
        count_of!(events, Event::RefreshKickedOff { .. }),
        0,
        "the open cycle keeps its date"
    );
    assert!(alerts(&given.tick_on(date(2027, 4, 16))).is_empty(), "once");
}

// B1
#[test]
fn b1_a_person_holding_two_roles_gets_one_alert() {
    let mut given = Given::portfolio();
    let mut team = team();
    team.team_lead = user(AM);
    given.admin(Command::ChangeTeam { team });
    given.tick_on(date(2027, 3, 1));
    let events = given.tick_on(date(2027, 3, 15));
    assert_eq!(
        alerts(&events),
        vec![(StallGate::AmDecision, vec![user(AM)])]
    );
    assert_eq!(
        emails(&events)
            .iter()
            .filter(|e| e.recipient == user(AM))
            .count(),
        1
    );
}

// B1: with a short cadence the next kickoff always falls inside the current cycle; the
// overlap alert then waits for the next refresh date instead of greeting every cycle.
#[test]
fn b1_a_short_cadence_raises_the_overlap_alert_only_when_the_next_date_arrives() {
    let weekly = Cadence::new(1, CadenceUnit::Weeks).unwrap();
    let mut given = Given::portfolio_refreshing_on(date(2027, 3, 15), date(2027, 3, 1), weekly);
    given.by(
        AM,
        Command::RequestRefresh {
            note: Some(note("Go")),
        },
    );
    let mut overlap_on = Vec::new();
    for day in 1..=23 {
        let events = given.tick_on(date(2027, 3, day));
        if alerts(&events)
            .iter()
            .any(|(gate, _)| *gate == StallGate::NextKickoffOverlap)
        {
            overlap_on.push(day);
        }
    }
    assert_eq!(
        overlap_on,
        vec![22],
        "once, on the next refresh date (March 22nd)"
    );
}
