#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.
//! Events on the wire: stable names, a schema version, and clear errors for what this
//! Freshet cannot read.
mod support;

use std::collections::{BTreeMap, BTreeSet};

use freshet_domain::*;
use support::*;

/// A history that uses every event type: two cycles, revisions, alerts, both closes.
fn rich_history() -> Vec<Event> {
    let mut given = Given::portfolio();
    let mut new_team = team();
    new_team.designer = user(OUTSIDER);
    given.admin(Command::ChangeTeam { team: new_team });
    given.admin(Command::ChangeTeam { team: team() });
    given.admin(Command::Reschedule {
        cadence: Cadence::new(2, CadenceUnit::Months).unwrap(),
        refresh_date: date(2027, 3, 15),
    });
    let tickets = given.in_client_review(2);
    given.by(
        SAS,
        Command::EditTicket {
            ticket_id: tickets[0],
            title: Some(title("Story, offer A")),
            folder: None,
            deliverables: None,
        },
    );
    given.by(
        DESIGNER,
        Command::UpdateAdLabLink {
            link: AdLabLink::parse("https://adlab.example/a").unwrap(),
        },
    );
    given.by(
        AM,
        Command::CompleteDeliverable {
            ticket_id: tickets[0],
        },
    );
    given.by(
        AM,
        Command::RequestRevisions {
            ticket_id: tickets[1],
            kind: RevisionKind::CopyOnly,
            feedback: note("Shorter"),
        },
    );
    given.by(
        COPYWRITER,
        Command::SubmitCopy {
            ticket_id: tickets[1],
        },
    );
    given.by(AM, Command::SignOff);
    given.by(SAS, Command::MarkCreativesImplemented);
    given.tick_on(date(2027, 5, 1));
    given.tick_on(date(2027, 5, 15));
    given.by(AM, Command::DeclineRefresh);
    third_cycle_changes_its_course(&mut given);
    given.history
}

/// Cycle 3 (July 15): rescheduled after its kickoff, ticketed, corrected, sent back by QA,
/// cancelled; then the portfolio is paused, resumed and ended.
fn third_cycle_changes_its_course(given: &mut Given) {
    let every_two_months = Cadence::new(2, CadenceUnit::Months).unwrap();
    given.tick_on(date(2027, 7, 1));
    let reschedule = |refresh_date| Command::Reschedule {
        cadence: every_two_months,
        refresh_date,
    };
    given.admin(reschedule(date(2027, 8, 20)));
    given.tick_on(date(2027, 8, 5));
    given.admin(reschedule(date(2027, 8, 18)));
    given.by(
        AM,
        Command::RequestRefresh {
            note: Some(note("Three new formats")),
        },
    );
    let first = ticket_id(11);
    given.by(
        SAS,
        Command::CreateTicket {
            ticket_id: first,
            title: title("Feed"),
            folder: folder("Acme Autumn"),
            deliverables: count(3),
        },
    );
    for n in [12, 13] {
        given.by(
            SAS,
            Command::CloneTicket {
                ticket_id: ticket_id(n),
                source: first,
                title: title("Story"),
                folder: None,
                deliverables: None,
            },
        );
    }
    given.by(
        SAS,
        Command::WithdrawTicket {
            ticket_id: ticket_id(13),
        },
    );
    given.by(
        SAS,
        Command::CorrectDeliverableCount {
            deliverables: count(2),
        },
    );
    given.by(COPYWRITER, Command::SubmitCopy { ticket_id: first });
    given.by(DESIGNER, Command::SubmitGraphics { ticket_id: first });
    given.by(
        TEAM_LEAD,
        Command::SendBackCopy {
            ticket_id: first,
            note: note("Off brief"),
        },
    );
    given.by(
        TEAM_LEAD,
        Command::SendBackGraphics {
            ticket_id: first,
            note: note("Wrong size"),
        },
    );
    given.by(
        AM,
        Command::CancelCycle {
            reason: note("The client withdrew"),
        },
    );
    given.admin(Command::PausePortfolio);
    given.admin(Command::ResumePortfolio { refresh_date: None });
    given.admin(Command::EndPortfolio);
}

