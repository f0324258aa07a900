//! Dated commands (a history brought in by an import): one append, each event recorded at
//! its own command's instant and caused by it; a refusal anywhere writes nothing; a retry
//! with the same key replays.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use freshet_domain::*;
use freshet_service::{
    CommandService, DatedCommands, ManualClock, ProcessConfig, ServiceError, load_portfolio,
};
use freshet_store::StreamId;
use freshet_store::testing::TestDatabase;
use freshet_testkit::{date, team, user};
use uuid::Uuid;

freshet_store::on_both_backends!(
    dated_commands_are_one_append_each_event_at_its_own_instant,
    a_refusal_among_dated_commands_writes_none_of_them,
    dated_commands_retried_with_their_key_replay_and_write_nothing,
);

fn service(store: Arc<dyn freshet_store::EventStore>) -> CommandService {
    let clock = ManualClock::at_date(date(2027, 3, 1));
    CommandService::new(store, Arc::new(clock), ProcessConfig::default())
}

fn note(text: &str) -> Command {
    Command::LogPortfolioNote {
        text: NoteText::parse(text).unwrap(),
    }
}

/// A new portfolio created on `created`, then a note a day later, then one two days later.
fn history(portfolio: PortfolioId, created: DateTime<Utc>) -> DatedCommands {
    DatedCommands {
        portfolio,
        actor: Actor::admin(user(99)),
        commands: vec![
            (
                created,
                Command::CreatePortfolio {
                    portfolio_id: portfolio,
                    client: ClientName::parse("Acme").unwrap(),
                    team: team(),
                    cadence: Cadence::new(1, CadenceUnit::Months).unwrap(),
                    refresh_date: date(2027, 3, 10),
                },
            ),
            (created + Duration::days(1), note("Imported, record 7")),
            (created + Duration::days(2), note("Second note")),
        ],
        idempotency_key: Some("hubspot/7/new".into()),
        correlation_id: Some(Uuid::now_v7()),
    }
}

fn created() -> DateTime<Utc> {
    "2026-11-02T09:30:00Z".parse().unwrap()
}

async fn dated_commands_are_one_append_each_event_at_its_own_instant(db: TestDatabase) {
    let store = db.store().await;
    let service = service(Arc::clone(&store));
    let portfolio = PortfolioId::from_uuid(Uuid::now_v7());
    let request = history(portfolio, created());
    let outcome = service.execute_dated(request.clone()).await.unwrap();
    assert!(!outcome.replayed);
    assert_eq!(outcome.result.first_version, 1);

    let stream = StreamId::new(portfolio.stream_name()).unwrap();
    let stored = store.read_stream(&stream, 1).await.unwrap();
    assert_eq!(stored.len(), outcome.events.len());
    assert_eq!(
        i64::try_from(stored.len()).unwrap(),
        outcome.result.last_version
    );
    // Each command's events carry its instant and one cause of their own.
    for (at, _) in &request.commands {
        let of_command: Vec<_> = stored.iter().filter(|e| e.recorded_at == *at).collect();
        assert!(!of_command.is_empty(), "no event recorded at {at}");
        assert!(
            of_command
                .iter()
                .all(|e| e.causation_id == of_command[0].causation_id)
        );
    }
    let causes: std::collections::HashSet<_> = stored.iter().map(|e| e.causation_id).collect();
    assert_eq!(causes.len(), request.commands.len());
    assert!(
        stored
            .iter()
            .all(|e| Some(e.correlation_id) == request.correlation_id)
    );
    let state = load_portfolio(store.as_ref(), portfolio)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.client.as_str(), "Acme");
}

async fn a_refusal_among_dated_commands_writes_none_of_them(db: TestDatabase) {
    let store = db.store().await;
    let service = service(Arc::clone(&store));
    let portfolio = PortfolioId::from_uuid(Uuid::now_v7());
    let mut request = history(portfolio, created());
    // Signing off creatives no one submitted is refused, after two commands that are not.
    request
        .commands
        .insert(2, (created() + Duration::days(1), Command::SignOff));
    let refused = service.execute_dated(request).await;
    assert!(
        matches!(refused, Err(ServiceError::Domain(_))),
        "{refused:?}"
    );
    let stream = StreamId::new(portfolio.stream_name()).unwrap();
    assert_eq!(store.stream_version(&stream).await.unwrap(), 0);
    assert!(
        load_portfolio(store.as_ref(), portfolio)
            .await
            .unwrap()
            .is_none()
    );
}

async fn dated_commands_retried_with_their_key_replay_and_write_nothing(db: TestDatabase) {
    let store = db.store().await;
    let portfolio = PortfolioId::from_uuid(Uuid::now_v7());
    let request = history(portfolio, created());
    let first = service(Arc::clone(&store))
        .execute_dated(request.clone())
        .await
        .unwrap();
    // Another process (its own cache) sends the same commands again, planned a moment
    // later: the instants a plan takes from "now" differ, the request is the same.
    let mut retry = request;
    if let Some((at, _)) = retry.commands.last_mut() {
        *at += Duration::minutes(5);
    }
    let again = service(Arc::clone(&store))
        .execute_dated(retry)
        .await
        .unwrap();
    assert!(again.replayed);
    assert_eq!(again.result, first.result);
    assert_eq!(again.events, first.events);
    let stream = StreamId::new(portfolio.stream_name()).unwrap();
    assert_eq!(
        store.stream_version(&stream).await.unwrap(),
        first.result.last_version
    );
}
