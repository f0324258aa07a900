#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.
//! Properties over random command sequences: whatever people do, in whatever order, the
//! process keeps its invariants.
mod support;

use std::collections::{BTreeMap, BTreeSet};

use freshet_domain::*;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use support::*;

/// One thing that happens: days pass, or someone tries something.
#[derive(Clone, Debug)]
enum Step {
    DaysPass(u8),
    Try {
        who: u8,
        action: u8,
        ticket: u8,
        detail: u8,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => (0u8..6).prop_map(Step::DaysPass),
        6 => (0u8..8, 0u8..36, 0u8..6, 0u8..6).prop_map(|(who, action, ticket, detail)| Step::Try { who, action, ticket, detail }),
    ]
}

const PEOPLE: [u128; 6] = [AM, SAS, COPYWRITER, DESIGNER, TEAM_LEAD, OUTSIDER];

/// Mostly the person the process gives the action to, sometimes anyone at all, so that
/// random sequences reach deep into the cycle and still try every refusal.
fn actor_for(state: &Portfolio, command: &Command, who: u8) -> Actor {
    if who >= 5 {
        return Actor::user(user(PEOPLE[usize::from(who) % PEOPLE.len()]));
    }
    if matches!(
        command,
        Command::Reschedule { .. }
            | Command::ChangeTeam { .. }
            | Command::PausePortfolio
            | Command::ResumePortfolio { .. }
            | Command::EndPortfolio
    ) {
        return Actor::admin(user(ADMIN));
    }
    let role = match command {
        Command::LogPortfolioNote { .. }
        | Command::DeclineRefresh
        | Command::RequestRefresh { .. } => Role::AccountManager,
        Command::RequestRevisions { .. }
        | Command::CompleteDeliverable { .. }
        | Command::SignOff
        | Command::CancelCycle { .. } => Role::AccountManager,
        Command::SendBackCopy { .. } | Command::SendBackGraphics { .. } => Role::TeamLead,
        Command::SubmitCopy { .. } => Role::Copywriter,
        Command::SubmitGraphics { .. } | Command::UpdateAdLabLink { .. } => Role::Designer,
        Command::ApproveCopy { .. } | Command::ApproveGraphics { .. } => Role::TeamLead,
        Command::CompleteTask { task_id } => state
            .open_tasks
            .get(task_id)
            .map_or(Role::SocialAdSpecialist, |t| t.role),
        _ => Role::SocialAdSpecialist,
    };
    Actor::user(state.team.member(role))
}

