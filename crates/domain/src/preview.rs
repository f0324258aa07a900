//! The calendar of a portfolio: the dates on which its next kickoff, handoff and gate
//! deadlines will fire, and the same for a what-if reschedule, without changing anything.

use chrono::{Days, NaiveDate};
use serde::Serialize;

use crate::cadence::Cadence;
use crate::command::{Command, Context};
use crate::decide::automation::overlap_alert_date;
use crate::error::DomainError;
use crate::state::Portfolio;
use crate::status::RefreshStatus;
use crate::work::{Deadlines, KICKOFF_LEAD_DAYS, StallGate};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "gate", rename_all = "snake_case")]
pub enum Trigger {
    /// R2: the AM is asked to reach out to the client.
    Kickoff,
    /// R6: the SAS is asked for the tickets.
    Handoff,
    /// B1: the gate's alert fires if it is still closed that day.
    Deadline(StallGate),
    /// The next cycle comes due: its kickoff (R2) if this cycle has closed by then, else a
    /// `NextKickoffOverlap` alert (B1).
    NextKickoff,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct UpcomingTrigger {
    pub on: NaiveDate,
    pub trigger: Trigger,
}

fn plus(date: NaiveDate, days: u32) -> NaiveDate {
    date.checked_add_days(Days::new(days.into()))
        .unwrap_or(NaiveDate::MAX)
}

fn minus_lead(date: NaiveDate) -> NaiveDate {
    date.checked_sub_days(Days::new(KICKOFF_LEAD_DAYS.unsigned_abs()))
        .unwrap_or(NaiveDate::MIN)
}

/// What will fire, and when, if nobody acts: sorted by date.
pub fn upcoming(portfolio: &Portfolio, deadlines: &Deadlines) -> Vec<UpcomingTrigger> {
    let cycle = &portfolio.cycle;
    let refresh = portfolio.refresh_date();
    let mut triggers = Vec::new();
    let mut add = |on, trigger| triggers.push(UpcomingTrigger { on, trigger });
    if !cycle.kicked_off {
        add(minus_lead(refresh), Trigger::Kickoff);
    }
    if !cycle.handed_off {
        add(refresh, Trigger::Handoff);
    }
    let not_alerted = |gate| !cycle.alerts.contains(&(gate, cycle.review_round));
    if cycle.status.is_none() && not_alerted(StallGate::AmDecision) {
        add(
            plus(refresh, deadlines.am_decision_after_refresh),
            Trigger::Deadline(StallGate::AmDecision),
        );
    }
    let ticketed = portfolio
        .current_ad_set()
        .is_some_and(|set| set.is_complete());
    let before_review = matches!(
        cycle.status,
        None | Some(RefreshStatus::RefreshRequestSubmitted)
    );
    if !ticketed && before_review && !cycle.alerts.contains(&(StallGate::TicketSubmission, 0)) {
        add(
            plus(refresh, deadlines.tickets_after_refresh),
            Trigger::Deadline(StallGate::TicketSubmission),
        );
    }
    let with_client = portfolio
        .current_ad_set()
        .is_none_or(|set| set.count_with(crate::status::TicketStatus::InProgress) == 0);
    if let (Some(RefreshStatus::CreativesPendingApproval), Some(on)) =
        (cycle.status, cycle.review_started_on)
        && with_client
        && not_alerted(StallGate::ClientReview)
    {
        add(
            plus(on, deadlines.client_review),
            Trigger::Deadline(StallGate::ClientReview),
        );
    }
    if let (Some(RefreshStatus::CreativesCompletedAndApproved), Some(on)) =
        (cycle.status, cycle.approved_on)
        && !cycle.alerts.contains(&(StallGate::Implementation, 0))
    {
        add(
            plus(on, deadlines.implementation),
            Trigger::Deadline(StallGate::Implementation),
        );
    }
    add(overlap_alert_date(portfolio), Trigger::NextKickoff);
    triggers.sort();
    triggers
}

/// The calendar the portfolio would have if rescheduled to `cadence` and `refresh_date`
/// today, and whether the reschedule would be allowed at all. Nothing is recorded.
pub fn preview_reschedule(
    portfolio: &Portfolio,
    cadence: Cadence,
    refresh_date: NaiveDate,
    context: &Context,
) -> Result<Vec<UpcomingTrigger>, DomainError> {
    let command = Command::Reschedule {
        cadence,
        refresh_date,
    };
    // A preview is nobody's request: permissions are checked when the change is made.
    let events = crate::decide::decide_unchecked(Some(portfolio), &command, context)?;
    let mut after = portfolio.clone();
    for event in &events {
        after.apply(event);
    }
    let mut triggers = upcoming(&after, &context.deadlines);
    // What the reschedule itself would fire at once.
    if !portfolio.cycle.kicked_off && after.cycle.kicked_off {
        triggers.push(UpcomingTrigger {
            on: context.today,
            trigger: Trigger::Kickoff,
        });
    }
    if !portfolio.cycle.handed_off && after.cycle.handed_off {
        triggers.push(UpcomingTrigger {
            on: context.today,
            trigger: Trigger::Handoff,
        });
    }
    triggers.sort();
    Ok(triggers)
}
