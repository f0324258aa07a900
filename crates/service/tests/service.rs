//! The command service against both backends: commands become stored events, refusals
//! write nothing, retries replay, and concurrent last approvals hand over exactly once.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use freshet_domain::*;
use freshet_service::{
    Clock, CommandRequest, CommandService, ManualClock, ProcessConfig, ServiceError, load_portfolio,
};
use freshet_store::testing::TestDatabase;
use freshet_testkit::{AM, COPYWRITER, DESIGNER, SAS, TEAM_LEAD, date, team, team_of, user};
use uuid::Uuid;

struct Fixture {
    service: CommandService,
    clock: ManualClock,
    portfolio: PortfolioId,
    _db: TestDatabase,
}

impl Fixture {
    async fn new(db: TestDatabase) -> Self {
        let clock = ManualClock::at_date(date(2027, 3, 1));
        let service = CommandService::new(
            db.store().await,
            Arc::new(clock.clone()),
            ProcessConfig::default(),
        );
        let portfolio = PortfolioId::from_uuid(Uuid::now_v7());
        let fixture = Self {
            service,
            clock,
            portfolio,
            _db: db,
        };
        fixture
            .send(
                Actor::admin(user(99)),
                Command::CreatePortfolio {
                    portfolio_id: portfolio,
                    client: ClientName::parse("Acme").unwrap(),
                    team: team(),
                    cadence: Cadence::new(1, CadenceUnit::Months).unwrap(),
                    refresh_date: date(2027, 3, 10),
                },
            )
            .await
            .unwrap();
        fixture
    }

    async fn send(
        &self,
        actor: Actor,
        command: Command,
    ) -> Result<freshet_service::CommandOutcome, ServiceError> {
        self.service
            .execute(CommandRequest::new(self.portfolio, command, actor))
            .await
    }

    async fn by(&self, who: u128, command: Command) -> freshet_service::CommandOutcome {
        self.send(Actor::user(user(who)), command).await.unwrap()
    }

    async fn state(&self) -> Portfolio {
        load_portfolio(self.service.store().as_ref(), self.portfolio)
            .await
            .unwrap()
            .unwrap()
    }

    async fn stored(&self) -> i64 {
        self.service
            .store()
            .stream_version(&freshet_store::StreamId::new(self.portfolio.stream_name()).unwrap())
            .await
            .unwrap()
    }

    /// Requested, ticketed with `n` tickets, and every ticket through copy and graphics
    /// submission and the copy approval: one graphic approval short of review each.
    async fn one_approval_short(&self, n: u32) -> Vec<TicketId> {
        self.by(
            AM,
            Command::RequestRefresh {
                note: Some(NoteText::parse("Go").unwrap()),
            },
        )
        .await;
        let first = TicketId::from_uuid(Uuid::now_v7());
        self.by(
            SAS,
            Command::CreateTicket {
                ticket_id: first,
                title: TicketTitle::parse("D1").unwrap(),
                folder: FolderName::parse("Spring").unwrap(),
                deliverables: DeliverableCount::new(n).unwrap(),
            },
        )
        .await;
        let mut tickets = vec![first];
        for _ in 1..n {
            let id = TicketId::from_uuid(Uuid::now_v7());
            self.by(
                SAS,
                Command::CloneTicket {
                    ticket_id: id,
                    source: first,
                    title: TicketTitle::parse("Dn").unwrap(),
                    folder: None,
                    deliverables: None,
                },
            )
            .await;
            tickets.push(id);
        }
        for ticket in &tickets {
            self.by(COPYWRITER, Command::SubmitCopy { ticket_id: *ticket })
                .await;
            self.by(DESIGNER, Command::SubmitGraphics { ticket_id: *ticket })
                .await;
            self.by(TEAM_LEAD, Command::ApproveCopy { ticket_id: *ticket })
                .await;
        }
        tickets
    }
}

