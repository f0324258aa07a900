//! A portfolio driven through the command service, the outbox fed by the projections
//! runner, and delivery workers pointed at a real SMTP server on loopback.
#![allow(dead_code)]

pub mod sink;

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use freshet_domain::*;
use freshet_follower::{Runner, RunnerConfig};
use freshet_mail::{
    DeliveryWorker, Directory, EmailProcessor, InMemoryDirectory, Mailbox, Outbox, PublicUrl,
    Renderer, RetryPolicy, SmtpConfig, SmtpTransport, Transport,
};
use freshet_service::{Clock, CommandOutcome, CommandRequest, CommandService, ManualClock};
use freshet_store::testing::TestDatabase;
use uuid::Uuid;

pub use freshet_testkit::{AM, COPYWRITER, DESIGNER, SAS, TEAM_LEAD, date, team, user};

pub const AM_NOTE: &str = "New spring assets in the shared drive; keep the tagline.";

/// The address of each team member in the test directory.
pub fn address(n: u128) -> &'static str {
    match n {
        AM => "alex.am@agency.test",
        SAS => "sam.sas@agency.test",
        COPYWRITER => "casey.copy@agency.test",
        DESIGNER => "dana.design@agency.test",
        TEAM_LEAD => "taylor.lead@agency.test",
        _ => "nobody@agency.test",
    }
}

pub fn from() -> Mailbox {
    "Freshet <freshet@agency.test>".parse().unwrap()
}

/// Three attempts, a minute apart and then two; claims lapse after five minutes.
pub fn retry_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_secs(60),
        max_backoff: Duration::from_secs(3600),
        lease: Duration::from_secs(300),
    }
}

pub fn smtp(port: u16) -> Arc<dyn Transport> {
    let config = SmtpConfig {
        timeout: Duration::from_secs(10),
        ..SmtpConfig::plain("127.0.0.1", port)
    };
    Arc::new(SmtpTransport::new(&config).unwrap())
}

pub struct Fixture {
    pub service: CommandService,
    pub clock: ManualClock,
    pub portfolio: PortfolioId,
    pub runner: Runner,
    pub processor: Arc<EmailProcessor>,
    pub outbox: Outbox,
    pub directory: InMemoryDirectory,
    last_position: std::sync::Mutex<freshet_store::LogPosition>,
    pub db: TestDatabase,
}

impl Fixture {
    /// "Acme", refreshing monthly from March 10th 2027; today is March 1st, so the
    /// portfolio is kicked off as it is created (R2).
    pub async fn new(db: TestDatabase) -> Self {
        let clock = ManualClock::at_date(date(2027, 3, 1));
        let store = db.store().await;
        let service = CommandService::new(
            Arc::clone(&store),
            Arc::new(clock.clone()),
            freshet_service::ProcessConfig::default(),
        );
        let runner = Runner::new(db.database.clone(), store, RunnerConfig::default());
        let processor = Arc::new(EmailProcessor::new(
            Renderer::new(PublicUrl::default()).unwrap(),
        ));
        let directory = InMemoryDirectory::new();
        for n in [AM, SAS, COPYWRITER, DESIGNER, TEAM_LEAD] {
            directory.insert(user(n), Mailbox::new(None, address(n).parse().unwrap()));
        }
        let fixture = Self {
            service,
            clock,
            portfolio: PortfolioId::from_uuid(Uuid::now_v7()),
            runner,
            processor,
            outbox: Outbox::new(db.database.clone()),
            directory,
            last_position: std::sync::Mutex::new(freshet_store::LogPosition::START),
            db,
        };
        fixture
            .send(
                Actor::admin(user(99)),
                Command::CreatePortfolio {
                    portfolio_id: fixture.portfolio,
                    client: ClientName::parse("Acme").unwrap(),
                    team: team(),
                    cadence: Cadence::new(1, CadenceUnit::Months).unwrap(),
                    refresh_date: date(2027, 3, 10),
                },
            )
            .await;
        fixture
    }

