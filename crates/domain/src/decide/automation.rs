//! What the process does by itself after every decision: the Ad Set review handoff (R11,
//! R16), the date triggers (R2, R6), stall alerts (B1), and closing tasks whose work is done.

use chrono::{Days, NaiveDate};

use super::draft::Draft;
use crate::event::Event;
use crate::state::Portfolio;
use crate::status::{Approval, RefreshStatus, TicketStatus};
use crate::team::Role;
use crate::work::{EmailKind, KICKOFF_LEAD_DAYS, StallGate, Task, TaskKind};

pub(super) fn react(draft: &mut Draft<'_>) {
    ad_set_review(draft);
    if draft.take_date_triggers() {
        kickoff(draft);
        handoff(draft);
        stall_alerts(draft);
    }
    close_finished_tasks(draft);
}

fn plus_days(date: NaiveDate, days: u32) -> NaiveDate {
    date.checked_add_days(Days::new(days.into()))
        .unwrap_or(NaiveDate::MAX)
}

/// R11 and R16: when every ticket of the Ad Set is out of work and at least one came back
/// since the last round, a new review round starts. The decision runs inside the portfolio's
/// single stream, so concurrent last approvals serialize and this fires once per round.
fn ad_set_review(draft: &mut Draft<'_>) {
    let cycle = &draft.state.cycle;
    let Some(set) = draft.state.current_ad_set() else {
        return;
    };
    let ready = cycle.awaiting_review
        && set.is_complete()
        && set.count_with(TicketStatus::InProgress) == 0
        && set.count_with(TicketStatus::PendingApproval) > 0
        && !matches!(
            cycle.status,
            Some(RefreshStatus::CreativesCompletedAndApproved)
        );
    if !ready {
        return;
    }
    let round = cycle.review_round + 1;
    let number = cycle.number;
    draft.emit(Event::AdSetReadyForReview {
        cycle: number,
        folder: set.folder.clone(),
        round,
        on: draft.today(),
    });
    let today = draft.today();
    draft.assign(
        TaskKind::ShareDraftedDeliverables,
        Role::AccountManager,
        None,
        round,
        Some(today),
    );
    let details = draft.email_details();
    draft.email(
        EmailKind::ReadyForClientReview,
        &[Role::AccountManager, Role::SocialAdSpecialist],
        number,
        round,
        &details,
    );
}

/// R2: once per cycle, when the refresh date is 15 or fewer days away.
fn kickoff(draft: &mut Draft<'_>) {
    let refresh_date = draft.state.refresh_date();
    let days_away = (refresh_date - draft.today()).num_days();
    if draft.state.cycle.kicked_off || days_away > KICKOFF_LEAD_DAYS {
        return;
    }
    let cycle = draft.state.cycle.number;
    draft.emit(Event::RefreshKickedOff {
        cycle,
        refresh_date,
    });
    draft.assign(
        TaskKind::ReachOutToClient,
        Role::AccountManager,
        None,
        0,
        Some(refresh_date),
    );
    let details = draft.email_details();
    draft.email(
        EmailKind::Kickoff,
        &[Role::AccountManager],
        cycle,
        0,
        &details,
    );
}

/// R6: on the refresh date the SAS is asked for the tickets, decided or not. A declined
/// cycle is already closed, so it never gets here.
fn handoff(draft: &mut Draft<'_>) {
    let refresh_date = draft.state.refresh_date();
    if draft.state.cycle.handed_off || draft.today() < refresh_date {
        return;
    }
    let cycle = draft.state.cycle.number;
    let decision_missing = draft.state.status().is_none();
    draft.emit(Event::DeliverablesRequested {
        cycle,
        refresh_date,
        decision_missing,
    });
    let due = plus_days(refresh_date, draft.context.deadlines.tickets_after_refresh);
    draft.assign(
        TaskKind::CreateDeliverables,
        Role::SocialAdSpecialist,
        None,
        0,
        Some(due),
    );
    let details = draft.email_details();
    draft.email(
        EmailKind::DeliverablesDue,
        &[Role::SocialAdSpecialist],
        cycle,
        0,
        &details,
    );
}