freshet_store::on_both_backends!(
    a_command_is_decided_on_the_stored_history_and_recorded,
    a_refused_command_writes_nothing,
    an_exact_retry_with_the_same_key_returns_the_first_outcome_and_writes_nothing,
    the_same_key_for_another_command_is_refused,
    r11_concurrent_last_approvals_hand_the_ad_set_over_exactly_once,
    r3_today_comes_from_the_agency_calendar,
    two_service_instances_each_see_the_others_writes,
    a_stale_expected_version_is_refused_and_writes_nothing,
    b5_concurrent_retries_with_one_key_all_get_the_first_outcome,
    an_idempotency_key_expires_after_a_day_and_is_then_taken_as_new,
    a_replay_by_someone_no_longer_permitted_is_refused_like_a_first_attempt,
    a_replay_by_another_person_is_decided_as_their_own_first_attempt,
    expired_idempotency_keys_are_deleted,
);

// B5: the worker forgets keys older than a day; younger ones still replay.
async fn expired_idempotency_keys_are_deleted(db: TestDatabase) {
    let f = Fixture::new(db).await;
    f.service
        .execute(note_request(&f, "Old", AM, "old"))
        .await
        .unwrap();
    f.clock.set(f.clock.now() + chrono::Duration::hours(20));
    f.service
        .execute(note_request(&f, "Young", AM, "young"))
        .await
        .unwrap();
    assert_eq!(
        f.service.delete_expired_idempotency_keys().await.unwrap(),
        0
    );
    f.clock.set(f.clock.now() + chrono::Duration::hours(5));
    assert_eq!(
        f.service.delete_expired_idempotency_keys().await.unwrap(),
        1
    );
    let young = f
        .service
        .execute(note_request(&f, "Young", AM, "young"))
        .await
        .unwrap();
    assert!(young.replayed);
}

fn note_request(f: &Fixture, text: &str, who: u128, key: &str) -> CommandRequest {
    CommandRequest::new(
        f.portfolio,
        Command::LogPortfolioNote {
            text: NoteText::parse(text).unwrap(),
        },
        Actor::user(user(who)),
    )
    .with_idempotency_key(key)
}

// B5: a key is remembered for a day (ProcessConfig::idempotency_ttl); after that the same
// key names a new request.
async fn an_idempotency_key_expires_after_a_day_and_is_then_taken_as_new(db: TestDatabase) {
    let f = Fixture::new(db).await;
    f.service
        .execute(note_request(&f, "Call notes", AM, "note-1"))
        .await
        .unwrap();
    f.clock.set(f.clock.now() + chrono::Duration::hours(23));
    let within_a_day = f
        .service
        .execute(note_request(&f, "Call notes", AM, "note-1"))
        .await
        .unwrap();
    assert!(within_a_day.replayed, "a retry within the day replays");
    f.clock.set(f.clock.now() + chrono::Duration::hours(2));
    let after_a_day = f
        .service
        .execute(note_request(&f, "Call notes", AM, "note-1"))
        .await
        .unwrap();
    assert!(!after_a_day.replayed, "an expired key is taken as new");
    // Even another request may use the key once it has expired.
    f.clock.set(f.clock.now() + chrono::Duration::hours(25));
    let other = f
        .service
        .execute(note_request(&f, "Other notes", AM, "note-1"))
        .await
        .unwrap();
    assert!(!other.replayed);
    assert_eq!(f.state().await.notes_logged, 3);
}

// B4, B5: a replay answers only whom a first attempt would answer. The SAS who created a
// ticket and was then taken off the team gets a refusal, not the stored outcome.
async fn a_replay_by_someone_no_longer_permitted_is_refused_like_a_first_attempt(db: TestDatabase) {
    let f = Fixture::new(db).await;
    let request = CommandRequest::new(
        f.portfolio,
        Command::LogPortfolioNote {
            text: NoteText::parse("Call notes").unwrap(),
        },
        Actor::user(user(SAS)),
    )
    .with_idempotency_key("note-1");
    f.service.execute(request.clone()).await.unwrap();
    f.send(
        Actor::admin(user(99)),
        Command::ChangeTeam {
            team: team_of(|role| user(if role == SAS { 6 } else { role })),
        },
    )
    .await
    .unwrap();
    let before = f.stored().await;
    let error = f.service.execute(request.clone()).await.unwrap_err();
    assert!(
        matches!(error, ServiceError::Domain(DomainError::NotOnTeam)),
        "{error}"
    );
    // Also through a service that has never seen the portfolio (another API process).
    let other = CommandService::new(
        f.service.store().clone(),
        Arc::new(f.clock.clone()),
        ProcessConfig::default(),
    );
    let error = other.execute(request).await.unwrap_err();
    assert!(
        matches!(error, ServiceError::Domain(DomainError::NotOnTeam)),
        "{error}"
    );
    assert_eq!(f.stored().await, before);
}