#[test]
fn every_event_type_round_trips_through_its_wire_form() {
    let history = rich_history();
    let used: BTreeSet<_> = history.iter().map(Event::event_type).collect();
    let all: BTreeSet<_> = Event::wire_names().iter().copied().collect();
    assert_eq!(used, all, "the history should use every event type");
    for event in &history {
        let encoded = event.encode();
        assert_eq!(encoded.event_type, event.event_type());
        assert_eq!(encoded.schema_version, 1);
        let decoded = Event::decode(
            &encoded.event_type,
            encoded.schema_version,
            &encoded.payload,
        )
        .unwrap();
        assert_eq!(&decoded, event);
    }
}

/// Every event type as (Rust variant, wire name). The wire names are promises to stored
/// history: this list pins them, so a rename in the code that would change one fails here.
const PINNED_WIRE_NAMES: [(&str, &str); 37] = [
    ("PortfolioCreated", "PortfolioCreated"),
    ("TeamChanged", "TeamChanged"),
    ("PortfolioRescheduled", "PortfolioRescheduled"),
    ("RefreshKickedOff", "RefreshKickedOff"),
    ("KickoffReset", "KickoffReset"),
    ("PortfolioNoteLogged", "PortfolioNoteLogged"),
    ("RefreshDeclined", "RefreshDeclined"),
    ("RefreshRequested", "RefreshRequested"),
    ("DeliverablesRequested", "DeliverablesRequested"),
    ("TicketCreated", "TicketCreated"),
    ("TicketWithdrawn", "TicketWithdrawn"),
    ("DeliverableCountCorrected", "DeliverableCountCorrected"),
    ("TicketRetitled", "TicketRetitled"),
    ("DeliverablesSubmitted", "DeliverablesSubmitted"),
    ("CopySubmitted", "CopySubmitted"),
    ("GraphicsSubmitted", "GraphicsSubmitted"),
    ("CopyApproved", "CopyApproved"),
    ("GraphicsApproved", "GraphicApproved"),
    ("CopySentBack", "CopySentBack"),
    ("GraphicsSentBack", "GraphicsSentBack"),
    ("TicketMovedToPendingApproval", "TicketPendingApproval"),
    ("AdSetReadyForReview", "AdSetReadyForReview"),
    ("RevisionsRequested", "RevisionsRequested"),
    ("DeliverableCompleted", "DeliverableCompleted"),
    ("TicketNoteLogged", "TicketNoteLogged"),
    ("AdLabLinkUpdated", "AdLabLinkUpdated"),
    ("CreativesApproved", "CreativesApproved"),
    ("CreativesImplemented", "CreativesImplemented"),
    ("CycleCancelled", "CycleCancelled"),
    ("PortfolioPaused", "PortfolioPaused"),
    ("PortfolioResumed", "PortfolioResumed"),
    ("PortfolioEnded", "PortfolioEnded"),
    ("TaskAssigned", "TaskAssigned"),
    ("TaskDueChanged", "TaskDueChanged"),
    ("TaskCompleted", "TaskCompleted"),
    ("EmailRequested", "EmailRequested"),
    ("StallAlertRaised", "StallAlertRaised"),
];

fn variant_name(event: &Event) -> String {
    let debug = format!("{event:?}");
    debug
        .split([' ', '{', '('])
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn every_event_type_has_its_own_pinned_wire_name() {
    let names = Event::wire_names();
    let distinct: BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        names.len(),
        "two event types share a wire name"
    );
    let pinned: BTreeMap<String, &str> = PINNED_WIRE_NAMES
        .iter()
        .map(|(variant, wire)| ((*variant).to_owned(), *wire))
        .collect();
    assert_eq!(
        distinct,
        pinned.values().copied().collect::<BTreeSet<_>>(),
        "the wire names are exactly the pinned ones"
    );
    let used: BTreeMap<String, &str> = rich_history()
        .iter()
        .map(|event| (variant_name(event), event.event_type()))
        .collect();
    assert_eq!(
        used, pinned,
        "each event type is written under its pinned name"
    );
}