    pub async fn send(&self, actor: Actor, command: Command) -> CommandOutcome {
        let outcome = self
            .service
            .execute(CommandRequest::new(self.portfolio, command, actor))
            .await
            .unwrap();
        if let Some(position) = outcome.result.last_position() {
            let mut last = self.last_position.lock().unwrap();
            *last = (*last).max(position);
        }
        outcome
    }

    pub async fn by(&self, who: u128, command: Command) -> CommandOutcome {
        self.send(Actor::user(user(who)), command).await
    }

    pub async fn tick_on(&self, today: NaiveDate) {
        self.clock.set_date(today);
        self.send(Actor::System, Command::Tick).await;
    }

    /// The runner (freshet-follower) feeds the outbox until it has processed every command sent
    /// so far. (On PostgreSQL the log holds events back while any transaction of the cluster
    /// that started before them is in flight, e.g. another test's.)
    pub async fn record_emails(&self) {
        let target = *self.last_position.lock().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            self.runner.catch_up(self.processor.as_ref()).await.unwrap();
            let reached =
                freshet_follower::checkpoint::load(&self.db.database, EmailProcessor::NAME)
                    .await
                    .unwrap();
            if reached >= target {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the outbox fell behind"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn worker(&self, transport: Arc<dyn Transport>) -> DeliveryWorker {
        self.worker_with(transport, Arc::new(self.directory.clone()))
    }

    pub fn worker_with(
        &self,
        transport: Arc<dyn Transport>,
        directory: Arc<dyn Directory>,
    ) -> DeliveryWorker {
        DeliveryWorker::new(
            self.outbox.clone(),
            transport,
            directory,
            Arc::new(self.clock.clone()),
            from(),
            retry_policy(),
        )
    }

    pub fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Moves the clock forward by `seconds`.
    pub fn wait(&self, seconds: i64) {
        self.clock
            .set(self.clock.now() + chrono::Duration::seconds(seconds));
    }

    /// Kickoff (at creation), request with a Note, the handoff on the date, two tickets,
    /// creative work and QA, the client's sign-off and the implementation.
    pub async fn full_cycle(&self) {
        self.by(
            AM,
            Command::RequestRefresh {
                note: Some(NoteText::parse(AM_NOTE).unwrap()),
            },
        )
        .await;
        self.tick_on(date(2027, 3, 10)).await;
        let first = TicketId::from_uuid(Uuid::now_v7());
        self.by(
            SAS,
            Command::CreateTicket {
                ticket_id: first,
                title: TicketTitle::parse("Carousel 1").unwrap(),
                folder: FolderName::parse("Acme Spring 2027").unwrap(),
                deliverables: DeliverableCount::new(2).unwrap(),
            },
        )
        .await;
        let second = TicketId::from_uuid(Uuid::now_v7());
        self.by(
            SAS,
            Command::CloneTicket {
                ticket_id: second,
                source: first,
                title: TicketTitle::parse("Carousel 2").unwrap(),
                folder: None,
                deliverables: None,
            },
        )
        .await;
        self.by(SAS, Command::MarkDeliverablesSubmitted).await;
        for ticket in [first, second] {
            self.by(COPYWRITER, Command::SubmitCopy { ticket_id: ticket })
                .await;
            self.by(DESIGNER, Command::SubmitGraphics { ticket_id: ticket })
                .await;
            self.by(TEAM_LEAD, Command::ApproveCopy { ticket_id: ticket })
                .await;
            self.by(TEAM_LEAD, Command::ApproveGraphics { ticket_id: ticket })
                .await;
        }
        self.by(AM, Command::CompleteDeliverable { ticket_id: first })
            .await;
        self.by(AM, Command::SignOff).await;
        self.by(SAS, Command::MarkCreativesImplemented).await;
    }
}