// B5: keys are the sender's own; the same key and request from someone else is their own
// first attempt (the Team Lead, who may log no portfolio Note, is refused).
async fn a_replay_by_another_person_is_decided_as_their_own_first_attempt(db: TestDatabase) {
    let f = Fixture::new(db).await;
    f.service
        .execute(note_request(&f, "Call notes", AM, "note-1"))
        .await
        .unwrap();
    let error = f
        .service
        .execute(note_request(&f, "Call notes", TEAM_LEAD, "note-1"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            ServiceError::Domain(DomainError::NotPermitted { .. })
        ),
        "{error}"
    );
    let sas = f
        .service
        .execute(note_request(&f, "Call notes", SAS, "note-1"))
        .await
        .unwrap();
    assert!(!sas.replayed, "another person's key is their own");
    assert_eq!(f.state().await.notes_logged, 2);
}

// B5: a client that times out and retries while its first request is still in flight gets
// the first outcome, not a refusal from deciding the command a second time.
async fn b5_concurrent_retries_with_one_key_all_get_the_first_outcome(db: TestDatabase) {
    let f = Arc::new(Fixture::new(db).await);
    let request = CommandRequest::new(
        f.portfolio,
        Command::RequestRefresh {
            note: Some(NoteText::parse("Go ahead").unwrap()),
        },
        Actor::user(user(AM)),
    )
    .with_idempotency_key("request-once");
    // Half through the fixture's service (they queue), half through services of their own,
    // as if the retries reached other API processes (they race the first attempt).
    let attempts: Vec<_> = (0..6)
        .map(|i| {
            let f = Arc::clone(&f);
            let request = request.clone();
            let other = (i % 2 == 1).then(|| {
                CommandService::new(
                    Arc::clone(f.service.store()),
                    Arc::clone(f.service.clock()),
                    *f.service.config(),
                )
            });
            tokio::spawn(async move {
                match other {
                    Some(service) => service.execute(request).await,
                    None => f.service.execute(request).await,
                }
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for attempt in attempts {
        outcomes.push(
            attempt
                .await
                .unwrap()
                .expect("every retry gets the first outcome"),
        );
    }
    assert_eq!(outcomes.iter().filter(|o| !o.replayed).count(), 1);
    assert!(outcomes.iter().all(|o| o.result == outcomes[0].result));
    let requested = f.state().await;
    assert_eq!(
        requested.status(),
        Some(RefreshStatus::RefreshRequestSubmitted)
    );
    assert_eq!(requested.notes_logged, 1, "decided once");
}

// B5: a client's If-Match is checked against the very version the decision is made on.
async fn a_stale_expected_version_is_refused_and_writes_nothing(db: TestDatabase) {
    let f = Fixture::new(db).await;
    let current = f.stored().await;
    let note = || Command::LogPortfolioNote {
        text: NoteText::parse("Call notes").unwrap(),
    };
    let mut stale = CommandRequest::new(f.portfolio, note(), Actor::user(user(AM)));
    stale.expected_version = Some(current - 1);
    let error = f.service.execute(stale).await.unwrap_err();
    assert!(
        matches!(error, ServiceError::VersionMismatch { expected, current: c } if expected == current - 1 && c == current),
        "{error}"
    );
    assert_eq!(f.stored().await, current);
    let mut fresh = CommandRequest::new(f.portfolio, note(), Actor::user(user(AM)));
    fresh.expected_version = Some(current);
    f.service.execute(fresh).await.unwrap();
    assert!(f.stored().await > current);
}

// Two processes share one database: each one's cached state must never hide the other's
// events, so every decision is made on the whole history.
async fn two_service_instances_each_see_the_others_writes(db: TestDatabase) {
    let f = Fixture::new(db).await;
    let clock = ManualClock::at_date(date(2027, 3, 1));
    let other = CommandService::new(
        Arc::clone(f.service.store()),
        Arc::new(clock),
        ProcessConfig::default(),
    );
    let note = |text: &str| Command::LogPortfolioNote {
        text: NoteText::parse(text).unwrap(),
    };
    assert!(
        f.service.portfolio(f.portfolio).await.unwrap().is_some(),
        "warm the first cache"
    );
    other
        .execute(CommandRequest::new(
            f.portfolio,
            note("from the other process"),
            Actor::user(user(AM)),
        ))
        .await
        .unwrap();
    f.by(AM, Command::RequestRefresh { note: None }).await;
    let seen_by_other = other.portfolio(f.portfolio).await.unwrap().unwrap();
    assert_eq!(
        seen_by_other.status(),
        Some(RefreshStatus::RefreshRequestSubmitted)
    );
    assert_eq!(
        seen_by_other,
        f.state().await,
        "both agree with a fresh fold of the stream"
    );
    let error = other
        .execute(CommandRequest::new(
            f.portfolio,
            Command::RequestRefresh { note: None },
            Actor::user(user(AM)),
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ServiceError::Domain(DomainError::WrongStatus { .. })),
        "decided on the newest state: {error}"
    );

    // An If-Match on the newest version holds even when this process's cache is behind.
    f.by(AM, note("newer")).await;
    let mut matching = CommandRequest::new(f.portfolio, note("If-Match"), Actor::user(user(AM)));
    matching.expected_version = Some(f.stored().await);
    let outcome = other.execute(matching).await.unwrap();
    assert_eq!(outcome.result.last_version, f.stored().await);
}

async fn a_command_is_decided_on_the_stored_history_and_recorded(db: TestDatabase) {
    let f = Fixture::new(db).await;
    let outcome = f
        .by(
            AM,
            Command::RequestRefresh {
                note: Some(NoteText::parse("Assets in drive").unwrap()),
            },
        )
        .await;
    assert!(!outcome.replayed);
    assert_eq!(outcome.events.len(), outcome.result.event_ids.len());
    assert!(
        outcome
            .events
            .iter()
            .any(|e| e.event_type() == "RefreshRequested")
    );
    assert_eq!(
        f.state().await.status(),
        Some(RefreshStatus::RefreshRequestSubmitted)
    );
    let records = f
        .service
        .store()
        .read_stream(
            &freshet_store::StreamId::new(f.portfolio.stream_name()).unwrap(),
            1,
        )
        .await
        .unwrap();
    let requested = records
        .iter()
        .find(|r| r.event_type == "RefreshRequested")
        .unwrap();
    assert_eq!(
        requested.actor.as_deref(),
        Some(format!("user:{}", user(AM)).as_str()),
        "B2: who"
    );
    assert_ne!(
        requested.causation_id, records[0].causation_id,
        "B2: each command is its own cause"
    );
    let same_command: Vec<_> = records
        .iter()
        .filter(|r| r.causation_id == requested.causation_id)
        .map(|r| r.event_type.as_str())
        .collect();
    assert_eq!(
        same_command.len(),
        outcome.events.len(),
        "B2: every event of the command names it as the cause"
    );
}

async fn a_refused_command_writes_nothing(db: TestDatabase) {
    let f = Fixture::new(db).await;
    let before = f.stored().await;
    let error = f
        .send(Actor::user(user(SAS)), Command::SignOff)
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        ServiceError::Domain(DomainError::NotPermitted { .. })
    ));
    let error = f
        .send(Actor::user(user(AM)), Command::SignOff)
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        ServiceError::Domain(DomainError::WrongStatus { .. })
    ));
    assert_eq!(f.stored().await, before);
}

