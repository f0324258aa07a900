//! A year in the life of an agency: the scheduler ticks every morning, then the people act
//! on what their inboxes and the portfolio show, with seeded random behaviour.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{Days, NaiveDate};
use freshet_automation::{DuePortfolios, DueSourceError, Scheduler};
use freshet_domain::*;
use freshet_service::{Clock, CommandRequest, CommandService, ManualClock, ProcessConfig};
use freshet_store::EventStore;
use freshet_store::testing::TestDatabase;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

pub use crate::agents::Plan;

pub const ADMIN: UserId = UserId::from_uuid(Uuid::from_u128(0xad));

/// Finds due portfolios by folding each known one: the simulation's stand-in for the
/// portfolio read model's `next_trigger_on` index.
#[derive(Debug, Clone)]
pub struct KnownPortfolios {
    pub(crate) service: CommandService,
    pub(crate) ids: Arc<Mutex<Vec<PortfolioId>>>,
    pub(crate) deadlines: Deadlines,
}

#[async_trait]
impl DuePortfolios for KnownPortfolios {
    async fn due_on(&self, today: NaiveDate) -> Result<Vec<PortfolioId>, DueSourceError> {
        let ids = self.ids.lock().unwrap().clone();
        let mut due = Vec::new();
        for id in ids {
            let state = self
                .service
                .portfolio(id)
                .await
                .map_err(|e| DueSourceError(Box::new(e)))?;
            if state
                .and_then(|s| next_trigger_date(&s, &self.deadlines))
                .is_some_and(|date| date <= today)
            {
                due.push(id);
            }
        }
        Ok(due)
    }
}

pub struct Simulation {
    pub service: CommandService,
    pub clock: ManualClock,
    pub scheduler: Scheduler<KnownPortfolios>,
    pub portfolios: Vec<(PortfolioId, Cadence)>,
    pub start: NaiveDate,
    pub days: u64,
    pub store: Arc<dyn EventStore>,
    pub(crate) due: KnownPortfolios,
    pub(crate) rng: Mutex<StdRng>,
    pub(crate) plans: Mutex<HashMap<(PortfolioId, u32), Plan>>,
    /// Paused portfolios and the day the Admin resumes them.
    pub(crate) paused: Mutex<HashMap<PortfolioId, NaiveDate>>,
    /// What the Admin already did once in a cycle: (portfolio, cycle, what).
    pub(crate) done_once: Mutex<std::collections::HashSet<(PortfolioId, u32, &'static str)>>,
    /// Commands the rules refused, as the simulation expected.
    pub(crate) refusals: Mutex<u32>,
}

fn person(portfolio: usize, role: u128) -> UserId {
    // Teams overlap: 5 AMs, 4 SASs and shared creatives across the 50 clients.
    let pool = match role {
        1 => portfolio % 5,
        2 => portfolio % 4,
        _ => portfolio % 3,
    } as u128;
    UserId::from_uuid(Uuid::from_u128(role * 1000 + pool))
}

impl Simulation {
    pub async fn start(db: &TestDatabase, count: usize, year: i32, seed: u64) -> Self {
        let store = db.store().await;
        let start = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
        let clock = ManualClock::at_date(start);
        let config = ProcessConfig::default();
        let service = CommandService::new(Arc::clone(&store), Arc::new(clock.clone()), config);
        let due = KnownPortfolios {
            service: service.clone(),
            ids: Arc::default(),
            deadlines: config.deadlines,
        };
        let scheduler = Scheduler::new(service.clone(), due.clone());
        let mut rng = StdRng::seed_from_u64(seed);
        let cadences = [
            Cadence::new(1, CadenceUnit::Months).unwrap(),
            Cadence::new(2, CadenceUnit::Months).unwrap(),
            Cadence::new(6, CadenceUnit::Weeks).unwrap(),
            Cadence::new(4, CadenceUnit::Weeks).unwrap(),
            Cadence::new(45, CadenceUnit::Days).unwrap(),
            Cadence::new(3, CadenceUnit::Months).unwrap(),
        ];
        let mut portfolios = Vec::new();
        for i in 0..count {
            let id = PortfolioId::from_uuid(Uuid::now_v7());
            let cadence = cadences[i % cadences.len()];
            let refresh_date = start + Days::new(rng.random_range(1..60));
            let team = Team {
                account_manager: person(i, 1),
                social_ad_specialist: person(i, 2),
                copywriter: person(i, 3),
                designer: person(i, 4),
                team_lead: person(i, 5),
            };
            let command = Command::CreatePortfolio {
                portfolio_id: id,
                client: ClientName::parse(&format!("Client {i}")).unwrap(),
                team,
                cadence,
                refresh_date,
            };
            service
                .execute(CommandRequest::new(id, command, Actor::admin(ADMIN)))
                .await
                .unwrap();
            portfolios.push((id, cadence));
        }
        *due.ids.lock().unwrap() = portfolios.iter().map(|(id, _)| *id).collect();
        Self {
            service,
            clock,
            scheduler,
            portfolios,
            start,
            days: 365,
            store,
            due,
            rng: Mutex::new(rng),
            plans: Mutex::default(),
            paused: Mutex::default(),
            done_once: Mutex::default(),
            refusals: Mutex::default(),
        }
    }

