//! The year's log against the rules, recomputed independently of the domain's own logic
//! wherever that is possible: from event dates, not from the domain's predicates.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Days, NaiveDate};
use freshet_domain::*;
use freshet_follower::decode;
use freshet_service::load_portfolio;
use freshet_store::StreamId;

use crate::world::Simulation;

/// One portfolio's history, each event with the agency date it was recorded on.
pub struct History {
    pub id: PortfolioId,
    pub cadence: Cadence,
    pub events: Vec<(NaiveDate, Event)>,
    pub state: Portfolio,
}

/// What happened in one cycle, by date.
#[derive(Default, Debug)]
struct CycleLog {
    number: u32,
    /// The day the cycle began: creation, or the close of the cycle before.
    began_on: Option<NaiveDate>,
    refresh_date: Option<NaiveDate>,
    kickoffs: u32,
    decided_on: Option<NaiveDate>,
    requested_on: Option<NaiveDate>,
    declined_on: Option<NaiveDate>,
    handed_off: bool,
    tickets: u32,
    ticketed_on: Option<NaiveDate>,
    deliverables: u32,
    rounds: BTreeMap<u32, NaiveDate>,
    answered: BTreeMap<u32, NaiveDate>,
    approved_on: Option<NaiveDate>,
    implemented_on: Option<NaiveDate>,
    cancelled_on: Option<NaiveDate>,
    /// An Admin resumed the portfolio on the first day, to the second (a paused client).
    resumed: Option<(NaiveDate, NaiveDate)>,
    /// The day an Admin paused the portfolio, unless it was resumed since: nothing is
    /// scheduled while it is paused.
    paused_on: Option<NaiveDate>,
    team_changes: u32,
    /// The cadence an Admin set during the cycle.
    new_cadence: Option<Cadence>,
    /// Who each stall alert's task went to: gate, round, role.
    alerted: Vec<(StallGate, u32, Role)>,
    next_refresh: Option<NaiveDate>,
    alerts: Vec<(StallGate, u32, NaiveDate, NaiveDate)>,
    emails: BTreeMap<EmailKind, u32>,
}

impl CycleLog {
    fn closed_on(&self) -> Option<NaiveDate> {
        self.declined_on
            .or(self.implemented_on)
            .or(self.cancelled_on)
    }
}

/// Who B1 gives each gate to, besides the Team Lead: the person whose move it is.
fn responsible_for(gate: StallGate) -> Role {
    match gate {
        StallGate::TicketSubmission | StallGate::Implementation => Role::SocialAdSpecialist,
        _ => Role::AccountManager,
    }
}

pub struct Checks {
    histories: Vec<History>,
    last_day: NaiveDate,
}

impl Checks {
    pub async fn load(simulation: &Simulation) -> Self {
        let calendar = simulation.service.config().calendar;
        let mut histories = Vec::new();
        for (id, cadence) in &simulation.portfolios {
            let stream = StreamId::new(id.stream_name()).unwrap();
            let records = simulation.store.read_stream(&stream, 1).await.unwrap();
            let events = records
                .iter()
                .map(|r| (calendar.today(r.recorded_at), decode(r).unwrap()))
                .collect();
            let state = load_portfolio(simulation.store.as_ref(), *id)
                .await
                .unwrap()
                .unwrap();
            histories.push(History {
                id: *id,
                cadence: *cadence,
                events,
                state,
            });
        }
        Self {
            histories,
            last_day: simulation.last_date(),
        }
    }

    /// How many portfolios are still paused on the last day.
    pub fn paused_at_the_end(&self) -> usize {
        self.histories
            .iter()
            .filter(|history| matches!(history.state.lifecycle, Lifecycle::Paused(_)))
            .count()
    }