// B5
async fn an_exact_retry_with_the_same_key_returns_the_first_outcome_and_writes_nothing(
    db: TestDatabase,
) {
    let f = Fixture::new(db).await;
    let request = CommandRequest::new(
        f.portfolio,
        Command::LogPortfolioNote {
            text: NoteText::parse("Call notes").unwrap(),
        },
        Actor::user(user(AM)),
    )
    .with_idempotency_key("note-1");
    let first = f.service.execute(request.clone()).await.unwrap();
    let after_first = f.stored().await;
    let retry = f.service.execute(request).await.unwrap();
    assert!(retry.replayed);
    assert_eq!(retry.result, first.result);
    assert_eq!(retry.events, first.events);
    assert_eq!(f.stored().await, after_first);
    assert_eq!(f.state().await.notes_logged, 1, "the note is logged once");
}

// B5
async fn the_same_key_for_another_command_is_refused(db: TestDatabase) {
    let f = Fixture::new(db).await;
    let note = |text: &str| {
        CommandRequest::new(
            f.portfolio,
            Command::LogPortfolioNote {
                text: NoteText::parse(text).unwrap(),
            },
            Actor::user(user(AM)),
        )
        .with_idempotency_key("k")
    };
    f.service.execute(note("first")).await.unwrap();
    let before = f.stored().await;
    let error = f.service.execute(note("second")).await.unwrap_err();
    assert!(
        matches!(error, ServiceError::IdempotencyKeyReused { .. }),
        "{error}"
    );
    assert_eq!(f.stored().await, before);
}

