//! How one cycle of one portfolio will go, drawn when the cycle is first seen.

use chrono::{Days, NaiveDate};
use freshet_domain::{Cadence, CadenceUnit, Portfolio};

use super::Agents;

/// How one cycle of one portfolio will go. The rarer turns (after `close_by_task`) are drawn
/// only with `Habits::Everything`, after the everyday ones, so the everyday draws of a seed
/// are the same under both habits.
#[derive(Clone, Copy, Debug, Default)]
pub struct Plan {
    /// When the AM records the client's decision (sometimes after the refresh date).
    pub decide_on: NaiveDate,
    pub decline: bool,
    /// When the SAS creates the tickets (relative to the refresh date).
    pub tickets_on: NaiveDate,
    pub tickets: u32,
    /// The SAS moves the status to Deliverables Submitted (or forgets).
    pub mark_submitted: bool,
    /// Revision rounds the client will ask for before signing off.
    pub revision_rounds: u32,
    /// Days the client takes to answer each review round.
    pub client_days: u64,
    /// Days between sign-off and implementation.
    pub implementation_days: u64,
    /// Close by completing the implementation task (else by moving the status).
    pub close_by_task: bool,
    /// The SAS first sets the Number of Deliverables one too high, then corrects it.
    pub count_too_high: bool,
    /// The SAS withdraws a wrong ticket and clones a replacement.
    pub replace_a_ticket: bool,
    /// The client withdraws once the tickets exist: the AM cancels the cycle.
    pub cancel: bool,
    /// The Admin moves the copywriting to another person mid-cycle.
    pub change_copywriter: bool,
    /// Between cycles, the Admin puts the client on hold for this many days.
    pub pause_days: Option<u64>,
    /// Mid-cycle, the Admin agrees a new cadence with the client (weekly and daily ones).
    pub new_cadence: Option<Cadence>,
}

impl Agents {
    /// The plan of `state`'s current cycle, drawn the first time it is asked for.
    pub(super) fn plan(&mut self, state: &Portfolio) -> Plan {
        let key = (state.id, state.cycle.number);
        if let Some(plan) = self.plans.get(&key) {
            return *plan;
        }
        let refresh = state.refresh_date();
        let mut plan = Plan {
            decide_on: refresh - Days::new(15) + Days::new(u64::from(self.pick(19))),
            decline: self.roll(0.25),
            tickets_on: refresh - Days::new(2) + Days::new(u64::from(self.pick(6))),
            tickets: 1 + self.pick(10),
            mark_submitted: self.roll(0.8),
            revision_rounds: self.pick(4),
            client_days: u64::from(self.pick(10)),
            implementation_days: u64::from(self.pick(6)),
            close_by_task: self.roll(0.5),
            ..Plan::default()
        };
        if self.everything() {
            plan.count_too_high = self.roll(0.1);
            plan.replace_a_ticket = self.roll(0.1);
            plan.cancel = self.roll(0.05);
            plan.change_copywriter = self.roll(0.05);
            plan.pause_days = self.roll(0.04).then(|| 20 + u64::from(self.pick(40)));
            plan.new_cadence = (state.schedule.cadence.unit() != CadenceUnit::Months
                && self.roll(0.15))
            .then(|| Cadence::new(3 + self.pick(4) as u16, CadenceUnit::Weeks))
            .and_then(Result::ok);
        }
        self.plans.insert(key, plan);
        plan
    }
}