    pub fn assert_all(&self) {
        let mut totals = BTreeMap::new();
        let mut task_ids = BTreeSet::new();
        let mut email_ids = BTreeSet::new();
        for history in &self.histories {
            for (_, event) in &history.events {
                *totals.entry(event.event_type()).or_insert(0u32) += 1;
                match event {
                    Event::TaskAssigned { task } => assert!(
                        task_ids.insert(task.id),
                        "task {:?} assigned twice",
                        task.kind
                    ),
                    Event::EmailRequested { email } => assert!(
                        email_ids.insert(email.id),
                        "email {:?} requested twice",
                        email.kind
                    ),
                    _ => {}
                }
            }
            let cycles = cycle_logs(history);
            let next_on_schedule = self.refresh_dates_follow_the_cadence(history, &cycles);
            for (number, cycle) in &cycles {
                let context = format!("portfolio {} cycle {number}: {cycle:?}", history.id);
                self.one_kickoff_per_cycle(cycle, &context);
                self.declined_cycles_get_no_sas_work(cycle, &context);
                self.each_required_email_once(cycle, &context);
                self.alerts_fire_exactly_when_deadlines_are_missed(
                    next_on_schedule[number],
                    cycle,
                    &context,
                );
            }
            self.no_open_task_without_a_reason(history);
        }
        // The simulation must have exercised the whole process, or the checks prove little.
        for (event, at_least) in [
            ("RefreshDeclined", 20),
            ("RevisionsRequested", 50),
            ("AdSetReadyForReview", 100),
            ("CreativesImplemented", 50),
            ("StallAlertRaised", 20),
            ("CycleCancelled", 1),
            ("TicketWithdrawn", 2),
            ("DeliverableCountCorrected", 2),
            ("PortfolioPaused", 1),
            ("PortfolioResumed", 1),
            ("TeamChanged", 1),
            ("PortfolioRescheduled", 1),
        ] {
            let seen = totals.get(event).copied().unwrap_or_default();
            assert!(
                seen >= at_least * self.histories.len() as u32 / 50,
                "only {seen} {event} in the year: {totals:?}"
            );
        }
        let by_task = self
            .histories
            .iter()
            .flat_map(|h| &h.events)
            .filter(|(_, e)| {
                matches!(
                    e,
                    Event::CreativesImplemented {
                        via: ImplementationPath::TaskCompleted,
                        ..
                    }
                )
            })
            .count();
        let by_hand = self
            .histories
            .iter()
            .flat_map(|h| &h.events)
            .filter(|(_, e)| {
                matches!(
                    e,
                    Event::CreativesImplemented {
                        via: ImplementationPath::StatusMoved,
                        ..
                    }
                )
            })
            .count();
        assert!(
            by_task > 0 && by_hand > 0,
            "both implementation paths: {by_task} by task, {by_hand} by hand"
        );
    }

    // R1, R4, R19: each closed cycle moves the date by one cadence (the one in force when
    // it closes), and by more only past dates that had already gone by when it closed.
    fn refresh_dates_follow_the_cadence(
        &self,
        history: &History,
        cycles: &BTreeMap<u32, CycleLog>,
    ) -> BTreeMap<u32, NaiveDate> {
        let mut next_on_schedule = BTreeMap::new();
        let mut cadence = history.cadence;
        let mut anchor = cycles[&1].refresh_date.expect("the first refresh date");
        let mut period = 0;
        for (number, cycle) in cycles {
            let context = format!("portfolio {} cycle {number}", history.id);
            if let Some((resumed_on, to)) = cycle.resumed {
                // Resumed on the schedule's first date after the day of the resume.
                while cadence.advance(anchor, period).unwrap() <= resumed_on {
                    period += 1;
                }
                assert_eq!(
                    Some(to),
                    cadence.advance(anchor, period),
                    "{context}: resumed"
                );
            }
            assert_eq!(
                cycle.refresh_date,
                cadence.advance(anchor, period),
                "{context}"
            );
            if let Some(new_cadence) = cycle.new_cadence {
                // A new cadence counts from the current date on.
                (cadence, anchor, period) = (new_cadence, cycle.refresh_date.unwrap(), 0);
            }
            next_on_schedule.insert(*number, cadence.advance(anchor, period + 1).unwrap());
            if let Some(next) = cycle.next_refresh {
                let closed_on = cycle.closed_on().unwrap();
                period += 1;
                while cadence.advance(anchor, period).unwrap() <= closed_on {
                    period += 1;
                }
                assert_eq!(Some(next), cadence.advance(anchor, period), "{context}");
            }
        }
        next_on_schedule
    }

    /// The last day the scheduler ticked `cycle`: the day its portfolio was paused (the tick
    /// comes first), or the last day of the run.
    fn active_until(&self, cycle: &CycleLog) -> NaiveDate {
        cycle.paused_on.unwrap_or(self.last_day)
    }

    // R2: exactly one kickoff per cycle that reached its kickoff date while active.
    fn one_kickoff_per_cycle(&self, cycle: &CycleLog, context: &str) {
        let kickoff_date = cycle.refresh_date.unwrap() - Days::new(15);
        let expected = u32::from(kickoff_date <= self.active_until(cycle));
        assert_eq!(cycle.kickoffs, expected, "{context}");
    }