/// The deadline of each gate that is currently stalled, with the round it belongs to.
fn stalled_gates(
    portfolio: &Portfolio,
    deadlines: &crate::work::Deadlines,
) -> Vec<(StallGate, u32, NaiveDate)> {
    let cycle = &portfolio.cycle;
    let refresh_date = portfolio.refresh_date();
    let mut gates = Vec::new();
    for gate in [
        StallGate::AmDecision,
        StallGate::TicketSubmission,
        StallGate::ClientReview,
        StallGate::Implementation,
        StallGate::NextKickoffOverlap,
    ] {
        if !gate_is_open(portfolio, gate, cycle.review_round) {
            continue;
        }
        let deadline = match gate {
            StallGate::AmDecision => {
                Some(plus_days(refresh_date, deadlines.am_decision_after_refresh))
            }
            StallGate::TicketSubmission => {
                Some(plus_days(refresh_date, deadlines.tickets_after_refresh))
            }
            StallGate::ClientReview => cycle
                .review_started_on
                .map(|on| plus_days(on, deadlines.client_review)),
            StallGate::Implementation => cycle
                .approved_on
                .map(|on| plus_days(on, deadlines.implementation)),
            StallGate::NextKickoffOverlap => Some(overlap_alert_date(portfolio)),
        };
        if let Some(deadline) = deadline {
            let round = if gate == StallGate::ClientReview {
                cycle.review_round
            } else {
                0
            };
            gates.push((gate, round, deadline));
        }
    }
    gates
}

/// When a still-open cycle is overlapped by the next one: the next kickoff date (R2). With a
/// cadence of about two weeks or less the next kickoff falls before this cycle's own refresh
/// date, so every cycle would "overlap" at its start; then the alert waits for the next
/// refresh date itself, when the next cycle's work is really due.
pub(crate) fn overlap_alert_date(portfolio: &Portfolio) -> NaiveDate {
    let next_refresh = portfolio.schedule.next_refresh_date();
    let next_kickoff = next_refresh
        .checked_sub_days(Days::new(KICKOFF_LEAD_DAYS.unsigned_abs()))
        .unwrap_or(NaiveDate::MIN);
    if next_kickoff > portfolio.refresh_date() {
        next_kickoff
    } else {
        next_refresh
    }
}

/// Whether `gate` is still waiting for its person, whatever the date.
fn gate_is_open(portfolio: &Portfolio, gate: StallGate, round: u32) -> bool {
    let cycle = &portfolio.cycle;
    let set = portfolio.current_ad_set();
    let none_in_progress = set.is_none_or(|s| s.count_with(TicketStatus::InProgress) == 0);
    match gate {
        StallGate::AmDecision => cycle.status.is_none(),
        StallGate::TicketSubmission => {
            let ticketing =
                cycle.handed_off || cycle.status == Some(RefreshStatus::RefreshRequestSubmitted);
            ticketing && !set.is_some_and(|s| s.is_complete())
        }
        StallGate::ClientReview => {
            cycle.status == Some(RefreshStatus::CreativesPendingApproval)
                && cycle.review_round == round
                && none_in_progress
        }
        StallGate::Implementation => {
            cycle.status == Some(RefreshStatus::CreativesCompletedAndApproved)
        }
        StallGate::NextKickoffOverlap => cycle.is_underway(),
    }
}

/// B1: a missed deadline alerts the responsible person and the Team Lead, once.
fn stall_alerts(draft: &mut Draft<'_>) {
    let today = draft.today();
    for (gate, round, deadline) in stalled_gates(&draft.state, &draft.context.deadlines) {
        if today < deadline || draft.state.cycle.alerts.contains(&(gate, round)) {
            continue;
        }
        let cycle = draft.state.cycle.number;
        draft.emit(Event::StallAlertRaised {
            cycle,
            gate,
            round,
            deadline,
        });
        let responsible = gate.responsible();
        let team = draft.state.team;
        draft.assign(
            TaskKind::StallAlert(gate),
            responsible,
            None,
            round,
            Some(today),
        );
        if team.member(Role::TeamLead) != team.member(responsible) {
            draft.assign(
                TaskKind::StallAlert(gate),
                Role::TeamLead,
                None,
                round,
                Some(today),
            );
        }
        let details = draft.email_details();
        draft.email(
            EmailKind::StallAlert(gate),
            &[responsible, Role::TeamLead],
            cycle,
            round,
            &details,
        );
    }
}

