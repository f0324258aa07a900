//! The runner against both backends: checkpoints move with the rows, a failed batch is
//! retried whole, and `wait_for` sees committed positions.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use freshet_projections::{Processor, ProcessorError, Runner, RunnerConfig, Tx, checkpoint};
use freshet_service::DecodedEvent;
use freshet_store::testing::TestDatabase;
use freshet_store::{ExpectedVersion, Metadata, NewEvent, StreamId};
use uuid::Uuid;

#[derive(Debug, Default)]
struct Counter {
    seen: AtomicU64,
    fail_next: AtomicU64,
}

#[async_trait]
impl Processor for Counter {
    fn name(&self) -> &str {
        "counter"
    }

    async fn handle(&self, _tx: &mut Tx, events: &[DecodedEvent]) -> Result<(), ProcessorError> {
        if self.fail_next.swap(0, Ordering::SeqCst) > 0 {
            return Err(ProcessorError::other("injected", "boom"));
        }
        self.seen.fetch_add(events.len() as u64, Ordering::SeqCst);
        Ok(())
    }
}

async fn append_notes(db: &TestDatabase, count: usize) -> freshet_store::LogPosition {
    let store = db.store().await;
    let stream = StreamId::new(format!("other-{}", Uuid::now_v7())).unwrap();
    let events = (0..count)
        .map(|_| {
            NewEvent::new(
                "AdLabLinkUpdated",
                1,
                serde_json::json!({"link": "https://x.test/a"}),
            )
        })
        .collect();
    let meta = Metadata {
        actor: None,
        causation_id: Uuid::now_v7(),
        correlation_id: Uuid::now_v7(),
        recorded_at: chrono::Utc::now(),
    };
    let outcome = store
        .append(&stream, ExpectedVersion::Any, events, &meta, None)
        .await
        .unwrap();
    outcome.result().last_position().unwrap()
}

freshet_store::on_both_backends!(
    catch_up_applies_every_event_once_and_saves_the_checkpoint,
    a_failed_batch_is_rolled_back_and_retried_whole,
    wait_for_returns_once_the_runner_has_committed_the_position,
);

async fn catch_up_applies_every_event_once_and_saves_the_checkpoint(db: TestDatabase) {
    let last = append_notes(&db, 25).await;
    let config = RunnerConfig {
        batch_size: 7,
        ..RunnerConfig::default()
    };
    let runner = Runner::new(db.database.clone(), db.store().await, config);
    let counter = Counter::default();
    // On PostgreSQL other tests' open transactions may hide our events for a moment.
    let mut applied = 0;
    while checkpoint::load(&db.database, "counter").await.unwrap() < last {
        applied += runner.catch_up(&counter).await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(applied, 25);
    assert_eq!(runner.catch_up(&counter).await.unwrap(), 0);
    assert_eq!(counter.seen.load(Ordering::SeqCst), 25);
    assert_eq!(
        checkpoint::load(&db.database, "counter").await.unwrap(),
        last
    );
    let lag = checkpoint::lag(&db.database, &["counter"], chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(lag[0].events_behind, 0);
}

async fn a_failed_batch_is_rolled_back_and_retried_whole(db: TestDatabase) {
    let last = append_notes(&db, 10).await;
    let store = db.store().await;
    // On PostgreSQL other tests' open transactions may hide our events for a moment: the
    // failure must be met by a batch that really has them.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while store.head().await.unwrap() < last {
        assert!(
            std::time::Instant::now() < deadline,
            "the events never became visible"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let runner = Runner::new(db.database.clone(), store, RunnerConfig::default());
    let counter = Counter::default();
    counter.fail_next.store(1, Ordering::SeqCst);
    assert!(runner.catch_up(&counter).await.is_err());
    assert_eq!(
        checkpoint::load(&db.database, "counter").await.unwrap(),
        freshet_store::LogPosition::START
    );
    let lag = checkpoint::lag(&db.database, &["counter"], chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(lag[0].events_behind, 10);
    let mut applied = 0;
    while applied < 10 {
        applied += runner.catch_up(&counter).await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(applied, 10);
    assert_eq!(counter.seen.load(Ordering::SeqCst), 10);
}

async fn wait_for_returns_once_the_runner_has_committed_the_position(db: TestDatabase) {
    let config = RunnerConfig {
        poll_interval: Duration::from_millis(200),
        ..RunnerConfig::default()
    };
    let runner = Runner::new(db.database.clone(), db.store().await, config);
    let counter = Arc::new(Counter::default());
    let task = runner.spawn(counter.clone());
    let last = append_notes(&db, 3).await;
    runner
        .wait_for(&["counter"], last, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(counter.seen.load(Ordering::SeqCst), 3);
    task.abort();
    let _ = task.await;
    // A catch-up already in flight when the runner is aborted still finishes its pages.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let later = append_notes(&db, 1).await;
    let error = runner
        .wait_for(&["counter"], later, Duration::from_millis(300))
        .await
        .unwrap_err();
    assert_eq!(error.behind, vec!["counter".to_owned()]);
}