    // R4: a cycle declined before its date gets no SAS task and no tickets.
    fn declined_cycles_get_no_sas_work(&self, cycle: &CycleLog, context: &str) {
        if let Some(declined) = cycle.declined_on {
            assert_eq!(cycle.tickets, 0, "{context}");
            if declined < cycle.refresh_date.unwrap() {
                assert!(!cycle.handed_off, "{context}");
            }
        }
    }

    // R2, R6, R11, R16, R17, R19, B1: each email the rules call for, once.
    fn each_required_email_once(&self, cycle: &CycleLog, context: &str) {
        let count = |kind| cycle.emails.get(&kind).copied().unwrap_or_default();
        assert_eq!(count(EmailKind::Kickoff), cycle.kickoffs, "{context}");
        assert_eq!(
            count(EmailKind::DeliverablesDue),
            u32::from(cycle.handed_off),
            "{context}"
        );
        let rounds = u32::try_from(cycle.rounds.len()).unwrap();
        assert_eq!(
            count(EmailKind::ReadyForClientReview),
            2 * rounds,
            "{context}: the AM and the SAS each round"
        );
        assert_eq!(
            count(EmailKind::CreativesApproved),
            u32::from(cycle.approved_on.is_some()),
            "{context}"
        );
        assert_eq!(
            count(EmailKind::CreativesLive),
            u32::from(cycle.implemented_on.is_some()),
            "{context}"
        );
        let alert_emails: u32 = cycle
            .emails
            .iter()
            .filter(|(k, _)| matches!(k, EmailKind::StallAlert(_)))
            .map(|(_, n)| n)
            .sum();
        assert_eq!(
            alert_emails,
            2 * u32::try_from(cycle.alerts.len()).unwrap(),
            "{context}: the responsible person and the Team Lead"
        );
        assert_eq!(
            count(EmailKind::CycleCancelled),
            4 * u32::from(cycle.cancelled_on.is_some()),
            "{context}: a cancel tells the SAS, the Copywriter, the Designer and the Team Lead"
        );
        assert_eq!(
            count(EmailKind::WorkReassigned),
            cycle.team_changes,
            "{context}: each copywriting move tells the new Copywriter"
        );
    }

    // B1: an alert fires on the deadline's day exactly when the gate is still closed that
    // morning (the scheduler ticks before anyone acts), and never otherwise.
    fn alerts_fire_exactly_when_deadlines_are_missed(
        &self,
        next_on_schedule: NaiveDate,
        cycle: &CycleLog,
        context: &str,
    ) {
        let deadlines = Deadlines::default();
        let refresh = cycle.refresh_date.unwrap();
        let closed_on = cycle.closed_on();
        let open_until = |opened: Option<NaiveDate>| opened.or(closed_on);
        let active_until = self.active_until(cycle);
        let missed = |deadline: NaiveDate, gate_opened: Option<NaiveDate>| {
            deadline <= active_until
                && open_until(gate_opened).is_none_or(|opened| opened >= deadline)
        };
        let mut expected: Vec<(StallGate, u32, NaiveDate)> = Vec::new();
        // Deadlines count from the later of the refresh date and the day the cycle began, and
        // never fall on the day it began.
        let began = cycle.began_on.unwrap();
        let after =
            |from: NaiveDate, days: u32| (from + Days::new(days.into())).max(began + Days::new(1));
        let decision_deadline = after(refresh.max(began), deadlines.am_decision_after_refresh);
        if missed(decision_deadline, cycle.decided_on) {
            expected.push((StallGate::AmDecision, 0, decision_deadline));
        }
        // The ticket clock starts with the AM's request, never before (the SAS waits).
        if let Some(requested) = cycle.requested_on {
            let tickets_deadline = after(
                refresh.max(began).max(requested),
                deadlines.tickets_after_refresh,
            );
            if missed(tickets_deadline, cycle.ticketed_on) {
                expected.push((StallGate::TicketSubmission, 0, tickets_deadline));
            }
        }
        for (round, started) in &cycle.rounds {
            let deadline = after(*started, deadlines.client_review);
            if missed(deadline, cycle.answered.get(round).copied()) {
                expected.push((StallGate::ClientReview, *round, deadline));
            }
        }
        if let Some(approved) = cycle.approved_on {
            let deadline = after(approved, deadlines.implementation);
            if missed(deadline, cycle.implemented_on) {
                expected.push((StallGate::Implementation, 0, deadline));
            }
        }
        // The overlap alert: still open on the next refresh date itself.
        let next_refresh = after(next_on_schedule, 0);
        if cycle.kickoffs > 0 && missed(next_refresh, None) {
            expected.push((StallGate::NextKickoffOverlap, 0, next_refresh));
        }
        let mut raised: Vec<(StallGate, u32, NaiveDate)> = cycle
            .alerts
            .iter()
            .map(|(gate, round, deadline, on)| {
                // On the deadline's morning; or, for a cycle that could only begin after its
                // deadline because the one before ran late, the day it began.
                let due = (*deadline).max(cycle.began_on.unwrap());
                assert_eq!(
                    *on, due,
                    "{context}: {gate:?} fired on {on}, its deadline was {deadline}"
                );
                (*gate, *round, *deadline)
            })
            .collect();
        raised.sort();
        expected.sort();
        assert_eq!(raised, expected, "{context}");
        // Who was alerted, and why: the person whose move it is and the Team Lead, once.
        for (gate, round, _) in &raised {
            let mut roles: Vec<Role> = cycle
                .alerted
                .iter()
                .filter(|(g, r, _)| g == gate && r == round)
                .map(|(_, _, role)| *role)
                .collect();
            roles.sort();
            let mut wanted = vec![responsible_for(*gate), Role::TeamLead];
            wanted.sort();
            assert_eq!(
                roles,
                wanted,
                "{context}: {gate:?} (round {round}) alerted {roles:?}, B1 names the {} and the Team Lead",
                responsible_for(*gate)
            );
        }
    }