/// Turns the step's numbers into a concrete command on the current state. Even `ticket`
/// values aim at a ticket the action fits (sequences get deep); odd ones at any ticket.
fn command(state: &Portfolio, action: u8, ticket: u8, detail: u8, serial: u128) -> Command {
    // The creative work takes four steps per ticket: give it double weight.
    // Withdrawing, correcting, pausing and ending are rarer than the work they disturb.
    let action = match action {
        19..=26 => 7 + (action - 19) % 4,
        29 | 30 if detail >= 2 => 7 + detail % 4,
        32 if detail != 0 && state.is_active() => 4,
        35 if !(detail == 5 && ticket == 5) => 2,
        other => other,
    };
    let all: Vec<&Ticket> = state
        .current_ad_set()
        .map(|s| s.tickets.iter().collect())
        .unwrap_or_default();
    let fits = |t: &Ticket| match action {
        7 => t.copy.awaits_author() && t.status == TicketStatus::InProgress,
        8 => t.graphic.awaits_author() && t.status == TicketStatus::InProgress,
        9 | 33 => t.copy == Approval::AwaitingQa,
        10 | 34 => t.graphic == Approval::AwaitingQa,
        11 => t.status != TicketStatus::InProgress,
        12 => t.status == TicketStatus::PendingApproval,
        _ => true,
    };
    let fitting: Vec<TicketId> = all.iter().filter(|t| fits(t)).map(|t| t.id).collect();
    let candidates: Vec<TicketId> = if ticket.is_multiple_of(2) && !fitting.is_empty() {
        fitting
    } else {
        all.iter().map(|t| t.id).collect()
    };
    let pick = candidates
        .get(usize::from(ticket / 2) % candidates.len().max(1))
        .copied()
        .unwrap_or(ticket_id(999));
    let kind = [
        RevisionKind::CopyOnly,
        RevisionKind::GraphicOnly,
        RevisionKind::CopyAndGraphic,
    ][usize::from(detail) % 3];
    let any_task = state
        .open_tasks
        .keys()
        .nth(usize::from(detail))
        .copied()
        .unwrap_or(TaskId::derive(state.id, "none"));
    match action {
        0 => Command::LogPortfolioNote {
            text: note("client notes"),
        },
        1 if detail == 0 => Command::DeclineRefresh,
        1 => Command::MarkDeliverablesSubmitted,
        2 => Command::RequestRefresh {
            note: Some(note("go ahead")),
        },
        3 => Command::CreateTicket {
            ticket_id: ticket_id(serial),
            title: title("first"),
            folder: folder(["Spring", "Summer"][usize::from(detail) % 2]),
            deliverables: count(u32::from(detail % 3) + 1),
        },
        4 => Command::CloneTicket {
            ticket_id: ticket_id(serial),
            source: pick,
            title: title("clone"),
            folder: None,
            deliverables: (detail > 3).then(|| count(u32::from(detail))),
        },
        5 => Command::EditTicket {
            ticket_id: pick,
            title: None,
            folder: (detail > 2).then(|| folder("Renamed")),
            deliverables: None,
        },
        6 => Command::MarkDeliverablesSubmitted,
        7 => Command::SubmitCopy { ticket_id: pick },
        8 => Command::SubmitGraphics { ticket_id: pick },
        9 => Command::ApproveCopy { ticket_id: pick },
        10 => Command::ApproveGraphics { ticket_id: pick },
        11 => Command::RequestRevisions {
            ticket_id: pick,
            kind,
            feedback: note("client feedback"),
        },
        12 => Command::CompleteDeliverable { ticket_id: pick },
        13 => Command::SignOff,
        14 => Command::MarkCreativesImplemented,
        15 => Command::CompleteTask { task_id: any_task },
        16 => Command::UpdateAdLabLink {
            link: AdLabLink::parse("https://adlab.example/x").unwrap(),
        },
        17 => Command::LogTicketNote {
            ticket_id: pick,
            text: note("question"),
        },
        27 => Command::Reschedule {
            cadence: [monthly(), Cadence::new(2, CadenceUnit::Weeks).unwrap()]
                [usize::from(ticket) % 2],
            // Mostly a new cadence on the same date; sometimes a new date.
            refresh_date: state.refresh_date()
                + chrono::Days::new(if ticket < 2 { u64::from(detail) * 8 } else { 0 }),
        },
        28 => {
            let mut team = team();
            if state.team == team {
                team.copywriter = user(8);
            }
            Command::ChangeTeam { team }
        }
        29 => Command::WithdrawTicket { ticket_id: pick },
        30 => Command::CorrectDeliverableCount {
            deliverables: count(u32::from(detail % 3) + 1),
        },
        // Cancelling, pausing and ending cut sequences short: rarely.
        31 if detail == 0 && ticket < 2 => Command::CancelCycle {
            reason: note("The client withdrew"),
        },
        // Without the AM's decision nothing downstream happens: give it more weight.
        31 => Command::RequestRefresh {
            note: Some(note("go ahead")),
        },
        32 if state.is_active() => Command::PausePortfolio,
        32 => Command::ResumePortfolio { refresh_date: None },
        33 => Command::SendBackCopy {
            ticket_id: pick,
            note: note("Off brief"),
        },
        34 => Command::SendBackGraphics {
            ticket_id: pick,
            note: note("Wrong size"),
        },
        35 => Command::EndPortfolio,
        _ => Command::Tick,
    }
}

/// The Creative Refresh Status edges the rules allow within one cycle. Nothing leaves the
/// empty status but the AM's decision (R4, R5): no bypass of that gate.
fn allowed_edge(before: Option<RefreshStatus>, after: Option<RefreshStatus>) -> bool {
    use RefreshStatus::*;
    before == after
        || matches!(
            (before, after),
            (None, Some(RefreshRequestSubmitted))
                | (
                    Some(RefreshRequestSubmitted),
                    Some(DeliverablesSubmitted | CreativesPendingApproval)
                )
                | (Some(DeliverablesSubmitted), Some(CreativesPendingApproval))
                | (
                    Some(CreativesPendingApproval),
                    Some(CreativesCompletedAndApproved)
                )
        )
}

