//! The runner against both backends: checkpoints move with the rows, a failed batch is
//! retried whole, and `wait_for` sees committed positions.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use freshet_follower::{DecodedEvent, Processor, ProcessorError, Runner, RunnerConfig, checkpoint};
use freshet_store::testing::TestDatabase;
use freshet_store::{ExpectedVersion, Metadata, NewEvent, StreamId, Tx};
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
    a_batch_that_cannot_apply_is_reported_once_per_streak_until_it_applies,
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

/// A processor whose batches fail while `failing` is set.
#[derive(Debug)]
struct Flaky {
    name: String,
    failing: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl Processor for Flaky {
    fn name(&self) -> &str {
        &self.name
    }

    async fn handle(&self, _tx: &mut Tx, _events: &[DecodedEvent]) -> Result<(), ProcessorError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(ProcessorError::other(
                "injected",
                "cannot affect row a second time",
            ));
        }
        Ok(())
    }
}

/// The `projection` field of every ERROR event logged in this test binary.
fn error_logs() -> &'static std::sync::Mutex<Vec<String>> {
    use tracing_subscriber::layer::SubscriberExt;

    struct Errors;
    struct Projection(Option<String>);
    impl tracing::field::Visit for Projection {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            if field.name() == "projection" {
                self.0 = Some(format!("{value:?}"));
            }
        }
    }
    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Errors {
        fn on_event(
            &self,
            event: &tracing::Event<'_>,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            if *event.metadata().level() == tracing::Level::ERROR {
                let mut projection = Projection(None);
                event.record(&mut projection);
                if let Some(name) = projection.0 {
                    LOGS.lock().unwrap().push(name);
                }
            }
        }
    }
    static LOGS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::registry().with(Errors);
        tracing::subscriber::set_global_default(subscriber).unwrap();
    });
    &LOGS
}

fn errors_logged_for(name: &str) -> usize {
    error_logs()
        .lock()
        .unwrap()
        .iter()
        .filter(|n| *n == name)
        .count()
}

/// Waits until `done` holds of `name`'s lag, for up to 30 s.
async fn lag_until(
    db: &TestDatabase,
    name: &str,
    done: impl Fn(&checkpoint::Lag) -> bool,
) -> checkpoint::Lag {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let lag = checkpoint::lag(&db.database, &[name], chrono::Utc::now())
            .await
            .unwrap()
            .remove(0);
        if done(&lag) {
            return lag;
        }
        assert!(std::time::Instant::now() < deadline, "{lag:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn a_batch_that_cannot_apply_is_reported_once_per_streak_until_it_applies(db: TestDatabase) {
    let name = format!("flaky-{:?}", db.backend());
    error_logs();
    let config = RunnerConfig {
        poll_interval: Duration::from_millis(50),
        retry_delay: Duration::from_millis(10),
        ..RunnerConfig::default()
    };
    let runner = Runner::new(db.database.clone(), db.store().await, config);
    let flaky = Arc::new(Flaky {
        name: name.clone(),
        failing: true.into(),
    });
    let task = runner.spawn(flaky.clone());
    append_notes(&db, 3).await;

    let failing = lag_until(&db, &name, |lag| {
        lag.failure.as_ref().is_some_and(|f| f.failures >= 3)
    })
    .await;
    let failure = failing.failure.unwrap();
    assert!(
        failure
            .last_error
            .contains("cannot affect row a second time"),
        "{failure:?}"
    );
    assert!(failure.since <= chrono::Utc::now());
    assert_eq!(failing.events_behind, 3);
    assert_eq!(
        errors_logged_for(&name),
        1,
        "one error log per failure streak"
    );

    flaky.failing.store(false, Ordering::SeqCst);
    let applied = lag_until(&db, &name, |lag| lag.events_behind == 0).await;
    assert_eq!(
        applied.failure, None,
        "a batch that applies ends the streak"
    );

    flaky.failing.store(true, Ordering::SeqCst);
    append_notes(&db, 1).await;
    lag_until(&db, &name, |lag| lag.failure.is_some()).await;
    assert_eq!(errors_logged_for(&name), 2, "a new streak is logged again");
    task.abort();
}