// R11: the last graphic approvals of every ticket arrive at the same instant; the portfolio
// stream serializes them and exactly one hands the Ad Set over.
async fn r11_concurrent_last_approvals_hand_the_ad_set_over_exactly_once(db: TestDatabase) {
    let f = Arc::new(Fixture::new(db).await);
    let tickets = f.one_approval_short(6).await;
    // One service each, as if in six processes: a service queues its own commands on one
    // portfolio, so only separate ones really race to the store.
    let approvals = tickets.into_iter().map(|ticket| {
        let service = CommandService::new(
            Arc::clone(f.service.store()),
            Arc::clone(f.service.clock()),
            *f.service.config(),
        );
        let request = CommandRequest::new(
            f.portfolio,
            Command::ApproveGraphics { ticket_id: ticket },
            Actor::user(user(TEAM_LEAD)),
        );
        tokio::spawn(async move { service.execute(request).await })
    });
    let mut handovers = 0;
    for approval in approvals {
        let outcome = approval.await.unwrap().unwrap();
        handovers += outcome
            .events
            .iter()
            .filter(|e| e.event_type() == "AdSetReadyForReview")
            .count();
    }
    assert_eq!(handovers, 1);
    let state = f.state().await;
    assert_eq!(
        state.status(),
        Some(RefreshStatus::CreativesPendingApproval)
    );
    assert_eq!(state.cycle.review_round, 1);
    let share_tasks = state
        .open_tasks
        .values()
        .filter(|t| t.kind == TaskKind::ShareDraftedDeliverables)
        .count();
    assert_eq!(share_tasks, 1);
}

// R3
async fn r3_today_comes_from_the_agency_calendar(db: TestDatabase) {
    let clock = ManualClock::new("2027-03-10T02:00:00Z".parse().unwrap());
    let config = ProcessConfig {
        calendar: AgencyCalendar::parse("America/Los_Angeles").unwrap(),
        ..ProcessConfig::default()
    };
    let f = Fixture::new(db).await;
    let service = CommandService::new(
        Arc::clone(f.service.store()),
        Arc::new(clock.clone()),
        config,
    );
    let tick = || CommandRequest::new(f.portfolio, Command::Tick, Actor::System);
    let early = service.execute(tick()).await.unwrap();
    assert!(
        !early
            .events
            .iter()
            .any(|e| e.event_type() == "DeliverablesRequested"),
        "still March 9th in Los Angeles"
    );
    clock.set("2027-03-10T08:00:00Z".parse().unwrap());
    let on_the_day = service.execute(tick()).await.unwrap();
    assert!(
        on_the_day
            .events
            .iter()
            .any(|e| e.event_type() == "DeliverablesRequested")
    );
}
