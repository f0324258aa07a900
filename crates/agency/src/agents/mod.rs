//! The people of a simulated agency. Each day, for each portfolio, the Admin, the creatives,
//! the Team Lead, the AM and then the SAS look at the portfolio and do their part, sometimes
//! late, with seeded random habits. What they do goes through an [`Office`], so the same
//! people drive the real service (the simulation tier) and an in-memory world (the bench).

mod account_manager;
mod admin;
mod creatives;
mod plan;
mod specialist;

use std::collections::{HashMap, HashSet};
use std::future::Future;

use chrono::NaiveDate;
use freshet_domain::{Actor, Command, Portfolio, PortfolioId, TaskId, TaskKind};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub use plan::Plan;

/// Where the people act: the portfolio as it stands, and somewhere to send commands.
pub trait Office {
    /// The portfolio as it stands now (`None` before it exists).
    fn portfolio(&mut self, id: PortfolioId) -> impl Future<Output = Option<Portfolio>> + Send;

    /// Sends `command` as `actor`. Whether a refusal is a failure is the office's business.
    fn send(
        &mut self,
        id: PortfolioId,
        actor: Actor,
        command: Command,
    ) -> impl Future<Output = ()> + Send;

    /// Sends `command`, which the rules must refuse with the error `code` (recording nothing).
    fn refused(
        &mut self,
        id: PortfolioId,
        actor: Actor,
        command: Command,
        code: &'static str,
    ) -> impl Future<Output = ()> + Send;
}

/// How much of the process the people use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Habits {
    /// The everyday cycle: decisions, tickets, creative work, QA, revision rounds, sign-off,
    /// implementation. Never a command the rules refuse. (The bench's load.)
    Everyday,
    /// The everyday cycle and the rarer turns: corrected counts, replaced tickets, cancels,
    /// holds, team and cadence changes, and an AM who answers for the client too early (R16,
    /// refused). (The simulation tier, which checks every rule afterwards.)
    Everything,
}

/// The people of an agency, with their seeded habits and what they planned per cycle.
#[derive(Debug)]
pub struct Agents {
    rng: StdRng,
    habits: Habits,
    plans: HashMap<(PortfolioId, u32), Plan>,
    /// Paused portfolios and the day the Admin resumes them.
    paused: HashMap<PortfolioId, NaiveDate>,
    /// What the Admin already did once in a cycle: (portfolio, cycle, what).
    done_once: HashSet<(PortfolioId, u32, &'static str)>,
}

impl Agents {
    /// People drawing from `StdRng::seed_from_u64(seed)`; the caller prints the seed.
    pub fn new(seed: u64, habits: Habits) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            habits,
            plans: HashMap::new(),
            paused: HashMap::new(),
            done_once: HashSet::new(),
        }
    }

    /// The generator the people draw from, for a world's own draws (ids, refresh dates), so
    /// one seed fixes the whole run.
    pub fn rng(&mut self) -> &mut StdRng {
        &mut self.rng
    }

    /// One day of one portfolio: the Admin, the creatives, the Team Lead, the AM, the SAS.
    pub async fn act(&mut self, office: &mut impl Office, id: PortfolioId, today: NaiveDate) {
        if self.habits == Habits::Everything {
            self.admin(office, id, today).await;
        }
        self.creatives(office, id).await;
        self.team_lead(office, id).await;
        self.account_manager(office, id, today).await;
        self.social_ad_specialist(office, id, today).await;
    }

    fn roll(&mut self, probability: f64) -> bool {
        self.rng.random_bool(probability)
    }

    fn pick(&mut self, below: u32) -> u32 {
        self.rng.random_range(0..below.max(1))
    }

    fn everything(&self) -> bool {
        self.habits == Habits::Everything
    }
}

/// The first open task of `kind`.
fn open_task(state: &Portfolio, kind: TaskKind) -> Option<TaskId> {
    state
        .open_tasks
        .values()
        .find(|t| t.kind == kind)
        .map(|t| t.id)
}
