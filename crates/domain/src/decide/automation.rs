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
    if !draft.state.is_active() {
        // Paused or ended: nothing is scheduled, and nothing is left to do.
        draft.take_date_triggers();
        close_finished_tasks(draft);
        return;
    }
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
    // Never on an undecided cycle: the AM's decision is a gate (R5, R11).
    let ready = cycle.is_in_fulfilment()
        && !set.cancelled
        && cycle.awaiting_review
        && set.is_complete()
        && set.count_with(TicketStatus::InProgress) == 0
        && set.count_with(TicketStatus::PendingApproval) > 0;
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

/// R2: once per cycle (again after a reschedule reset it), when the refresh date is 15 or
/// fewer days away.
fn kickoff(draft: &mut Draft<'_>) {
    let refresh_date = draft.state.refresh_date();
    let days_away = (refresh_date - draft.today()).num_days();
    if draft.state.cycle.kicked_off || days_away > KICKOFF_LEAD_DAYS {
        return;
    }
    let cycle = draft.state.cycle.number;
    let round = draft.state.cycle.kickoff_round;
    draft.emit(Event::RefreshKickedOff {
        cycle,
        refresh_date,
    });
    draft.assign(
        TaskKind::ReachOutToClient,
        Role::AccountManager,
        None,
        round,
        Some(refresh_date),
    );
    let details = draft.email_details();
    draft.email(
        EmailKind::Kickoff,
        &[Role::AccountManager],
        cycle,
        round,
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

const GATES: [StallGate; 6] = [
    StallGate::AmDecision,
    StallGate::TicketSubmission,
    StallGate::ClientReview,
    StallGate::SignOff,
    StallGate::Implementation,
    StallGate::NextKickoffOverlap,
];

/// The day `gate`'s alert fires if the gate is still closed then, or `None` while its
/// clock has not started. Deadlines count from the later of the refresh date and the day the
/// cycle opened (and, for tickets, the AM's decision), and never fall on the opening day:
/// a cycle that opens late starts with its kickoff, not with alerts.
pub(crate) fn gate_deadline(
    portfolio: &Portfolio,
    gate: StallGate,
    deadlines: &crate::work::Deadlines,
) -> Option<NaiveDate> {
    let cycle = &portfolio.cycle;
    let refresh_date = portfolio.refresh_date();
    let opened = cycle.opened_on.unwrap_or(NaiveDate::MIN);
    let deadline = match gate {
        StallGate::AmDecision => plus_days(
            refresh_date.max(opened),
            deadlines.am_decision_after_refresh,
        ),
        StallGate::TicketSubmission => plus_days(
            refresh_date
                .max(opened)
                .max(cycle.requested_on.unwrap_or(NaiveDate::MIN)),
            deadlines.tickets_after_refresh,
        ),
        StallGate::ClientReview | StallGate::SignOff => {
            plus_days(cycle.review_started_on?, deadlines.client_review)
        }
        StallGate::Implementation => plus_days(cycle.approved_on?, deadlines.implementation),
        StallGate::NextKickoffOverlap => overlap_alert_date(portfolio),
    };
    Some(deadline.max(plus_days(opened, 1)))
}

/// The round an alert of `gate` belongs to: review rounds for the client's answer and the
/// sign-off after it, one per cycle for the rest.
fn gate_round(portfolio: &Portfolio, gate: StallGate) -> u32 {
    match gate {
        StallGate::ClientReview | StallGate::SignOff => portfolio.cycle.review_round,
        _ => 0,
    }
}

/// The deadline of each gate that is currently stalled, with the round it belongs to.
fn stalled_gates(
    portfolio: &Portfolio,
    deadlines: &crate::work::Deadlines,
) -> Vec<(StallGate, u32, NaiveDate)> {
    GATES
        .into_iter()
        .filter_map(|gate| {
            let round = gate_round(portfolio, gate);
            if !gate_is_open(portfolio, gate, round) {
                return None;
            }
            gate_deadline(portfolio, gate, deadlines).map(|deadline| (gate, round, deadline))
        })
        .collect()
}

/// When a still-open cycle is overlapped by the next one: on the next refresh date itself,
/// when the next cycle's work would be due. (The next kickoff, 15 days before, comes due
/// during most monthly cycles with a revision round, which is no stall.)
pub(crate) fn overlap_alert_date(portfolio: &Portfolio) -> NaiveDate {
    portfolio.schedule.next_refresh_date()
}

/// Whether `gate` is still waiting for its person, whatever the date.
pub(crate) fn gate_is_open(portfolio: &Portfolio, gate: StallGate, round: u32) -> bool {
    let cycle = &portfolio.cycle;
    let set = portfolio.current_ad_set();
    let none_in_progress = set.is_none_or(|s| s.count_with(TicketStatus::InProgress) == 0);
    let in_review = cycle.status == Some(RefreshStatus::CreativesPendingApproval)
        && cycle.review_round == round
        && none_in_progress;
    let all_completed = set.is_some_and(|s| {
        s.is_complete() && s.count_with(TicketStatus::CompletedDeliverable) == s.created()
    });
    match gate {
        StallGate::AmDecision => cycle.status.is_none(),
        StallGate::TicketSubmission => {
            // Only once the AM decided: before that, the decision alert covers the stall.
            cycle.is_in_fulfilment() && !set.is_some_and(|s| s.is_complete())
        }
        StallGate::ClientReview => in_review && !all_completed,
        StallGate::SignOff => in_review && all_completed,
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
        let mut details = draft.email_details();
        if gate == StallGate::NextKickoffOverlap {
            details.days_late = Some((today - draft.state.refresh_date()).num_days());
        }
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
    if !portfolio.is_active() {
        return true;
    }
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
        TaskKind::ReachOutToClient => cycle.status.is_some() || task.round < cycle.kickoff_round,
        TaskKind::CreateDeliverables => matches!(
            cycle.status,
            Some(
                RefreshStatus::DeliverablesSubmitted
                    | RefreshStatus::CreativesPendingApproval
                    | RefreshStatus::CreativesCompletedAndApproved
            )
        ),
        TaskKind::WriteCopy | TaskKind::ReviseCopy | TaskKind::ReworkCopy => {
            part_done(|t| t.copy, |a| !a.awaits_author())
        }
        TaskKind::CreateGraphics | TaskKind::ReviseGraphics | TaskKind::ReworkGraphics => {
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
    if !portfolio.is_active() {
        return None;
    }
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
