//! Group commit: appends queued together are written together, and each keeps its own
//! outcome. Every scenario runs on SQLite and on PostgreSQL (skipped without `DATABASE_URL`,
//! outside CI).

// Shared with the conformance suite, which uses the rest of it.
#[allow(dead_code)]
mod support;

use std::collections::HashSet;

use freshet_store::testing::TestDatabase;
use freshet_store::{
    Append, AppendOutcome, Database, ExpectedVersion, IdempotencyKey, StoreError, StreamId,
};
use serde_json::json;
use support::{event, meta, stream};
use uuid::Uuid;

freshet_store::on_both_backends!(
    a_batch_with_one_conflicting_append_commits_the_others_and_fails_that_one_alone,
    a_batch_replays_a_used_key_and_refuses_a_reused_one_alone,
    a_batch_that_fails_as_a_whole_is_written_one_append_at_a_time,
    appends_of_one_stream_in_one_call_are_written_in_order,
    concurrent_appends_share_transactions_and_lose_nothing,
);

fn append(stream: &StreamId, expected: ExpectedVersion, payload: i64) -> Append {
    Append {
        stream: stream.clone(),
        expected,
        events: vec![event("Noted", json!({ "n": payload }))],
        meta: meta(),
        idempotency: None,
    }
}

/// `appends`, then appends to new streams of their own up to a batch that PostgreSQL writes
/// with one `append_batch` (fewer go as parallel single appends).
fn filled(mut appends: Vec<Append>) -> Vec<Append> {
    while appends.len() < 10 {
        appends.push(append(&stream("filler"), ExpectedVersion::NoStream, 0));
    }
    appends
}

/// A scenario's batch as it is (a few appends) and filled up to a large one.
const SIZES: [fn(Vec<Append>) -> Vec<Append>; 2] = [|appends| appends, filled];

fn key(name: &str, fingerprint: &str) -> IdempotencyKey {
    IdempotencyKey::new(format!("{name}-{}", Uuid::now_v7()), fingerprint)
}

/// How many distinct transactions wrote `streams`' events (PostgreSQL stamps each event with
/// its transaction; SQLite has none to tell, so `None`).
async fn transactions(database: &Database, streams: &[StreamId]) -> Option<usize> {
    let Database::Postgres(pool) = database else {
        return None;
    };
    let names: Vec<&str> = streams.iter().map(StreamId::as_str).collect();
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT commit_xid) FROM events WHERE stream_id = ANY($1)",
    )
    .bind(&names)
    .fetch_one(pool)
    .await
    .expect("count transactions");
    Some(usize::try_from(count).expect("a count"))
}

async fn a_batch_with_one_conflicting_append_commits_the_others_and_fails_that_one_alone(
    db: TestDatabase,
) {
    let store = db.store().await;
    for (size, padded) in SIZES.into_iter().zip([false, true]) {
        let (first, busy, last) = (stream("a"), stream("b"), stream("c"));
        store
            .append(
                &busy,
                ExpectedVersion::NoStream,
                vec![event("Seed", json!(0))],
                &meta(),
                None,
            )
            .await
            .expect("seed the busy stream");
        let conflicting_key = key("conflicting", "f");
        let mut conflicting = append(&busy, ExpectedVersion::NoStream, 2);
        conflicting.idempotency = Some(conflicting_key.clone());

        let answers = store
            .append_all(size(vec![
                append(&first, ExpectedVersion::NoStream, 1),
                conflicting,
                append(&last, ExpectedVersion::NoStream, 3),
            ]))
            .await;

        assert_eq!(answers.len(), if padded { 10 } else { 3 });
        assert!(
            matches!(answers[0], Ok(AppendOutcome::Appended(_))),
            "{:?}",
            answers[0]
        );
        assert!(
            matches!(answers[1], Err(StoreError::Conflict { actual: 1, .. })),
            "{:?}",
            answers[1]
        );
        assert!(
            matches!(answers[2], Ok(AppendOutcome::Appended(_))),
            "{:?}",
            answers[2]
        );
        assert_eq!(store.stream_version(&first).await.expect("version"), 1);
        assert_eq!(store.stream_version(&last).await.expect("version"), 1);
        let busy_events = store.read_stream(&busy, 1).await.expect("read");
        assert_eq!(
            busy_events.len(),
            1,
            "the conflicting append wrote something"
        );
        assert_eq!(busy_events[0].event_type, "Seed");
        // The conflict gave its key back: retried on the newer version, it is a first use.
        assert!(
            store
                .idempotent_outcome(&conflicting_key)
                .await
                .expect("key")
                .is_none()
        );
        let retried = store
            .append(
                &busy,
                ExpectedVersion::Exact(1),
                vec![event("Noted", json!(2))],
                &meta(),
                Some(&conflicting_key),
            )
            .await
            .expect("the retry appends");
        assert!(!retried.is_replayed());
        // The two that committed did so in one transaction, when the batch was a large one.
        if padded && let Some(count) = transactions(&db.database, &[first, last]).await {
            assert_eq!(count, 1, "a batch was split into transactions");
        }
    }
}