/// Whether the work a task asks for is done (or no longer wanted), so it can close itself.
fn is_finished(portfolio: &Portfolio, task: &Task) -> bool {
    let cycle = &portfolio.cycle;
    if task.cycle < cycle.number {
        // A closed cycle leaves nothing to do but the AM's confirmation with the client.
        return task.kind != TaskKind::ConfirmAdsRunning;
    }
    let ticket = task.ticket.and_then(|id| portfolio.ticket(id));
    let part_done = |approval: fn(&crate::state::Ticket) -> Approval,
                     done: fn(Approval) -> bool| {
        ticket.is_none_or(|t| t.status == TicketStatus::CompletedDeliverable || done(approval(t)))
    };
    match task.kind {
        TaskKind::ReachOutToClient => cycle.status.is_some(),
        TaskKind::CreateDeliverables => matches!(
            cycle.status,
            Some(
                RefreshStatus::DeliverablesSubmitted
                    | RefreshStatus::CreativesPendingApproval
                    | RefreshStatus::CreativesCompletedAndApproved
            )
        ),
        TaskKind::WriteCopy | TaskKind::ReviseCopy => part_done(|t| t.copy, |a| !a.awaits_author()),
        TaskKind::CreateGraphics | TaskKind::ReviseGraphics => {
            part_done(|t| t.graphic, |a| !a.awaits_author())
        }
        TaskKind::ReviewCopy => part_done(|t| t.copy, |a| a != Approval::AwaitingQa),
        TaskKind::ReviewGraphics => part_done(|t| t.graphic, |a| a != Approval::AwaitingQa),
        TaskKind::ShareDraftedDeliverables => {
            !gate_is_open(portfolio, StallGate::ClientReview, task.round)
        }
        TaskKind::ImplementNewCreatives => {
            cycle.status != Some(RefreshStatus::CreativesCompletedAndApproved)
        }
        TaskKind::ConfirmAdsRunning => false,
        TaskKind::StallAlert(gate) => !gate_is_open(portfolio, gate, task.round),
    }
}

fn close_finished_tasks(draft: &mut Draft<'_>) {
    let finished: Vec<_> = draft
        .state
        .open_tasks
        .values()
        .filter(|task| is_finished(&draft.state, task))
        .map(|task| task.id)
        .collect();
    for task_id in finished {
        draft.emit(Event::TaskCompleted { task_id, by: None });
    }
}

/// The first date on which the scheduler's tick would change `portfolio`: its kickoff, its
/// handoff, or a gate deadline not yet alerted. `None` while nothing is scheduled. The
/// scheduler only ticks portfolios whose date has come.
pub fn next_trigger_date(
    portfolio: &Portfolio,
    deadlines: &crate::work::Deadlines,
) -> Option<NaiveDate> {
    let cycle = &portfolio.cycle;
    let refresh_date = portfolio.refresh_date();
    let kickoff = (!cycle.kicked_off).then(|| {
        refresh_date
            .checked_sub_days(Days::new(KICKOFF_LEAD_DAYS.unsigned_abs()))
            .unwrap_or(NaiveDate::MIN)
    });
    let handoff = (!cycle.handed_off).then_some(refresh_date);
    let alerts = stalled_gates(portfolio, deadlines)
        .into_iter()
        .filter(|(gate, round, _)| !cycle.alerts.contains(&(*gate, *round)))
        .map(|(_, _, deadline)| deadline);
    kickoff.into_iter().chain(handoff).chain(alerts).min()
}
