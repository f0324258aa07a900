//! Random portfolio histories driven through the real CommandService, and helpers to read
//! every read model.
#![allow(dead_code)]

use std::sync::Arc;

use chrono::NaiveDate;
use freshet_domain::*;
use freshet_follower::{Runner, RunnerConfig};
use freshet_projections::{Live, Projection, ReadModelConfig, all_projections};
use freshet_projections::{board, inbox, metrics, portfolios};
use freshet_service::{CommandRequest, CommandService, ManualClock, ProcessConfig};
use freshet_store::testing::TestDatabase;
use freshet_store::{Database, LogPosition};
pub use freshet_testkit::{AM, COPYWRITER, DESIGNER, SAS, TEAM_LEAD, date, team, user};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use uuid::Uuid;

/// The seed of a test's random histories: `FRESHET_TEST_SEED` if set (to replay a failure
/// or explore), else `default`; printed, so a failing run names the seed that reproduces it.
pub fn seed(default: u64) -> u64 {
    let seed = std::env::var("FRESHET_TEST_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(default);
    eprintln!("random history seed {seed} (FRESHET_TEST_SEED={seed} replays it)");
    seed
}

pub struct World {
    pub db: TestDatabase,
    pub clock: ManualClock,
    pub service: CommandService,
    pub portfolios: Vec<PortfolioId>,
    pub last: LogPosition,
}

impl World {
    pub async fn new(db: TestDatabase) -> Self {
        let clock = ManualClock::at_date(date(2027, 3, 1));
        let service = CommandService::new(
            db.store().await,
            Arc::new(clock.clone()),
            ProcessConfig::default(),
        );
        Self {
            db,
            clock,
            service,
            portfolios: Vec::new(),
            last: LogPosition::START,
        }
    }

    pub fn database(&self) -> &Database {
        &self.db.database
    }

    pub fn runner(&self, batch_size: usize) -> Runner {
        Runner::new(
            self.db.database.clone(),
            Arc::clone(self.service.store()),
            RunnerConfig {
                batch_size,
                poll_interval: std::time::Duration::from_millis(50),
                retry_delay: std::time::Duration::from_millis(50),
                // Small pages in rebuilds too, so they span many pages.
                rebuild_batch_size: batch_size,
            },
        )
    }

    pub fn projections(&self) -> Vec<Arc<dyn Projection>> {
        all_projections(self.service.store(), ReadModelConfig::default())
    }

    pub fn live(&self) -> Vec<Arc<Live>> {
        self.projections()
            .into_iter()
            .map(|p| Arc::new(Live(p)))
            .collect()
    }

    /// Sends a command; refusals are part of random histories and are ignored.
    pub async fn send(&mut self, portfolio: PortfolioId, who: Actor, command: Command) -> bool {
        match self
            .service
            .execute(CommandRequest::new(portfolio, command, who))
            .await
        {
            Ok(outcome) => {
                if let Some(last) = outcome.result.last_position() {
                    self.last = self.last.max(last);
                }
                true
            }
            Err(_) => false,
        }
    }

    pub async fn create(&mut self, client: &str, refresh_date: NaiveDate) -> PortfolioId {
        let id = PortfolioId::from_uuid(Uuid::now_v7());
        self.create_as(id, client, refresh_date).await;
        id
    }

    /// Creates the portfolio `id` (a fixed id, for histories compared across databases).
    pub async fn create_as(&mut self, id: PortfolioId, client: &str, refresh_date: NaiveDate) {
        let created = self
            .send(
                id,
                Actor::admin(user(99)),
                Command::CreatePortfolio {
                    portfolio_id: id,
                    client: ClientName::parse(client).unwrap(),
                    team: team(),
                    cadence: Cadence::new(1, CadenceUnit::Months).unwrap(),
                    refresh_date,
                },
            )
            .await;
        assert!(created);
        self.portfolios.push(id);
    }

    async fn by(&mut self, p: PortfolioId, who: u128, command: Command) -> bool {
        self.send(p, Actor::user(user(who)), command).await
    }

    pub async fn tick(&mut self, p: PortfolioId) {
        self.send(p, Actor::System, Command::Tick).await;
    }

    /// The Ad Set: `n` tickets created, copy and graphics submitted and approved.
    pub async fn ticketed_and_approved(&mut self, p: PortfolioId, n: u32) -> Vec<TicketId> {
        let first = TicketId::from_uuid(Uuid::now_v7());
        self.by(
            p,
            SAS,
            Command::CreateTicket {
                ticket_id: first,
                title: TicketTitle::parse("Deliverable 1").unwrap(),
                folder: FolderName::parse("Spring").unwrap(),
                deliverables: DeliverableCount::new(n).unwrap(),
            },
        )
        .await;
        let mut tickets = vec![first];
        for i in 1..n {
            let id = TicketId::from_uuid(Uuid::now_v7());
            self.by(
                p,
                SAS,
                Command::CloneTicket {
                    ticket_id: id,
                    source: first,
                    title: TicketTitle::parse(&format!("Deliverable {}", i + 1)).unwrap(),
                    folder: None,
                    deliverables: None,
                },
            )
            .await;
            tickets.push(id);
        }
        self.by(p, SAS, Command::MarkDeliverablesSubmitted).await;
        for t in tickets.clone() {
            self.by(p, COPYWRITER, Command::SubmitCopy { ticket_id: t })
                .await;
            self.by(p, DESIGNER, Command::SubmitGraphics { ticket_id: t })
                .await;
            self.by(p, TEAM_LEAD, Command::ApproveCopy { ticket_id: t })
                .await;
            self.by(p, TEAM_LEAD, Command::ApproveGraphics { ticket_id: t })
                .await;
        }
        tickets
    }

    /// One random cycle of `p` around its refresh date.
    pub async fn random_cycle(&mut self, p: PortfolioId, rng: &mut StdRng) {
        self.tick(p).await;
        if rng.random_bool(0.30) {
            self.by(
                p,
                AM,
                Command::LogPortfolioNote {
                    text: NoteText::parse(&format!("note {}", rng.random::<u32>())).unwrap(),
                },
            )
            .await;
        }
        if rng.random_bool(0.15) {
            self.by(p, AM, Command::DeclineRefresh).await;
            return;
        }
        if rng.random_bool(0.80) {
            self.by(
                p,
                AM,
                Command::RequestRefresh {
                    note: Some(NoteText::parse("Use the spring assets").unwrap()),
                },
            )
            .await;
        }
        self.clock.advance_days(15);
        self.tick(p).await;
        if rng.random_bool(0.10) {
            return; // stalls here
        }
        let n = rng.random_range(1..=3);
        let tickets = self.ticketed_and_approved(p, n).await;
        if rng.random_bool(0.50) {
            self.by(
                p,
                DESIGNER,
                Command::UpdateAdLabLink {
                    link: AdLabLink::parse("https://adlab.example.com/x").unwrap(),
                },
            )
            .await;
        }
        if rng.random_bool(0.40) {
            let t = tickets[0];
            self.by(
                p,
                AM,
                Command::RequestRevisions {
                    ticket_id: t,
                    kind: RevisionKind::CopyOnly,
                    feedback: NoteText::parse("Shorter headline").unwrap(),
                },
            )
            .await;
            self.clock.advance_days(2);
            self.by(p, COPYWRITER, Command::SubmitCopy { ticket_id: t })
                .await;
            self.by(p, COPYWRITER, Command::ApproveCopy { ticket_id: t })
                .await;
        }
        self.clock.advance_days(1);
        if rng.random_bool(0.50) {
            self.by(
                p,
                AM,
                Command::CompleteDeliverable {
                    ticket_id: tickets[0],
                },
            )
            .await;
        }
        if rng.random_bool(0.10) {
            return; // waits for the client
        }
        self.by(p, AM, Command::SignOff).await;
        self.clock.advance_days(1);
        if rng.random_bool(0.10) {
            return;
        }
        self.by(p, SAS, Command::MarkCreativesImplemented).await;
    }

    /// `count` portfolios through `cycles` random cycles each, drawn from `seed` (see
    /// [`seed`]).
    pub async fn random_history(&mut self, seed: u64, count: usize, cycles: usize) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut ids = Vec::new();
        for i in 0..count {
            let refresh = date(2027, 3, 10 + u32::try_from(i % 10).unwrap());
            ids.push(self.create(&format!("Client {i}"), refresh).await);
        }
        for _ in 0..cycles {
            for p in ids.clone() {
                self.random_cycle(p, &mut rng).await;
            }
            self.clock.advance_days(14);
        }
    }
}