async fn a_batch_replays_a_used_key_and_refuses_a_reused_one_alone(db: TestDatabase) {
    let store = db.store().await;
    for size in SIZES {
        let (used, reused, fresh) = (stream("used"), stream("reused"), stream("fresh"));
        let used_key = key("used", "same");
        let reused_key = key("reused", "first");
        let first = store
            .append(
                &used,
                ExpectedVersion::NoStream,
                vec![event("A", json!(1))],
                &meta(),
                Some(&used_key),
            )
            .await
            .expect("first use")
            .into_result();
        store
            .append(
                &reused,
                ExpectedVersion::NoStream,
                vec![event("A", json!(1))],
                &meta(),
                Some(&reused_key),
            )
            .await
            .expect("first use");

        let mut again = append(&used, ExpectedVersion::NoStream, 1);
        again.idempotency = Some(used_key);
        let mut other_request = append(&reused, ExpectedVersion::Exact(1), 2);
        other_request.idempotency = Some(IdempotencyKey::new(reused_key.key.clone(), "another"));
        let mut new = append(&fresh, ExpectedVersion::NoStream, 3);
        let fresh_key = key("fresh", "f");
        new.idempotency = Some(fresh_key.clone());
        let answers = store
            .append_all(size(vec![again, other_request, new]))
            .await;

        assert_eq!(
            answers[0].as_ref().ok(),
            Some(&AppendOutcome::Replayed(first))
        );
        assert!(
            matches!(&answers[1], Err(StoreError::IdempotencyKeyReused { key }) if *key == reused_key.key),
            "{:?}",
            answers[1]
        );
        let Ok(AppendOutcome::Appended(appended)) = &answers[2] else {
            panic!("the fresh append failed: {:?}", answers[2]);
        };
        assert_eq!(store.stream_version(&used).await.expect("version"), 1);
        assert_eq!(store.stream_version(&reused).await.expect("version"), 1);
        let stored = store
            .idempotent_outcome(&fresh_key)
            .await
            .expect("key")
            .expect("stored");
        assert_eq!(&stored.result, appended);
    }
}

async fn a_batch_that_fails_as_a_whole_is_written_one_append_at_a_time(db: TestDatabase) {
    let store = db.store().await;
    for size in SIZES {
        let (good, bad, also_good) = (stream("good"), stream("bad"), stream("also-good"));
        let taken = event("Taken", json!(0));
        store
            .append(
                &stream("other"),
                ExpectedVersion::NoStream,
                vec![taken.clone()],
                &meta(),
                None,
            )
            .await
            .expect("take an event id");
        // Reusing an event id fails inside the database, which fails a batch as a whole.
        let mut duplicate = append(&bad, ExpectedVersion::NoStream, 2);
        duplicate.events.push(taken);

        let answers = store
            .append_all(size(vec![
                append(&good, ExpectedVersion::NoStream, 1),
                duplicate,
                append(&also_good, ExpectedVersion::NoStream, 3),
            ]))
            .await;

        assert!(answers[0].is_ok(), "{:?}", answers[0]);
        assert!(
            matches!(answers[1], Err(StoreError::Database(_))),
            "{:?}",
            answers[1]
        );
        assert!(answers[2].is_ok(), "{:?}", answers[2]);
        assert_eq!(store.stream_version(&good).await.expect("version"), 1);
        assert_eq!(
            store.stream_version(&bad).await.expect("version"),
            0,
            "half an append"
        );
        assert_eq!(store.stream_version(&also_good).await.expect("version"), 1);
    }
}

async fn appends_of_one_stream_in_one_call_are_written_in_order(db: TestDatabase) {
    let store = db.store().await;
    let s = stream("sequence");
    let answers = store
        .append_all(
            (0..5)
                .map(|n| append(&s, ExpectedVersion::Exact(n), n))
                .collect(),
        )
        .await;
    for (n, answer) in answers.iter().enumerate() {
        let result = answer.as_ref().expect("appended").result();
        assert_eq!(result.last_version, n as i64 + 1);
    }
    let payloads: Vec<_> = store
        .read_stream(&s, 1)
        .await
        .expect("read")
        .into_iter()
        .map(|event| event.payload["n"].clone())
        .collect();
    assert_eq!(payloads, (0..5).map(|n| json!(n)).collect::<Vec<_>>());
}

async fn concurrent_appends_share_transactions_and_lose_nothing(db: TestDatabase) {
    const WRITERS: usize = 64;
    const APPENDS: i64 = 10;
    let store = db.store().await;
    let streams: Vec<StreamId> = (0..WRITERS).map(|_| stream("busy")).collect();
    let writers = streams.iter().cloned().map(|s| {
        let store = store.clone();
        tokio::spawn(async move {
            for n in 0..APPENDS {
                let expected = ExpectedVersion::Exact(n);
                store
                    .append(&s, expected, vec![event("Noted", json!(n))], &meta(), None)
                    .await
                    .expect("append");
            }
        })
    });
    for writer in writers.collect::<Vec<_>>() {
        writer.await.expect("writer");
    }
    let mut ids = HashSet::new();
    for s in &streams {
        let events = store.read_stream(s, 1).await.expect("read");
        assert_eq!(
            events.iter().map(|e| e.version).collect::<Vec<_>>(),
            (1..=APPENDS).collect::<Vec<_>>()
        );
        ids.extend(events.iter().map(|e| e.event_id));
    }
    let appends = WRITERS * APPENDS as usize;
    assert_eq!(ids.len(), appends);
    if let Some(count) = transactions(&db.database, &streams).await {
        // 64 writers with one append each in flight: the queue always has company, and its
        // batches are mostly past the few that PostgreSQL writes as single appends.
        assert!(
            count < appends / 2,
            "{count} transactions for {appends} appends"
        );
    }
}