/// The events that end a cycle.
fn closes_cycle(event: &Event) -> bool {
    matches!(
        event,
        Event::RefreshDeclined { .. }
            | Event::CreativesImplemented { .. }
            | Event::CycleCancelled { .. }
            | Event::PortfolioPaused { .. }
            | Event::PortfolioEnded { .. }
    )
}

/// One accepted command: the state before it, the command, its events, and the day.
type Accepted = (Portfolio, Command, Vec<Event>, chrono::NaiveDate);

fn run(steps: &[Step]) -> (Given, Vec<Accepted>) {
    let mut given = Given::portfolio_refreshing_on(date(2027, 3, 10), date(2027, 2, 20), monthly());
    let mut accepted = Vec::new();
    for (serial, step) in (100u128..).zip(steps) {
        match step {
            Step::DaysPass(days) => {
                let today = given.today + chrono::Days::new(u64::from(*days));
                given.tick_on(today);
            }
            Step::Try {
                who,
                action,
                ticket,
                detail,
            } => {
                let before = given.state();
                let command = command(&before, *action, *ticket, *detail, serial);
                let actor = actor_for(&before, &command, *who);
                let history_len = given.history.len();
                match given.decide_as(actor, command.clone()) {
                    Ok(events) => accepted.push((before, command, events, given.today)),
                    Err(_) => {
                        assert_eq!(given.history.len(), history_len, "a refusal emits nothing")
                    }
                }
            }
        }
    }
    (given, accepted)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_folder_name_of_an_ad_set_never_changes(steps in prop::collection::vec(step(), 1..250)) {
        let (given, _) = run(&steps);
        let mut folders: BTreeMap<u32, FolderName> = BTreeMap::new();
        for event in &given.history {
            if let Event::TicketCreated { cycle, folder, .. } = event {
                let first = folders.entry(*cycle).or_insert_with(|| folder.clone());
                prop_assert_eq!(&*first, folder);
            }
        }
        let state = given.state();
        for (cycle, set) in &state.ad_sets {
            prop_assert_eq!(Some(&set.folder), folders.get(cycle));
            prop_assert!(set.created() <= set.deliverables.get());
        }
    }

    #[test]
    fn the_status_moves_only_along_the_edges_the_rules_allow(steps in prop::collection::vec(step(), 1..250)) {
        let (_, accepted) = run(&steps);
        for (before, command, events, _) in accepted {
            let mut after = before.clone();
            for event in &events {
                after = Portfolio::evolve(Some(after), event).unwrap();
            }
            if after.cycle.number == before.cycle.number {
                prop_assert!(allowed_edge(before.status(), after.status()), "{:?} -> {:?} by {:?}", before.status(), after.status(), command);
            } else {
                // A cycle ends by declining (R4), implementation (R18), a cancel, a pause
                // or an end; each from the statuses it belongs to.
                let closed_by: Vec<_> = events.iter().filter(|e| closes_cycle(e)).collect();
                prop_assert_eq!(closed_by.len(), 1, "{:?}", command);
                let from_ok = match closed_by[0] {
                    Event::RefreshDeclined { .. } | Event::PortfolioPaused { .. } => before.current_ad_set().is_none() && matches!(before.status(), None | Some(RefreshStatus::RefreshRequestSubmitted)),
                    Event::CreativesImplemented { .. } => before.status() == Some(RefreshStatus::CreativesCompletedAndApproved),
                    Event::CycleCancelled { .. } => before.current_ad_set().is_some(),
                    _ => true,
                };
                prop_assert!(from_ok, "{:?} from {:?}", closed_by[0], before.status());
                prop_assert_eq!(after.status(), None);
            }
        }
    }

    // R11, R16: at every firing the whole set is there and out of work, the AM has
    // decided, and after the first round something came back to the client since the last
    // one (a revision, or a ticket added after the count was corrected).
    #[test]
    fn ad_set_ready_for_review_fires_exactly_once_per_round(steps in prop::collection::vec(step(), 1..300)) {
        let (given, _) = run(&steps);
        let mut state: Option<Portfolio> = None;
        let mut changed_since_firing = false;
        let mut rounds: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for event in &given.history {
            match event {
                Event::AdSetReadyForReview { cycle, round, .. } => {
                    let before = state.as_ref().unwrap();
                    let set = before.current_ad_set().unwrap();
                    prop_assert!(set.is_complete(), "round {} of an incomplete set", round);
                    prop_assert_eq!(set.count_with(TicketStatus::InProgress), 0);
                    prop_assert!(matches!(before.status(), Some(RefreshStatus::RefreshRequestSubmitted | RefreshStatus::DeliverablesSubmitted | RefreshStatus::CreativesPendingApproval)), "fired with status {:?}", before.status());
                    if *round > 1 {
                        prop_assert!(changed_since_firing, "round {} with nothing new for the client", round);
                    }
                    changed_since_firing = false;
                    rounds.entry(*cycle).or_default().push(*round);
                }
                Event::RevisionsRequested { .. } | Event::TicketCreated { .. } => changed_since_firing = true,
                _ => {}
            }
            state = Some(Portfolio::evolve(state, event).unwrap());
        }
        for (cycle, seen) in rounds {
            let expected: Vec<u32> = (1..=u32::try_from(seen.len()).unwrap()).collect();
            prop_assert_eq!(seen, expected, "cycle {}", cycle);
        }
    }

    #[test]
    fn the_refresh_date_changes_only_on_decline_and_on_implementation(steps in prop::collection::vec(step(), 1..250)) {
        let (_, accepted) = run(&steps);
        for (before, command, events, today) in accepted {
            let mut after = before.clone();
            for event in &events {
                after = Portfolio::evolve(Some(after), event).unwrap();
            }
            if after.refresh_date() != before.refresh_date() {
                let closes = events.iter().any(|e| matches!(e, Event::RefreshDeclined { .. } | Event::CreativesImplemented { .. } | Event::CycleCancelled { .. }));
                let set_by_admin = matches!(command, Command::Reschedule { .. } | Command::ResumePortfolio { .. });
                prop_assert!(closes || set_by_admin, "{:?} moved the date", command);
                if closes {
                    // The current date plus the cadence, skipping dates already past (R19).
                    prop_assert_eq!(after.refresh_date(), before.schedule.after_close(Some(today)).refresh_date());
                    prop_assert!(after.refresh_date() > today);
                }
            }
        }
    }

    #[test]
    fn replaying_the_emitted_events_rebuilds_the_same_state(steps in prop::collection::vec(step(), 1..250)) {
        let (given, _) = run(&steps);
        let rebuilt: Vec<Event> = given
            .history
            .iter()
            .map(|e| {
                let wire = e.encode();
                Event::decode(&wire.event_type, wire.schema_version, &wire.payload).unwrap()
            })
            .collect();
        prop_assert_eq!(Portfolio::from_history(&rebuilt).unwrap(), Portfolio::from_history(&given.history).unwrap());
    }

    // B5: nothing happens twice.
    #[test]
    fn no_task_and_no_email_is_ever_issued_twice(steps in prop::collection::vec(step(), 1..300)) {
        let (given, _) = run(&steps);
        let mut tasks = BTreeSet::new();
        let mut emails = BTreeSet::new();
        let mut kickoffs = BTreeSet::new();
        let mut resets = 0;
        for event in &given.history {
            match event {
                Event::TaskAssigned { task } => prop_assert!(tasks.insert(task.id), "task {:?} twice", task.kind),
                Event::EmailRequested { email } => prop_assert!(emails.insert(email.id), "email {:?} twice", email.kind),
                Event::KickoffReset { .. } => resets += 1,
                Event::RefreshKickedOff { cycle, .. } => prop_assert!(kickoffs.insert((*cycle, resets)), "kickoff twice in cycle {} without a reset", cycle),
                _ => {}
            }
        }
    }

    // B5: a command decided again after it was recorded (a retry that lost track of its
    // first attempt) never issues a task or an email a second time.
    #[test]
    fn deciding_a_recorded_command_again_issues_no_task_or_email_twice(steps in prop::collection::vec(step(), 1..120)) {
        let (given, accepted) = run(&steps);
        for (before, command, events, _) in accepted {
            let mut after = before.clone();
            for event in &events {
                after = Portfolio::evolve(Some(after), event).unwrap();
            }
            let context = Context { actor: Actor::admin(user(ADMIN)), now: given.today.and_hms_opt(8, 0, 0).unwrap().and_utc(), today: given.today, deadlines: given.deadlines };
            let Ok(again) = decide(Some(&after), &command, &context) else { continue };
            let issued = |events: &[Event]| -> BTreeSet<String> {
                events.iter().filter_map(|e| match e {
                    Event::TaskAssigned { task } => Some(task.id.to_string()),
                    Event::EmailRequested { email } => Some(email.id.to_string()),
                    _ => None,
                }).collect()
            };
            let twice: Vec<_> = issued(&events).intersection(&issued(&again)).cloned().collect();
            prop_assert!(twice.is_empty(), "{:?} issued {:?} again", command, twice);
        }
    }
}