#[test]
fn events_stored_under_their_first_names_decode_into_the_renamed_variants() {
    let ticket = ticket_id(1);
    let approved = Event::decode(
        "GraphicApproved",
        1,
        &serde_json::json!({ "ticket_id": ticket, "qa_skipped": false }),
    )
    .unwrap();
    assert_eq!(
        approved,
        Event::GraphicsApproved {
            ticket_id: ticket,
            qa_skipped: false
        }
    );
    let pending = Event::decode(
        "TicketPendingApproval",
        1,
        &serde_json::json!({ "ticket_id": ticket }),
    )
    .unwrap();
    assert_eq!(
        pending,
        Event::TicketMovedToPendingApproval { ticket_id: ticket }
    );
    // They are still written under those names, and the Rust names are not wire names.
    assert_eq!(approved.encode().event_type, "GraphicApproved");
    assert_eq!(pending.encode().event_type, "TicketPendingApproval");
    for rust_name in ["GraphicsApproved", "TicketMovedToPendingApproval"] {
        assert!(matches!(
            Event::decode(rust_name, 1, &serde_json::json!({ "ticket_id": ticket })),
            Err(DecodeError::UnknownType { .. })
        ));
    }
}

#[test]
fn the_wire_names_are_the_past_tense_facts_of_the_process() {
    for name in [
        "RefreshRequested",
        "AdSetReadyForReview",
        "CreativesImplemented",
    ] {
        assert!(Event::wire_names().contains(&name), "{name}");
    }
    let event = Event::RefreshRequested { cycle: 3, on: None };
    assert_eq!(event.encode().payload, serde_json::json!({ "cycle": 3 }));
}

#[test]
fn an_unknown_event_type_is_a_clear_error() {
    let error = Event::decode("RefreshTeleported", 1, &serde_json::json!({})).unwrap_err();
    assert!(matches!(error, DecodeError::UnknownType { .. }));
    assert!(error.to_string().contains("RefreshTeleported"));
}

#[test]
fn a_newer_schema_version_is_refused_not_misread() {
    let error =
        Event::decode("RefreshRequested", 2, &serde_json::json!({ "cycle": 1 })).unwrap_err();
    assert!(matches!(
        error,
        DecodeError::UnsupportedVersion { version: 2, .. }
    ));
    assert!(error.to_string().contains("RefreshRequested"));
}

#[test]
fn a_payload_that_no_longer_decodes_names_the_event() {
    for payload in [
        serde_json::json!({ "cycle": "three" }),
        serde_json::json!({}),
        serde_json::json!({ "cycle": 1, "surprise": true }),
        serde_json::json!(null),
    ] {
        let error = Event::decode("RefreshRequested", 1, &payload).unwrap_err();
        assert!(matches!(error, DecodeError::BadPayload { .. }), "{payload}");
        assert!(error.to_string().contains("RefreshRequested"));
    }
    let bad_folder = serde_json::json!({
        "ticket_id": ticket_id(1), "cycle": 1, "title": "t", "folder": "  ",
        "deliverables": 2, "cloned_from": null
    });
    assert!(
        Event::decode("TicketCreated", 1, &bad_folder).is_err(),
        "stored values are parsed again"
    );
}

#[test]
fn a_history_that_does_not_start_with_creation_is_refused() {
    let orphan = [Event::RefreshRequested { cycle: 1, on: None }];
    assert_eq!(
        Portfolio::from_history(&orphan),
        Err(HistoryError::NotCreated)
    );
    let mut twice = rich_history()[..1].to_vec();
    twice.extend(twice.clone());
    assert_eq!(
        Portfolio::from_history(&twice),
        Err(HistoryError::CreatedTwice)
    );
}

#[test]
fn a_stored_history_written_under_the_first_names_still_decides_the_same() {
    let mut original = Given::portfolio();
    original.in_client_review(1);
    let stored: Vec<EncodedEvent> = original.history.iter().map(Event::encode).collect();
    for first_name in ["GraphicApproved", "TicketPendingApproval"] {
        assert!(stored.iter().any(|event| event.event_type == first_name));
    }
    let decoded = stored.iter().map(|event| {
        Event::decode(&event.event_type, event.schema_version, &event.payload).unwrap()
    });

    let mut replayed = given(decoded);
    replayed.on(original.today);

    assert_eq!(replayed.state(), original.state());
    replayed
        .when(AM, Command::SignOff)
        .then_emits(|events| count_of!(events, Event::CreativesApproved { .. }) == 1);
}