    pub fn start_date(&self) -> NaiveDate {
        self.start
    }

    pub fn last_date(&self) -> NaiveDate {
        self.start + Days::new(self.days - 1)
    }

    /// A second scheduler on the same database, with its own clock, as another process.
    pub async fn second_scheduler(&self, clock: Arc<dyn Clock>) -> Scheduler<KnownPortfolios> {
        let service = CommandService::new(Arc::clone(&self.store), clock, *self.service.config());
        Scheduler::new(service, self.due.clone())
    }

    pub async fn run_year(&self) {
        self.run_year_with(None).await;
    }

    pub async fn run_year_with(&self, second: Option<(&Scheduler<KnownPortfolios>, &ManualClock)>) {
        let calendar = self.service.config().calendar;
        for day in 0..self.days {
            let today = self.start + Days::new(day);
            self.clock.set(calendar.noon_on(today));
            match second {
                Some((other, other_clock)) => {
                    other_clock.set(calendar.noon_on(today));
                    let (a, b) = tokio::join!(self.scheduler.tick(), other.tick());
                    assert!(a.unwrap().failures.is_empty());
                    assert!(b.unwrap().failures.is_empty());
                }
                None => assert!(self.scheduler.tick().await.unwrap().failures.is_empty()),
            }
            for (portfolio, _) in &self.portfolios {
                self.act(*portfolio, today).await;
            }
        }
    }

    pub(crate) async fn state(&self, portfolio: PortfolioId) -> Portfolio {
        self.service.portfolio(portfolio).await.unwrap().unwrap()
    }

    pub(crate) async fn send(&self, portfolio: PortfolioId, who: UserId, command: Command) {
        let description = format!("{command:?}");
        self.service
            .execute(CommandRequest::new(portfolio, command, Actor::user(who)))
            .await
            .unwrap_or_else(|error| panic!("the simulation's {description} was refused: {error}"));
    }

    pub(crate) async fn send_as_admin(&self, portfolio: PortfolioId, command: Command) {
        let description = format!("{command:?}");
        self.service
            .execute(CommandRequest::new(portfolio, command, Actor::admin(ADMIN)))
            .await
            .unwrap_or_else(|error| panic!("the Admin's {description} was refused: {error}"));
    }

    /// A command the rules must refuse with `code`, recording nothing.
    pub(crate) async fn refused(
        &self,
        portfolio: PortfolioId,
        who: UserId,
        command: Command,
        code: &str,
    ) {
        let description = format!("{command:?}");
        match self
            .service
            .execute(CommandRequest::new(portfolio, command, Actor::user(who)))
            .await
        {
            Err(freshet_service::ServiceError::Domain(error)) => {
                assert_eq!(error.code(), code, "{description}: {error}");
                *self.refusals.lock().unwrap() += 1;
            }
            other => panic!("{description} should be refused with {code}: {other:?}"),
        }
    }

    /// True the first time it is asked for `what` in this cycle of this portfolio.
    pub(crate) fn first_time(
        &self,
        portfolio: PortfolioId,
        cycle: u32,
        what: &'static str,
    ) -> bool {
        self.done_once
            .lock()
            .unwrap()
            .insert((portfolio, cycle, what))
    }

    pub fn refusals(&self) -> u32 {
        *self.refusals.lock().unwrap()
    }

    pub(crate) fn roll(&self, probability: f64) -> bool {
        self.rng.lock().unwrap().random_bool(probability)
    }

    pub(crate) fn pick(&self, below: u32) -> u32 {
        self.rng.lock().unwrap().random_range(0..below.max(1))
    }
}
