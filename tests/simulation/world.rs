//! A year in the life of an agency: the scheduler ticks every morning, then the people
//! (`freshet_testkit::agency::Agents`, with every habit) act on what the portfolio shows,
//! with seeded random behaviour, through the real command service.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{Days, NaiveDate};
use freshet_automation::{DuePortfolios, DueSourceError, Scheduler};
use freshet_domain::*;
use freshet_service::{Clock, CommandRequest, CommandService, ManualClock, ProcessConfig};
use freshet_store::EventStore;
use freshet_store::testing::TestDatabase;
use freshet_testkit::agency::{ADMIN, Agents, Habits, Office, team_of};
use rand::Rng;
use uuid::Uuid;

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
    /// The people; one day of all portfolios holds them (never across two days at once).
    agents: tokio::sync::Mutex<Agents>,
    /// Commands the rules refused, as the simulation expected.
    refusals: Mutex<u32>,
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
        eprintln!("simulation seed {seed}");
        let mut agents = Agents::new(seed, Habits::Everything);
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
            let refresh_date = start + Days::new(agents.rng().random_range(1..60));
            let team = team_of(|role| person(i, role));
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
            agents: tokio::sync::Mutex::new(agents),
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
            let mut agents = self.agents.lock().await;
            for (portfolio, _) in &self.portfolios {
                agents.act(&mut Desk(self), *portfolio, today).await;
            }
        }
    }

    pub fn refusals(&self) -> u32 {
        *self.refusals.lock().unwrap()
    }
}

/// The people's office: the real command service, where every refusal but an expected one
/// fails the test.
struct Desk<'a>(&'a Simulation);

impl Office for Desk<'_> {
    async fn portfolio(&mut self, id: PortfolioId) -> Option<Portfolio> {
        self.0.service.portfolio(id).await.unwrap()
    }

    async fn send(&mut self, id: PortfolioId, actor: Actor, command: Command) {
        let description = format!("{command:?} by {actor:?}");
        self.0
            .service
            .execute(CommandRequest::new(id, command, actor))
            .await
            .unwrap_or_else(|error| panic!("the simulation's {description} was refused: {error}"));
    }

    async fn refused(
        &mut self,
        id: PortfolioId,
        actor: Actor,
        command: Command,
        code: &'static str,
    ) {
        let description = format!("{command:?}");
        match self
            .0
            .service
            .execute(CommandRequest::new(id, command, actor))
            .await
        {
            Err(freshet_service::ServiceError::Domain(error)) => {
                assert_eq!(error.code(), code, "{description}: {error}");
                *self.0.refusals.lock().unwrap() += 1;
            }
            other => panic!("{description} should be refused with {code}: {other:?}"),
        }
    }
}