/// Every row of every read model (active generation), in a stable order.
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    pub inbox: Vec<inbox::InboxTask>,
    pub portfolios: Vec<portfolios::PortfolioRow>,
    pub board: Vec<board::BoardTicket>,
    pub metrics: Vec<metrics::CycleMetricsRow>,
}

pub async fn snapshot(db: &Database, ids: &[PortfolioId]) -> Snapshot {
    let mut s = Snapshot {
        inbox: Vec::new(),
        portfolios: portfolios::list(
            db,
            &portfolios::PortfolioFilter {
                limit: 100_000,
                ..Default::default()
            },
        )
        .await
        .unwrap(),
        board: Vec::new(),
        metrics: Vec::new(),
    };
    for id in ids {
        let filter = inbox::InboxFilter {
            portfolio: Some(*id),
            limit: 100_000,
            ..Default::default()
        };
        s.inbox.extend(inbox::list(db, &filter).await.unwrap());
        s.board.extend(board::tickets(db, *id, None).await.unwrap());
        s.metrics.extend(metrics::cycles(db, *id).await.unwrap());
    }
    s
}

/// Catches every projection up to the last command's events. On PostgreSQL `read_all` only
/// shows transactions older than the oldest one in flight (other tests'), so catch up again
/// until the checkpoints reach the position.
pub async fn caught_up(world: &World) {
    let runner = world.runner(1000);
    for p in world.live() {
        while freshet_follower::checkpoint::load(world.database(), p.0.name())
            .await
            .unwrap()
            < world.last
        {
            runner.catch_up(p.as_ref()).await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}