    /// At year end, every open task still has work behind it.
    fn no_open_task_without_a_reason(&self, history: &History) {
        let state = &history.state;
        let cycle = &state.cycle;
        let set = state.current_ad_set();
        let ticket = |task: &Task| task.ticket.and_then(|id| state.ticket(id)).cloned();
        for task in state.open_tasks.values() {
            let reason = match task.kind {
                TaskKind::ConfirmAdsRunning => task.cycle < cycle.number,
                _ if task.cycle != cycle.number => false,
                TaskKind::ReachOutToClient => cycle.status.is_none(),
                TaskKind::CreateDeliverables => matches!(
                    cycle.status,
                    None | Some(RefreshStatus::RefreshRequestSubmitted)
                ),
                TaskKind::WriteCopy | TaskKind::ReviseCopy | TaskKind::ReworkCopy => {
                    ticket(task).is_some_and(|t| t.copy.awaits_author())
                }
                TaskKind::CreateGraphics | TaskKind::ReviseGraphics | TaskKind::ReworkGraphics => {
                    ticket(task).is_some_and(|t| t.graphic.awaits_author())
                }
                TaskKind::ReviewCopy => {
                    ticket(task).is_some_and(|t| t.copy == Approval::AwaitingQa)
                }
                TaskKind::ReviewGraphics => {
                    ticket(task).is_some_and(|t| t.graphic == Approval::AwaitingQa)
                }
                TaskKind::ShareDraftedDeliverables => {
                    cycle.status == Some(RefreshStatus::CreativesPendingApproval)
                        && task.round == cycle.review_round
                }
                TaskKind::ImplementNewCreatives => {
                    cycle.status == Some(RefreshStatus::CreativesCompletedAndApproved)
                }
                TaskKind::StallAlert(StallGate::AmDecision) => cycle.status.is_none(),
                TaskKind::StallAlert(StallGate::TicketSubmission) => {
                    !set.is_some_and(AdSet::is_complete)
                }
                TaskKind::StallAlert(StallGate::ClientReview | StallGate::SignOff) => {
                    cycle.status == Some(RefreshStatus::CreativesPendingApproval)
                }
                TaskKind::StallAlert(StallGate::Implementation) => {
                    cycle.status == Some(RefreshStatus::CreativesCompletedAndApproved)
                }
                TaskKind::StallAlert(StallGate::NextKickoffOverlap) => true,
            };
            assert!(
                reason,
                "portfolio {}: open task {:?} has no reason left: {:?}",
                history.id, task, cycle
            );
        }
    }
}