/// A stage of the cycle, named for the report, and the event that shows it was reached.
type Stage = (&'static str, fn(&Event) -> bool);

/// The stage reached with an event of `variant`, named after it.
macro_rules! stage {
    ($variant:ident) => {
        (stringify!($variant), |event| {
            matches!(event, Event::$variant { .. })
        })
    };
}

/// The properties above are only as good as the histories they see: most random sequences
/// must get through review rounds, and some all the way through implementation.
#[test]
fn random_sequences_reach_every_stage_of_the_cycle() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = prop::collection::vec(step(), 250..300);
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let stages: [Stage; 12] = [
        stage!(AdSetReadyForReview),
        stage!(RevisionsRequested),
        stage!(CreativesImplemented),
        stage!(RefreshDeclined),
        stage!(CycleCancelled),
        stage!(PortfolioPaused),
        stage!(PortfolioResumed),
        stage!(TicketWithdrawn),
        stage!(DeliverableCountCorrected),
        stage!(CopySentBack),
        stage!(KickoffReset),
        stage!(TeamChanged),
    ];
    for _ in 0..200 {
        let steps = strategy.new_tree(&mut runner).unwrap().current();
        let (given, _) = run(&steps);
        for (stage, is_stage) in stages {
            *seen.entry(stage).or_default() += usize::from(given.history.iter().any(is_stage));
        }
    }
    let reached = |stage| seen.get(stage).copied().unwrap_or(0);
    let (reviewed, revised, implemented, declined) = (
        reached("AdSetReadyForReview"),
        reached("RevisionsRequested"),
        reached("CreativesImplemented"),
        reached("RefreshDeclined"),
    );
    for (stage, _) in &stages[4..] {
        assert!(reached(stage) >= 5, "{stage} in {} of 200", reached(stage));
    }
    assert!(reviewed > 100, "reviewed in {reviewed} of 200");
    assert!(revised > 40, "revised in {revised} of 200");
    assert!(implemented > 50, "implemented in {implemented} of 200");
    assert!(declined > 20, "declined in {declined} of 200");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    // R2, R6, B1: the scheduler may skip a portfolio until its next trigger date: a tick
    // before it changes nothing, so ticking only due portfolios loses nothing.
    #[test]
    fn ticking_before_the_next_trigger_date_changes_nothing(steps in prop::collection::vec(step(), 1..200), probe in 0u64..40) {
        let (given, _) = run(&steps);
        let state = given.state();
        let context = |today| Context { actor: Actor::System, now: given.today.and_hms_opt(9, 0, 0).unwrap().and_utc(), today, deadlines: given.deadlines };
        let today = given.today + chrono::Days::new(probe);
        let events = decide(Some(&state), &Command::Tick, &context(today)).unwrap();
        match next_trigger_date(&state, &given.deadlines) {
            Some(next) if today < next => prop_assert!(events.is_empty(), "{:?} before {}", events, next),
            Some(next) => {
                let on_the_date = decide(Some(&state), &Command::Tick, &context(next.max(given.today))).unwrap();
                prop_assert!(!on_the_date.is_empty(), "nothing fired on the trigger date {}", next);
            }
            None => prop_assert!(events.is_empty()),
        }
    }
}
