//! The calendar of a portfolio: the dates on which its next kickoff, handoff and gate
//! deadlines will fire, and the same for a what-if reschedule, without changing anything.

use chrono::{Days, NaiveDate};
use serde::Serialize;

use crate::cadence::Cadence;
use crate::command::{Command, Context};
use crate::decide::automation::{gate_deadline, gate_is_open, overlap_alert_date};
use crate::error::DomainError;
use crate::state::Portfolio;
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
    /// The next Creative Refresh Date: if this cycle is still open then, the
    /// `NextKickoffOverlap` alert fires (B1).
    NextRefreshDate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct UpcomingTrigger {
    pub on: NaiveDate,
    pub trigger: Trigger,
}

fn minus_lead(date: NaiveDate) -> NaiveDate {
    date.checked_sub_days(Days::new(KICKOFF_LEAD_DAYS.unsigned_abs()))
        .unwrap_or(NaiveDate::MIN)
}

/// What will fire, and when, if nobody acts: sorted by date.
pub fn upcoming(portfolio: &Portfolio, deadlines: &Deadlines) -> Vec<UpcomingTrigger> {
    if !portfolio.is_active() {
        // Paused or ended: nothing fires; the portfolio's lifecycle says why.
        return Vec::new();
    }
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
    let ticketed = portfolio
        .current_ad_set()
        .is_some_and(|set| set.is_complete());
    for gate in [
        StallGate::AmDecision,
        StallGate::TicketSubmission,
        StallGate::ClientReview,
        StallGate::SignOff,
        StallGate::Implementation,
    ] {
        let round = match gate {
            StallGate::ClientReview | StallGate::SignOff => cycle.review_round,
            _ => 0,
        };
        // The ticket deadline is shown before the AM decides too: it is what they plan for.
        let forecast = gate_is_open(portfolio, gate, round)
            || (gate == StallGate::TicketSubmission && cycle.status.is_none() && !ticketed);
        if !forecast || cycle.alerts.contains(&(gate, round)) {
            continue;
        }
        if let Some(on) = gate_deadline(portfolio, gate, deadlines) {
            add(on, Trigger::Deadline(gate));
        }
    }
    add(overlap_alert_date(portfolio), Trigger::NextRefreshDate);
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