/// Splits a history into cycles and notes, by date, when each thing happened.
fn cycle_logs(history: &History) -> BTreeMap<u32, CycleLog> {
    let mut cycles: BTreeMap<u32, CycleLog> = BTreeMap::new();
    let mut current = 1;
    let mut refresh = None;
    let mut round_of_ticket: BTreeMap<TicketId, u32> = BTreeMap::new();
    let mut began_on = history.events[0].0;
    for (on, event) in &history.events {
        if let Event::EmailRequested { email } = event {
            // The live email belongs to the cycle it closes: count by the email's own cycle.
            *cycles
                .entry(email.cycle)
                .or_default()
                .emails
                .entry(email.kind)
                .or_default() += 1;
            continue;
        }
        let cycle = cycles.entry(current).or_default();
        cycle.number = current;
        cycle.began_on.get_or_insert(began_on);
        if cycle.refresh_date.is_none() {
            cycle.refresh_date = refresh;
        }
        match event {
            Event::PortfolioCreated { refresh_date, .. } => {
                refresh = Some(*refresh_date);
                cycle.refresh_date = refresh;
            }
            Event::RefreshKickedOff { .. } => {
                assert_eq!(
                    cycle.paused_on, None,
                    "{}: kicked off while paused",
                    history.id
                );
                cycle.kickoffs += 1;
            }
            Event::RefreshRequested { .. } => {
                cycle.decided_on = Some(*on);
                cycle.requested_on = Some(*on);
            }
            Event::DeliverablesRequested { .. } => cycle.handed_off = true,
            Event::TicketCreated {
                deliverables,
                ticket_id,
                ..
            } => {
                cycle.tickets += 1;
                cycle.deliverables = deliverables.get();
                round_of_ticket.insert(*ticket_id, current);
                if cycle.tickets == cycle.deliverables {
                    cycle.ticketed_on.get_or_insert(*on);
                }
            }
            Event::TicketWithdrawn { .. } => cycle.tickets -= 1,
            Event::DeliverableCountCorrected { deliverables, .. } => {
                cycle.deliverables = deliverables.get();
                if cycle.tickets == cycle.deliverables {
                    cycle.ticketed_on.get_or_insert(*on);
                }
            }
            Event::TeamChanged { .. } => cycle.team_changes += 1,
            Event::PortfolioRescheduled { cadence, .. } => cycle.new_cadence = Some(*cadence),
            Event::PortfolioPaused { .. } => {
                // The Admin pauses between cycles only: a pause that sets a cycle aside
                // would open the next one, which these logs do not follow.
                let underway = cycle.kickoffs > 0 || cycle.handed_off || cycle.decided_on.is_some();
                assert!(!underway, "{}: paused an underway cycle", history.id);
                cycle.paused_on = Some(*on);
            }
            Event::PortfolioResumed { refresh_date, on } => {
                cycle.paused_on = None;
                cycle.resumed = Some((*on, *refresh_date));
                cycle.refresh_date = Some(*refresh_date);
                cycle.began_on = Some(*on);
                refresh = Some(*refresh_date);
            }
            Event::CycleCancelled {
                next_refresh_date, ..
            } => {
                cycle.cancelled_on = Some(*on);
                cycle.next_refresh = Some(*next_refresh_date);
                refresh = Some(*next_refresh_date);
                began_on = *on;
                current += 1;
            }
            Event::TaskAssigned { task } => {
                if let TaskKind::StallAlert(gate) = task.kind {
                    cycle.alerted.push((gate, task.round, task.role));
                }
            }
            Event::AdSetReadyForReview { round, .. } => {
                cycle.rounds.insert(*round, *on);
            }
            Event::RevisionsRequested { .. } => {
                let round = *cycle.rounds.keys().last().unwrap();
                cycle.answered.entry(round).or_insert(*on);
            }
            Event::CreativesApproved { .. } => {
                cycle.approved_on = Some(*on);
                let round = *cycle.rounds.keys().last().unwrap();
                cycle.answered.entry(round).or_insert(*on);
            }
            Event::RefreshDeclined {
                next_refresh_date, ..
            }
            | Event::CreativesImplemented {
                next_refresh_date, ..
            } => {
                if matches!(event, Event::RefreshDeclined { .. }) {
                    cycle.declined_on = Some(*on);
                    cycle.decided_on.get_or_insert(*on);
                } else {
                    cycle.implemented_on = Some(*on);
                }
                cycle.next_refresh = Some(*next_refresh_date);
                refresh = Some(*next_refresh_date);
                began_on = *on;
                current += 1;
            }
            Event::StallAlertRaised {
                gate,
                round,
                deadline,
                cycle: number,
            } => {
                assert_eq!(*number, current);
                assert_eq!(
                    cycle.paused_on, None,
                    "{}: alerted while paused",
                    history.id
                );
                cycle.alerts.push((*gate, *round, *deadline, *on));
            }
            _ => {}
        }
    }
    cycles
}
