//! Group commit: appends queued together are written together, and each keeps its own
//! outcome. Every scenario runs on SQLite and on PostgreSQL (skipped without `DATABASE_URL`,
//! outside CI).

// Shared with the conformance suite, which uses the rest of it.
#[allow(dead_code)]
mod support;

use std::collections::HashSet;
use std::sync::Arc;

use freshet_store::testing::TestDatabase;
use freshet_store::{
    Append, AppendOutcome, Database, EventStore, ExpectedVersion, IdempotencyKey, StoreError,
    StreamId,
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
    a_batch_takes_a_key_whose_use_has_expired_as_new,
    a_writer_in_flight_elsewhere_fails_the_batch_statement_and_the_batch_is_written_again,
    an_append_of_any_version_waiting_on_a_batch_elsewhere_is_appended_after_it,
    an_append_of_no_events_in_a_batch_checks_its_version_and_records_its_key,
    one_request_in_a_batch_and_in_a_single_append_elsewhere_is_appended_once_and_replayed_once,
    a_batch_whose_session_is_ended_by_the_server_is_answered_unknown_not_written_again,
    a_batch_the_server_refuses_a_connection_is_answered_unreachable_not_unknown,
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

async fn a_batch_takes_a_key_whose_use_has_expired_as_new(db: TestDatabase) {
    let store = db.store().await;
    for size in SIZES {
        let (old, new) = (stream("old"), stream("new"));
        let first_use = meta().recorded_at;
        let expired = IdempotencyKey::new(format!("expiring-{}", Uuid::now_v7()), "first");
        store
            .append(
                &old,
                ExpectedVersion::NoStream,
                vec![event("A", json!(1))],
                &meta(),
                Some(&expired),
            )
            .await
            .expect("first use");
        // A day later the key is another request's to take: its old use has expired.
        let later = IdempotencyKey::new(expired.key.clone(), "second")
            .with_valid_since(first_use + chrono::Duration::seconds(1));
        let mut again = append(&new, ExpectedVersion::NoStream, 2);
        again.idempotency = Some(later.clone());
        again.meta.recorded_at = first_use + chrono::Duration::seconds(2);
        let answers = store.append_all(size(vec![again])).await;

        let Ok(AppendOutcome::Appended(appended)) = &answers[0] else {
            panic!("the expired key was not taken as new: {:?}", answers[0]);
        };
        assert_eq!(appended.stream_id, new);
        assert_eq!(store.stream_version(&new).await.expect("version"), 1);
        let stored = store
            .idempotent_outcome(&later)
            .await
            .expect("key")
            .expect("stored");
        assert_eq!(stored.request_fingerprint, "second");
        assert_eq!(&stored.result, appended);
    }
}

/// PostgreSQL: the batch statement judges each append as it sees the log, and another
/// process's writer in flight on one of its streams or keys makes it wait, then fail on the
/// unique indexes once that writer commits. The batch is then written again through the
/// function that locks first: it loses nothing and writes nothing twice.
async fn a_writer_in_flight_elsewhere_fails_the_batch_statement_and_the_batch_is_written_again(
    db: TestDatabase,
) {
    let Database::Postgres(pool) = &db.database else {
        return; // SQLite has one writer: nothing is ever in flight beside a batch.
    };
    let store = db.store().await;
    let (raced, keyed, claimed, other) = (
        stream("raced"),
        stream("keyed"),
        stream("claimed"),
        stream("other"),
    );
    let shared = key("shared", "same");
    // The other process: one append on `raced`, one with the shared key, not committed yet.
    let mut elsewhere = pool.begin().await.expect("begin");
    for (s, key) in [(&raced, None), (&claimed, Some(&shared))] {
        sqlx::query(
            "SELECT outcome FROM append_events($1, 0, $2, ARRAY['Elsewhere'], ARRAY[1], \
             ARRAY['{}'::jsonb], now(), NULL, $3, $3, $4, $5, NULL)",
        )
        .bind(s.as_str())
        .bind(vec![Uuid::now_v7()])
        .bind(Uuid::now_v7())
        .bind(key.map(|k| k.key.as_str()))
        .bind(key.map(|k| k.request_fingerprint.as_str()))
        .fetch_one(&mut *elsewhere)
        .await
        .expect("append elsewhere");
    }
    let mut same_request = append(&keyed, ExpectedVersion::NoStream, 2);
    same_request.idempotency = Some(shared.clone());
    let batch = filled(vec![
        append(&raced, ExpectedVersion::NoStream, 1),
        same_request,
        append(&other, ExpectedVersion::NoStream, 3),
    ]);
    let writing = tokio::spawn({
        let store = store.clone();
        async move { store.append_all(batch).await }
    });
    until_waiting(pool, 1).await;
    assert!(
        !writing.is_finished(),
        "the batch did not wait for the writer in flight"
    );
    elsewhere.commit().await.expect("commit elsewhere");
    let answers = writing.await.expect("batch");

    assert!(
        matches!(answers[0], Err(StoreError::Conflict { actual: 1, .. })),
        "{:?}",
        answers[0]
    );
    let Ok(AppendOutcome::Replayed(replayed)) = &answers[1] else {
        panic!("the same request was not replayed: {:?}", answers[1]);
    };
    assert_eq!(
        replayed.stream_id, claimed,
        "replayed another append's outcome"
    );
    assert_eq!(store.stream_version(&keyed).await.expect("version"), 0);
    for answer in &answers[2..] {
        assert!(
            matches!(answer, Ok(AppendOutcome::Appended(_))),
            "{answer:?}"
        );
    }
    assert_eq!(store.stream_version(&other).await.expect("version"), 1);
    // Written again as one batch, through the function, not one append at a time.
    let written: Vec<StreamId> = answers[2..]
        .iter()
        .filter_map(|answer| match answer {
            Ok(AppendOutcome::Appended(result)) => Some(result.stream_id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(transactions(&db.database, &written).await, Some(1));
    let raced_events = store.read_stream(&raced, 1).await.expect("read");
    assert_eq!(
        raced_events
            .iter()
            .map(|e| e.event_type.as_str())
            .collect::<Vec<_>>(),
        ["Elsewhere"]
    );
}

/// PostgreSQL: waits until `count` sessions of this test's database wait for a lock (a
/// row another transaction inserted and has not committed), so a scenario's steps happen in
/// its order however loaded the machine is.
async fn until_waiting(pool: &sqlx::PgPool, count: i64) {
    for _ in 0..200 {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(pool)
        .await
        .expect("count waiting sessions");
        if waiting >= count {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{count} sessions never waited for a lock");
}

/// PostgreSQL: this process's batch of `first` (and a few more appends), paused once it has
/// inserted its events: another transaction holds one of its keys, named to sort before
/// the test's other keys, until the returned transaction rolls back.
async fn paused_batch(
    pool: &sqlx::PgPool,
    here: &Arc<dyn EventStore>,
    first: Vec<Append>,
) -> (
    sqlx::Transaction<'static, sqlx::Postgres>,
    tokio::task::JoinHandle<Vec<Result<AppendOutcome, StoreError>>>,
) {
    let held = key("a-held", "held");
    let mut holder = pool.begin().await.expect("begin");
    sqlx::query(
        "SELECT outcome FROM append_events($1, 0, $2, ARRAY['Holding'], ARRAY[1], \
         ARRAY['{}'::jsonb], now(), NULL, $3, $3, $4, 'holder', NULL)",
    )
    .bind(stream("holder").as_str())
    .bind(vec![Uuid::now_v7()])
    .bind(Uuid::now_v7())
    .bind(held.key.as_str())
    .fetch_one(&mut *holder)
    .await
    .expect("hold the key");
    let mut pausing = append(&stream("paused"), ExpectedVersion::NoStream, 2);
    pausing.idempotency = Some(IdempotencyKey::new(held.key.clone(), "batch"));
    let mut appends = first;
    appends.push(pausing);
    let batch = tokio::spawn({
        let (here, appends) = (Arc::clone(here), filled(appends));
        async move { here.append_all(appends).await }
    });
    until_waiting(pool, 1).await;
    (holder, batch)
}

/// PostgreSQL: another process appends at any version to a stream while this process's
/// batch holds the stream's next version, not committed yet. Once the batch commits, the
/// other append goes after it: "any version" never conflicts.
async fn an_append_of_any_version_waiting_on_a_batch_elsewhere_is_appended_after_it(
    db: TestDatabase,
) {
    let Database::Postgres(pool) = &db.database else {
        return; // SQLite has one writer: nothing is ever in flight beside a batch.
    };
    let (here, elsewhere) = (db.store().await, db.store().await);
    let s = stream("shared");
    let (holder, batch) =
        paused_batch(pool, &here, vec![append(&s, ExpectedVersion::NoStream, 1)]).await;
    let any = tokio::spawn({
        let s = s.clone();
        async move {
            elsewhere
                .append(
                    &s,
                    ExpectedVersion::Any,
                    vec![event("Any", json!(3))],
                    &meta(),
                    None,
                )
                .await
        }
    });
    until_waiting(pool, 2).await;
    holder.rollback().await.expect("let the batch go on");

    for answer in batch.await.expect("batch") {
        assert!(
            matches!(answer, Ok(AppendOutcome::Appended(_))),
            "{answer:?}"
        );
    }
    let any = any.await.expect("the other append");
    let Ok(AppendOutcome::Appended(appended)) = &any else {
        panic!("an append of any version failed: {any:?}");
    };
    assert_eq!(appended.first_version, 2);
    let types: Vec<String> = store_types(&*here, &s).await;
    assert_eq!(types, ["Noted", "Any"]);
}

/// PostgreSQL: the server ends the session of a batch in flight (an administrator's
/// `pg_terminate_backend`, a shutdown). Such a FATAL error can come after the commit (a
/// session ended while it waited for a synchronous standby has committed locally), so the
/// batch's outcome is unknown: its appends are answered so, never written again, which
/// could write them twice.
async fn a_batch_whose_session_is_ended_by_the_server_is_answered_unknown_not_written_again(
    db: TestDatabase,
) {
    let Database::Postgres(pool) = &db.database else {
        return; // SQLite has no server to end a session.
    };
    let here = db.store().await;
    let s = stream("ended");
    let (holder, batch) =
        paused_batch(pool, &here, vec![append(&s, ExpectedVersion::NoStream, 1)]).await;
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .fetch_all(pool)
    .await
    .expect("end the batch's session");
    assert_eq!(ended, [true]);
    holder.rollback().await.expect("release the held key");

    for answer in batch.await.expect("batch") {
        assert!(
            matches!(answer, Err(StoreError::BatchFailed(_))),
            "{answer:?}"
        );
    }
    // This session was ended before its commit: nothing of the batch is stored.
    assert!(store_types(&*here, &s).await.is_empty());
}

/// PostgreSQL: the server refuses this process's new connections (FATAL at log-in: a role
/// that may no longer log in, a dropped database). Nothing of the batch was sent, so its
/// appends are answered as a database that cannot be reached (the API's 503, worth a
/// retry), not as an unknown outcome.
async fn a_batch_the_server_refuses_a_connection_is_answered_unreachable_not_unknown(
    db: TestDatabase,
) {
    let Database::Postgres(pool) = &db.database else {
        return; // SQLite opens a file: no server to refuse it.
    };
    let role = format!("refused_{}", Uuid::now_v7().simple());
    sqlx::query(&format!("CREATE ROLE {role} LOGIN SUPERUSER"))
        .execute(pool)
        .await
        .expect("create the role");
    let as_role = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect_with(pool.connect_options().as_ref().clone().username(&role))
        .await
        .expect("connect as the role");
    let here: Arc<dyn EventStore> = Arc::new(
        freshet_store::PostgresStore::new(as_role.clone())
            .await
            .expect("store"),
    );
    // The role may log in no more, and its sessions end: every append needs a new one.
    sqlx::query(&format!("ALTER ROLE {role} NOLOGIN"))
        .execute(pool)
        .await
        .expect("refuse the role");
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1")
        .bind(&role)
        .execute(pool)
        .await
        .expect("end the role's sessions");
    // Ending a session only signals it: wait until none is left, or the pool could still
    // find a live one and send the batch into its ending.
    for _ in 0..200 {
        let left: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM pg_stat_activity WHERE usename = $1")
                .bind(&role)
                .fetch_one(pool)
                .await
                .expect("count the role's sessions");
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let s = stream("refused");
    let answers = here
        .append_all(filled(vec![append(&s, ExpectedVersion::NoStream, 1)]))
        .await;
    for answer in answers {
        assert!(
            matches!(answer, Err(StoreError::Database(sqlx::Error::PoolTimedOut))),
            "{answer:?}"
        );
    }
    let stored = db.store().await;
    assert!(store_types(&*stored, &s).await.is_empty());
    as_role.close().await;
    sqlx::query(&format!("DROP ROLE {role}"))
        .execute(pool)
        .await
        .expect("drop the role");
}

/// PostgreSQL: one request (one key) in this process's batch and, at once, in a single
/// append of another process (a client's retry that reached another instance). However
/// their waits interleave (here into a deadlock, which PostgreSQL breaks by failing one),
/// the request is appended once and the other answer is its replay, never an error.
async fn one_request_in_a_batch_and_in_a_single_append_elsewhere_is_appended_once_and_replayed_once(
    db: TestDatabase,
) {
    let Database::Postgres(pool) = &db.database else {
        return; // SQLite has one writer: nothing is ever in flight beside a batch.
    };
    let (here, elsewhere) = (db.store().await, db.store().await);
    let s = stream("shared");
    // Keys go in by key: the batch pauses at the held one before it claims this one.
    let shared = key("b-shared", "same");
    let mut request = append(&s, ExpectedVersion::NoStream, 1);
    request.idempotency = Some(shared.clone());
    let (holder, batch) = paused_batch(pool, &here, vec![request.clone()]).await;
    let retry = tokio::spawn({
        let s = s.clone();
        async move {
            elsewhere
                .append(
                    &s,
                    ExpectedVersion::NoStream,
                    request.events,
                    &meta(),
                    Some(&shared),
                )
                .await
        }
    });
    until_waiting(pool, 2).await;
    holder.rollback().await.expect("let the batch go on");

    let answers = batch.await.expect("batch");
    let retry = retry.await.expect("the retry");
    for answer in &answers[1..] {
        assert!(
            matches!(answer, Ok(AppendOutcome::Appended(_))),
            "{answer:?}"
        );
    }
    let outcomes = [&answers[0], &retry];
    let appended: Vec<_> = outcomes
        .iter()
        .filter_map(|answer| match answer {
            Ok(AppendOutcome::Appended(result)) => Some(result),
            _ => None,
        })
        .collect();
    let replayed: Vec<_> = outcomes
        .iter()
        .filter_map(|answer| match answer {
            Ok(AppendOutcome::Replayed(result)) => Some(result),
            _ => None,
        })
        .collect();
    assert_eq!(
        (appended.len(), replayed.len()),
        (1, 1),
        "batch: {:?}, retry: {retry:?}",
        answers[0]
    );
    assert_eq!(appended[0], replayed[0]);
    assert_eq!(store_types(&*here, &s).await, ["Noted"]);
}

async fn store_types(store: &dyn EventStore, s: &StreamId) -> Vec<String> {
    store
        .read_stream(s, 1)
        .await
        .expect("read")
        .into_iter()
        .map(|event| event.event_type)
        .collect()
}

async fn an_append_of_no_events_in_a_batch_checks_its_version_and_records_its_key(
    db: TestDatabase,
) {
    let store = db.store().await;
    for size in SIZES {
        let (checked, stale) = (stream("checked"), stream("stale"));
        for s in [&checked, &stale] {
            store
                .append(
                    s,
                    ExpectedVersion::NoStream,
                    vec![event("A", json!(1))],
                    &meta(),
                    None,
                )
                .await
                .expect("seed");
        }
        let recorded = key("empty", "f");
        let mut nothing = append(&checked, ExpectedVersion::Exact(1), 0);
        nothing.events.clear();
        nothing.idempotency = Some(recorded.clone());
        let mut too_late = append(&stale, ExpectedVersion::NoStream, 0);
        too_late.events.clear();
        let answers = store.append_all(size(vec![nothing, too_late])).await;

        let Ok(AppendOutcome::Appended(result)) = &answers[0] else {
            panic!(
                "an empty append at the right version failed: {:?}",
                answers[0]
            );
        };
        assert_eq!((result.first_version, result.last_version), (2, 1));
        assert!(result.positions.is_empty() && result.event_ids.is_empty());
        assert!(
            matches!(answers[1], Err(StoreError::Conflict { actual: 1, .. })),
            "{:?}",
            answers[1]
        );
        let stored = store
            .idempotent_outcome(&recorded)
            .await
            .expect("key")
            .expect("the key was recorded");
        assert_eq!(&stored.result, result);
        assert_eq!(store.stream_version(&checked).await.expect("version"), 1);
    }
}
