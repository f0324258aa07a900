//! One conformance suite for every backend: each scenario runs once on SQLite and once on
//! PostgreSQL (skipped without `DATABASE_URL`, outside CI).

mod support;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use freshet_store::testing::TestDatabase;
use freshet_store::{
    Append, AppendOutcome, Database, EventOrigin, EventStore, ExpectedVersion, IdempotencyKey,
    LogPosition, Metadata, RecordedEvent, StoreError, StreamId,
};
use serde_json::json;
use support::{event, insert_raw_event, meta, settle, stream};
use uuid::Uuid;

freshet_store::on_both_backends!(
    events_round_trip_with_every_field,
    events_of_their_own_instant_and_cause_keep_them_alone_and_in_a_batch,
    a_stale_expected_version_conflicts_and_writes_nothing,
    a_failed_append_writes_nothing,
    an_idempotent_retry_replays_the_first_outcome_and_writes_nothing,
    concurrent_identical_requests_append_once,
    reusing_a_key_for_another_request_is_rejected,
    odd_rows_come_back_intact,
    read_streams_returns_every_event_of_the_named_streams_only,
    read_streams_after_returns_only_what_each_stream_has_past_its_known_version,
    a_stream_is_read_a_page_at_a_time,
    events_cannot_be_updated_or_deleted,
    an_append_notifies_subscribers,
    concurrent_appends_are_seen_once_in_order_by_a_follower,
    an_expired_idempotency_key_is_taken_as_new,
    expired_idempotency_keys_are_deleted_in_batches,
    the_migrator_names_the_migrations_a_database_lacks,
);

async fn the_migrator_names_the_migrations_a_database_lacks(db: TestDatabase) {
    let pending = db
        .database
        .pending_migrations()
        .await
        .expect("read the migrations");
    assert_eq!(pending, Vec::<i64>::new());
    // As if the newest migration had not been applied yet (an older binary migrated it).
    let newest: i64 = freshet_store::on_pool!(&db.database, pool => {
        sqlx::query_scalar(
            "DELETE FROM _sqlx_migrations \
             WHERE version = (SELECT MAX(version) FROM _sqlx_migrations) RETURNING version",
        )
        .fetch_one(pool)
        .await
        .expect("forget the newest migration")
    });
    let pending = db
        .database
        .pending_migrations()
        .await
        .expect("read the migrations");
    assert_eq!(pending, vec![newest]);
}

/// `meta()` moved on by `hours`.
fn meta_after(hours: i64) -> Metadata {
    let mut meta = meta();
    meta.recorded_at += chrono::Duration::hours(hours);
    meta
}

async fn an_expired_idempotency_key_is_taken_as_new(db: TestDatabase) {
    let store = db.store().await;
    let s = stream("portfolio");
    let first_use = meta().recorded_at;
    let key = |fingerprint: &str, hours: i64| {
        IdempotencyKey::new("client-key-1", fingerprint)
            .with_valid_since(first_use + chrono::Duration::hours(hours))
    };
    let append = |key: IdempotencyKey, hours: i64| {
        let (store, s) = (store.clone(), s.clone());
        async move {
            store
                .append(
                    &s,
                    ExpectedVersion::Any,
                    vec![event("A", json!(hours))],
                    &meta_after(hours),
                    Some(&key),
                )
                .await
        }
    };
    let first = append(key("f", -24), 0).await.expect("first use");
    assert!(!first.is_replayed());
    // Still valid: the same request replays, another is refused.
    let replay = append(key("f", 0), 23).await.expect("replay");
    assert!(replay.is_replayed());
    assert!(append(key("g", 0), 23).await.is_err());
    assert!(
        store
            .idempotent_outcome(&key("f", 0))
            .await
            .expect("outcome")
            .is_some()
    );
    // Expired (its use is older than the cutoff): taken as new, by any request.
    assert!(
        store
            .idempotent_outcome(&key("f", 1))
            .await
            .expect("outcome")
            .is_none()
    );
    let again = append(key("g", 1), 25).await.expect("expired key reused");
    assert!(!again.is_replayed(), "{again:?}");
    // ... and that new use is what a retry now replays.
    let replay = append(key("g", 1), 26)
        .await
        .expect("replay of the new use");
    assert!(replay.is_replayed());
    assert_eq!(replay.result(), again.result());
    assert_eq!(read_everything(&db, &*store).await.len(), 2);
}

async fn expired_idempotency_keys_are_deleted_in_batches(db: TestDatabase) {
    let store = db.store().await;
    let s = stream("portfolio");
    for n in 0..5 {
        let key = IdempotencyKey::new(format!("k-{n}"), "f");
        store
            .append(
                &s,
                ExpectedVersion::Any,
                vec![event("A", json!(n))],
                &meta_after(n),
                Some(&key),
            )
            .await
            .expect("append");
    }
    // Keys used before hour 3 (k-0, k-1, k-2) go, two at a time; the others stay.
    let cutoff = meta_after(3).recorded_at;
    let deleted = store
        .delete_expired_idempotency_keys(cutoff, 2)
        .await
        .expect("delete");
    assert_eq!(deleted, 2);
    let deleted = store
        .delete_expired_idempotency_keys(cutoff, 2)
        .await
        .expect("delete");
    assert_eq!(deleted, 1);
    for n in 0..5 {
        let kept = store
            .idempotent_outcome(&IdempotencyKey::new(format!("k-{n}"), "f"))
            .await
            .expect("outcome")
            .is_some();
        assert_eq!(kept, n >= 3, "k-{n}");
    }
    assert_eq!(read_everything(&db, &*store).await.len(), 5, "events stay");
}

/// Everything in the log, once every committed event is visible.
async fn read_everything(db: &TestDatabase, store: &dyn EventStore) -> Vec<RecordedEvent> {
    settle(&db.database, store).await;
    store
        .read_all(LogPosition::START, 10_000)
        .await
        .expect("read all")
}

async fn events_round_trip_with_every_field(db: TestDatabase) {
    let store = db.store().await;
    let s = stream("portfolio");
    let meta = meta();
    let new = vec![
        event(
            "PortfolioOpened",
            json!({"name": "Spring ✿", "tags": ["a", "b"]}),
        ),
        event(
            "RefreshRequested",
            json!({"n": 1.5, "nested": {"deep": [null, true]}}),
        ),
        event("Nothing", json!(null)),
    ];
    let outcome = store
        .append(&s, ExpectedVersion::NoStream, new.clone(), &meta, None)
        .await
        .expect("append");
    let AppendOutcome::Appended(result) = outcome else {
        panic!("expected a fresh append, got {outcome:?}");
    };
    assert_eq!((result.first_version, result.last_version), (1, 3));
    assert_eq!(result.positions.len(), 3);
    assert!(result.positions.windows(2).all(|w| w[0] < w[1]));

    let read = store.read_stream(&s, 1).await.expect("read stream");
    assert_eq!(read.len(), 3);
    for (i, (recorded, sent)) in read.iter().zip(&new).enumerate() {
        assert_eq!(recorded.event_id, sent.event_id);
        assert_eq!(recorded.stream_id, s);
        assert_eq!(recorded.version, i as i64 + 1);
        assert_eq!(recorded.position, result.positions[i]);
        assert_eq!(recorded.event_type, sent.event_type);
        assert_eq!(recorded.schema_version, sent.schema_version);
        assert_eq!(recorded.payload, sent.payload);
        assert_eq!(recorded.recorded_at, meta.recorded_at);
        assert_eq!(recorded.actor, meta.actor);
        assert_eq!(recorded.causation_id, meta.causation_id);
        assert_eq!(recorded.correlation_id, meta.correlation_id);
    }
    assert_eq!(read_everything(&db, &*store).await, read);
    assert_eq!(store.head().await.expect("head"), result.positions[2]);
    assert_eq!(store.stream_version(&s).await.expect("version"), 3);
    assert_eq!(store.stream_version(&stream("none")).await.expect("v"), 0);

    let more = store
        .append(
            &s,
            ExpectedVersion::Exact(3),
            vec![event("More", json!({}))],
            &meta,
            None,
        )
        .await
        .expect("append more");
    assert_eq!(more.result().first_version, 4);
    settle(&db.database, &*store).await;
    let tail = store.read_stream(&s, 4).await.expect("read from 4");
    assert_eq!(tail.len(), 1);
    assert_eq!(tail[0].version, 4);
    let after = store.read_all(result.positions[2], 10).await.expect("page");
    assert_eq!(after, tail);
    assert!(
        store
            .read_all(LogPosition::START, 2)
            .await
            .expect("limit")
            .len()
            == 2
    );
}

/// An append of several dated commands (an import's history): each event keeps its own
/// instant and cause, the others take the append's, written alone or group-committed.
async fn events_of_their_own_instant_and_cause_keep_them_alone_and_in_a_batch(db: TestDatabase) {
    let store = db.store().await;
    let meta = meta();
    let dated = |days: i64| EventOrigin {
        recorded_at: meta.recorded_at - chrono::Duration::days(days),
        causation_id: Uuid::now_v7(),
    };
    let history = |origins: &[EventOrigin]| {
        let mut events: Vec<_> = origins
            .iter()
            .map(|origin| event("Dated", json!({})).with_origin(*origin))
            .collect();
        events.push(event("Undated", json!({})));
        events
    };
    let expect = |read: &[RecordedEvent], origins: &[EventOrigin]| {
        assert_eq!(read.len(), origins.len() + 1);
        for (recorded, origin) in read.iter().zip(origins) {
            assert_eq!(recorded.recorded_at, origin.recorded_at);
            assert_eq!(recorded.causation_id, origin.causation_id);
            assert_eq!(recorded.correlation_id, meta.correlation_id);
        }
        let undated = read.last().expect("one more");
        assert_eq!(undated.recorded_at, meta.recorded_at);
        assert_eq!(undated.causation_id, meta.causation_id);
    };

    let alone = stream("portfolio");
    let origins = [dated(30), dated(20)];
    store
        .append(
            &alone,
            ExpectedVersion::NoStream,
            history(&origins),
            &meta,
            None,
        )
        .await
        .expect("append alone");
    expect(&store.read_stream(&alone, 1).await.expect("read"), &origins);

    let batch: Vec<(StreamId, [EventOrigin; 2])> = (0..5)
        .map(|i| (stream("portfolio"), [dated(40 + i), dated(10 + i)]))
        .collect();
    let appends = batch
        .iter()
        .map(|(s, origins)| Append {
            stream: s.clone(),
            expected: ExpectedVersion::NoStream,
            events: history(origins),
            meta: meta.clone(),
            idempotency: None,
        })
        .collect();
    for answer in store.append_all(appends).await {
        answer.expect("append in a batch");
    }
    for (s, origins) in &batch {
        expect(&store.read_stream(s, 1).await.expect("read"), origins);
    }
}

async fn a_stale_expected_version_conflicts_and_writes_nothing(db: TestDatabase) {
    let store = db.store().await;
    let s = stream("portfolio");
    store
        .append(
            &s,
            ExpectedVersion::NoStream,
            vec![event("A", json!(1))],
            &meta(),
            None,
        )
        .await
        .expect("first append");
    settle(&db.database, &*store).await;
    let head = store.head().await.expect("head");

    for expected in [
        ExpectedVersion::NoStream,
        ExpectedVersion::Exact(0),
        ExpectedVersion::Exact(2),
    ] {
        let error = store
            .append(
                &s,
                expected,
                vec![event("B", json!(2)), event("C", json!(3))],
                &meta(),
                None,
            )
            .await
            .expect_err("a stale version must conflict");
        assert!(
            matches!(&error, StoreError::Conflict { stream, expected: e, actual: 1 } if *stream == s && *e == expected),
            "unexpected error {error:?}"
        );
    }
    assert_eq!(store.stream_version(&s).await.expect("version"), 1);
    assert_eq!(read_everything(&db, &*store).await.len(), 1);
    assert_eq!(store.head().await.expect("head"), head);
    store
        .append(
            &s,
            ExpectedVersion::Any,
            vec![event("D", json!(4))],
            &meta(),
            None,
        )
        .await
        .expect("any version appends");
    assert_eq!(store.stream_version(&s).await.expect("version"), 2);

    // A keyed append that conflicts leaves its key unused: the retry on the right version
    // appends instead of replaying nothing.
    let key = IdempotencyKey {
        key: format!("k-{}", Uuid::new_v4()),
        request_fingerprint: "log a note".into(),
        valid_since: None,
    };
    let error = store
        .append(
            &s,
            ExpectedVersion::Exact(1),
            vec![event("E", json!(5))],
            &meta(),
            Some(&key),
        )
        .await
        .expect_err("a stale keyed append must conflict");
    assert!(error.is_conflict(), "unexpected error {error:?}");
    assert!(store.idempotent_outcome(&key).await.expect("key").is_none());
    let retried = store
        .append(
            &s,
            ExpectedVersion::Exact(2),
            vec![event("E", json!(5))],
            &meta(),
            Some(&key),
        )
        .await
        .expect("retry on the right version");
    assert!(!retried.is_replayed());
    assert_eq!(store.stream_version(&s).await.expect("version"), 3);
}

/// Appends `count` events, one at a time, to each stream.
async fn fill(store: &dyn EventStore, streams: &[(&StreamId, i64)]) {
    for (s, count) in streams {
        for i in 0..*count {
            store
                .append(
                    s,
                    ExpectedVersion::Any,
                    vec![event("E", json!(i))],
                    &meta(),
                    None,
                )
                .await
                .expect("append");
        }
    }
}

/// What a cache asks: each stream's events past the version it knows, grouped by stream in
/// version order; nothing for a stream already up to date, or unknown.
async fn read_streams_after_returns_only_what_each_stream_has_past_its_known_version(
    db: TestDatabase,
) {
    let store = db.store().await;
    let (behind, current, other) = (stream("behind"), stream("current"), stream("other"));
    fill(&*store, &[(&behind, 5), (&current, 2), (&other, 3)]).await;
    let read = store
        .read_streams_after(&[
            (behind.clone(), 2),
            (current.clone(), 2),
            (stream("unknown"), 0),
            (other.clone(), 0),
        ])
        .await
        .expect("read streams after");
    let got: Vec<(String, i64)> = read
        .iter()
        .map(|r| {
            (
                r.stream_id
                    .as_str()
                    .split('-')
                    .next()
                    .unwrap_or("")
                    .to_owned(),
                r.version,
            )
        })
        .collect();
    let mut by_stream: Vec<(String, Vec<i64>)> = Vec::new();
    for (name, version) in got {
        match by_stream.last_mut() {
            Some((last, versions)) if *last == name => versions.push(version),
            _ => by_stream.push((name, vec![version])),
        }
    }
    by_stream.sort();
    assert_eq!(
        by_stream,
        vec![
            ("behind".to_owned(), vec![3, 4, 5]),
            ("other".to_owned(), vec![1, 2, 3]),
        ],
        "each stream once, in version order, only past its known version"
    );
    assert!(
        store
            .read_streams_after(&[])
            .await
            .expect("none")
            .is_empty()
    );
}

async fn read_streams_returns_every_event_of_the_named_streams_only(db: TestDatabase) {
    let store = db.store().await;
    let (a, b, c) = (stream("a"), stream("b"), stream("c"));
    fill(&*store, &[(&a, 3), (&b, 2), (&c, 4)]).await;
    let read = store
        .read_streams(&[c.clone(), a.clone(), stream("missing")])
        .await
        .expect("read streams");
    let mut seen: HashMap<StreamId, Vec<i64>> = HashMap::new();
    for record in &read {
        seen.entry(record.stream_id.clone())
            .or_default()
            .push(record.version);
    }
    assert_eq!(seen.len(), 2, "only the named streams: {seen:?}");
    assert_eq!(seen[&a], [1, 2, 3]);
    assert_eq!(seen[&c], [1, 2, 3, 4]);
    assert!(store.read_streams(&[]).await.expect("none").is_empty());
}

async fn a_stream_is_read_a_page_at_a_time(db: TestDatabase) {
    let store = db.store().await;
    let (a, b) = (stream("paged"), stream("other"));
    for i in 0..5 {
        for s in [&a, &b] {
            store
                .append(
                    s,
                    ExpectedVersion::Any,
                    vec![event("E", json!(i))],
                    &meta(),
                    None,
                )
                .await
                .expect("append");
        }
    }
    let versions = |records: Vec<RecordedEvent>| -> Vec<i64> {
        assert!(records.iter().all(|r| r.stream_id == a));
        records.iter().map(|r| r.version).collect()
    };
    let page = |from, limit| store.read_stream_page(&a, from, limit);
    assert_eq!(versions(page(1, 2).await.expect("page")), [1, 2]);
    assert_eq!(versions(page(3, 2).await.expect("page")), [3, 4]);
    assert_eq!(versions(page(5, 2).await.expect("page")), [5]);
    assert!(page(6, 2).await.expect("page").is_empty());
}

async fn a_failed_append_writes_nothing(db: TestDatabase) {
    let store = db.store().await;
    let s = stream("portfolio");
    let first = event("A", json!(1));
    store
        .append(
            &s,
            ExpectedVersion::NoStream,
            vec![first.clone()],
            &meta(),
            None,
        )
        .await
        .expect("first append");
    settle(&db.database, &*store).await;
    let head = store.head().await.expect("head");

    // The second event reuses an existing event id: the insert fails half-way through.
    let key = IdempotencyKey {
        key: format!("k-{}", Uuid::new_v4()),
        request_fingerprint: "f".into(),
        valid_since: None,
    };
    let mut duplicate = event("B", json!(2));
    duplicate.event_id = first.event_id;
    let error = store
        .append(
            &s,
            ExpectedVersion::Exact(1),
            vec![event("Ok", json!(0)), duplicate],
            &meta(),
            Some(&key),
        )
        .await
        .expect_err("a duplicate event id fails");
    assert!(matches!(error, StoreError::Database(_)), "{error:?}");
    assert_eq!(store.stream_version(&s).await.expect("version"), 1);
    assert_eq!(read_everything(&db, &*store).await.len(), 1);
    assert_eq!(store.head().await.expect("head"), head);
    assert!(store.idempotent_outcome(&key).await.expect("key").is_none());

    // The same key then works, and the log reads on without trouble past the burnt positions.
    let retried = store
        .append(
            &s,
            ExpectedVersion::Exact(1),
            vec![event("B", json!(2))],
            &meta(),
            Some(&key),
        )
        .await
        .expect("retry");
    assert!(!retried.is_replayed());
    let all = read_everything(&db, &*store).await;
    assert_eq!(all.iter().map(|e| e.version).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(store.read_all(head, 10).await.expect("page").len(), 1);
}

async fn an_idempotent_retry_replays_the_first_outcome_and_writes_nothing(db: TestDatabase) {
    let store = db.store().await;
    let s = stream("portfolio");
    let key = IdempotencyKey {
        key: format!("k-{}", Uuid::new_v4()),
        request_fingerprint: "open portfolio Spring".into(),
        valid_since: None,
    };
    // Several events, so the stored outcome's versions and positions are told apart.
    let three = || {
        ["A", "B", "C"]
            .into_iter()
            .map(|name| event(name, json!(name)))
            .collect()
    };
    let events: Vec<freshet_store::NewEvent> = three();
    let m = meta();
    let new_stream =
        |events, key| store.append(&s, ExpectedVersion::NoStream, events, &m, Some(key));
    let first = new_stream(events.clone(), &key).await.expect("first");
    assert!(!first.is_replayed());
    assert_eq!(
        (first.result().first_version, first.result().last_version),
        (1, 3)
    );
    // A retry decides again (new event ids, now a stale version): still the first outcome.
    let again = new_stream(three(), &key).await.expect("retry");
    assert_eq!(again, AppendOutcome::Replayed(first.result().clone()));
    // A retry of the very same events (a caller that kept them) is replayed too.
    let same = new_stream(events.clone(), &key)
        .await
        .expect("retry of the same events");
    assert_eq!(same, AppendOutcome::Replayed(first.result().clone()));
    // Those events under another key conflict, and that key is not taken with their outcome.
    let other_key = IdempotencyKey::new(format!("k-{}", Uuid::new_v4()), "another request");
    let other = new_stream(events, &other_key).await;
    assert!(
        matches!(other, Err(StoreError::Conflict { .. })),
        "{other:?}"
    );
    assert_eq!(
        store.idempotent_outcome(&other_key).await.expect("lookup"),
        None
    );
    assert_eq!(read_everything(&db, &*store).await.len(), 3);
    let record = store
        .idempotent_outcome(&key)
        .await
        .expect("lookup")
        .expect("stored");
    assert_eq!(record.request_fingerprint, key.request_fingerprint);
    assert_eq!(&record.result, first.result());
    // What a command runner does with a key it finds before deciding: replay its outcome.
    assert_eq!(
        record.replay_for(&key).expect("the same request"),
        AppendOutcome::Replayed(first.result().clone())
    );

    // An append of no events records the key only.
    let empty_key = IdempotencyKey {
        key: format!("k-{}", Uuid::new_v4()),
        request_fingerprint: "noop".into(),
        valid_since: None,
    };
    let empty = store
        .append(
            &s,
            ExpectedVersion::Exact(3),
            vec![],
            &meta(),
            Some(&empty_key),
        )
        .await
        .expect("empty append");
    assert_eq!(empty.result().first_version, 4);
    assert_eq!(empty.result().last_version, 3);
    assert_eq!(empty.result().last_position(), None);
    let replay = store
        .append(
            &s,
            ExpectedVersion::Exact(3),
            vec![],
            &meta(),
            Some(&empty_key),
        )
        .await
        .expect("empty replay");
    assert!(replay.is_replayed());
    assert_eq!(read_everything(&db, &*store).await.len(), 3);
}

async fn concurrent_identical_requests_append_once(db: TestDatabase) {
    let store = db.store().await;
    let s = stream("portfolio");
    let key = IdempotencyKey {
        key: format!("k-{}", Uuid::new_v4()),
        request_fingerprint: "same".into(),
        valid_since: None,
    };
    let requests = (0..6).map(|_| {
        let (store, s, key) = (store.clone(), s.clone(), key.clone());
        tokio::spawn(async move {
            store
                .append(
                    &s,
                    ExpectedVersion::Any,
                    vec![event("A", json!(1))],
                    &meta(),
                    Some(&key),
                )
                .await
        })
    });
    let outcomes: Vec<AppendOutcome> = futures::future::join_all(requests)
        .await
        .into_iter()
        .map(|joined| joined.expect("task").expect("append or replay"))
        .collect();
    let appended: Vec<_> = outcomes.iter().filter(|o| !o.is_replayed()).collect();
    assert_eq!(appended.len(), 1, "{outcomes:?}");
    assert!(outcomes.iter().all(|o| o.result() == appended[0].result()));
    assert_eq!(read_everything(&db, &*store).await.len(), 1);
}

async fn reusing_a_key_for_another_request_is_rejected(db: TestDatabase) {
    let store = db.store().await;
    let s = stream("portfolio");
    let key = |fingerprint: &str| IdempotencyKey {
        key: "client-key-1".into(),
        request_fingerprint: fingerprint.into(),
        valid_since: None,
    };
    store
        .append(
            &s,
            ExpectedVersion::NoStream,
            vec![event("A", json!(1))],
            &meta(),
            Some(&key("one")),
        )
        .await
        .expect("first");
    let error = store
        .append(
            &s,
            ExpectedVersion::Any,
            vec![event("B", json!(2))],
            &meta(),
            Some(&key("two")),
        )
        .await
        .expect_err("another request with the same key");
    assert!(
        matches!(&error, StoreError::IdempotencyKeyReused { key } if key == "client-key-1"),
        "{error:?}"
    );
    assert_eq!(read_everything(&db, &*store).await.len(), 1);
}

async fn odd_rows_come_back_intact(db: TestDatabase) {
    let store = db.store().await;
    let s = stream("portfolio");
    store
        .append(
            &s,
            ExpectedVersion::NoStream,
            vec![event("Known", json!({}))],
            &meta(),
            None,
        )
        .await
        .expect("append");
    let odd_id = Uuid::now_v7();
    insert_raw_event(
        &db.database,
        odd_id,
        &s,
        2,
        "FromTheFuture",
        99,
        json!("just a string"),
    )
    .await;

    let read = store.read_stream(&s, 1).await.expect("read stream");
    assert_eq!(read.len(), 2);
    let odd = &read[1];
    assert_eq!(odd.event_id, odd_id);
    assert_eq!(odd.event_type, "FromTheFuture");
    assert_eq!(odd.schema_version, 99);
    assert_eq!(odd.payload, json!("just a string"));
    assert_eq!(odd.actor, None);
    assert_eq!(read_everything(&db, &*store).await, read);
    // The stream goes on after it.
    store
        .append(
            &s,
            ExpectedVersion::Exact(2),
            vec![event("Next", json!({}))],
            &meta(),
            None,
        )
        .await
        .expect("append after the odd row");
}

async fn events_cannot_be_updated_or_deleted(db: TestDatabase) {
    let store = db.store().await;
    let s = stream("portfolio");
    store
        .append(
            &s,
            ExpectedVersion::NoStream,
            vec![event("A", json!(1))],
            &meta(),
            None,
        )
        .await
        .expect("append");
    let statements = ["UPDATE events SET event_type = 'B'", "DELETE FROM events"];
    for statement in statements {
        let result = match &db.database {
            Database::Postgres(pool) => sqlx::query(statement).execute(pool).await.map(|_| ()),
            Database::Sqlite(pool) => sqlx::query(statement).execute(pool).await.map(|_| ()),
        };
        assert!(result.is_err(), "{statement} must be refused");
    }
    assert_eq!(read_everything(&db, &*store).await[0].event_type, "A");
}

async fn an_append_notifies_subscribers(db: TestDatabase) {
    let store = db.store().await;
    let mut subscription = store.subscribe();
    // On PostgreSQL a second pool stands in for another process: it hears LISTEN/NOTIFY.
    let other = match db.database {
        Database::Postgres(_) => {
            let other = Database::connect(db.url()).await.expect("second pool");
            let store = other.event_store().await.expect("second store");
            Some((other, store))
        }
        Database::Sqlite(_) => None,
    };
    let mut remote = other.as_ref().map(|(_, store)| store.subscribe());

    let appended = store
        .append(
            &stream("p"),
            ExpectedVersion::NoStream,
            vec![event("A", json!(1))],
            &meta(),
            None,
        )
        .await
        .expect("append");
    let last = appended.result().last_position().expect("one event");
    let hint = tokio::time::timeout(Duration::from_secs(5), subscription.recv())
        .await
        .expect("notified in time")
        .expect("a position");
    assert_eq!(hint, last);
    if let Some(remote) = remote.as_mut() {
        let hint = tokio::time::timeout(Duration::from_secs(5), remote.recv())
            .await
            .expect("the other pool is notified in time")
            .expect("a position");
        assert_eq!(hint, last);

        // A burst is coalesced, but the other process always hears the latest commit.
        let burst = (0..20).map(|i| {
            let store = &store;
            async move {
                store
                    .append(
                        &stream(&format!("burst-{i}")),
                        ExpectedVersion::NoStream,
                        vec![event("B", json!(i))],
                        &meta(),
                        None,
                    )
                    .await
                    .expect("burst append")
                    .result()
                    .last_position()
                    .expect("one event")
            }
        });
        let latest = futures::future::join_all(burst).await.into_iter().max();
        let heard = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                let hint = remote.recv().await.expect("a position");
                if Some(hint) == latest {
                    return hint;
                }
            }
        })
        .await;
        assert!(
            heard.is_ok(),
            "the other pool never heard the burst's last commit"
        );
    }
}

/// 8 writers (4 on their own streams, 4 contending on one stream: each appends on the version
/// it read and reads again on a conflict) while a follower pages through `read_all` from its
/// last position: it must see every committed event exactly once, each stream in version
/// order.
async fn concurrent_appends_are_seen_once_in_order_by_a_follower(db: TestDatabase) {
    const ROUNDS: usize = 12;
    let store = db.store().await;
    let hot = stream("hot");
    let (target_tx, mut target_rx) = tokio::sync::watch::channel(None::<LogPosition>);

    let follower = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut hints = store.subscribe();
            let mut after = LogPosition::START;
            let mut seen = Vec::<RecordedEvent>::new();
            let mut ids = HashSet::new();
            let mut versions = HashMap::new();
            loop {
                let page = store.read_all(after, 7).await.expect("read_all");
                if page.is_empty() {
                    if target_rx
                        .borrow_and_update()
                        .is_some_and(|target| after >= target)
                    {
                        return seen;
                    }
                    tokio::select! {
                        _ = hints.recv() => {}
                        _ = target_rx.changed() => {}
                        _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                    }
                    continue;
                }
                for event in page {
                    assert!(event.position > after, "positions only move forward");
                    assert!(ids.insert(event.event_id), "seen twice: {event:?}");
                    let version = versions.entry(event.stream_id.clone()).or_insert(0);
                    assert_eq!(
                        event.version,
                        *version + 1,
                        "gap or reorder in {}",
                        event.stream_id
                    );
                    *version = event.version;
                    after = event.position;
                    seen.push(event);
                }
            }
        })
    };

    let writers: Vec<_> = (0..8)
        .map(|task| {
            let (store, hot) = (store.clone(), hot.clone());
            tokio::spawn(async move {
                let mut written = Vec::new();
                if task < 4 {
                    let own = stream(&format!("own{task}"));
                    let mut version = 0;
                    for round in 0..ROUNDS {
                        let events = (0..=round % 3)
                            .map(|i| {
                                event("OwnAppended", json!({"task": task, "round": round, "i": i}))
                            })
                            .collect();
                        let outcome = store
                            .append(&own, ExpectedVersion::Exact(version), events, &meta(), None)
                            .await
                            .expect("own stream append");
                        version = outcome.result().last_version;
                        written.extend(outcome.into_result().positions);
                    }
                } else {
                    for round in 0..ROUNDS {
                        let mut attempts = 0;
                        let outcome = loop {
                            attempts += 1;
                            assert!(attempts <= 1_000, "the hot stream stayed contended");
                            let version = store.stream_version(&hot).await.expect("hot version");
                            let events = vec![event(
                                "HotIncremented",
                                json!({"task": task, "round": round, "after": version}),
                            )];
                            match store
                                .append(
                                    &hot,
                                    ExpectedVersion::Exact(version),
                                    events,
                                    &meta(),
                                    None,
                                )
                                .await
                            {
                                Err(error) if error.is_conflict() => continue,
                                outcome => break outcome.expect("hot stream append"),
                            }
                        };
                        written.extend(outcome.into_result().positions);
                    }
                }
                written
            })
        })
        .collect();

    let mut written = Vec::new();
    for writer in writers {
        written.extend(writer.await.expect("writer"));
    }
    let target = written
        .iter()
        .max()
        .copied()
        .expect("something was written");
    target_tx.send(Some(target)).expect("follower listens");
    let seen = tokio::time::timeout(Duration::from_secs(60), follower)
        .await
        .expect("the follower reaches the last write (a skipped event would stall it)")
        .expect("follower");

    // Events whose sequence position is lower than one read before them: commits that
    // landed out of sequence order, which a position-only reader would have skipped.
    let out_of_sequence = seen
        .windows(2)
        .filter(|w| w[1].position.position < w[0].position.position)
        .count();
    eprintln!(
        "{} events, {out_of_sequence} out of sequence order",
        seen.len()
    );
    assert_eq!(
        seen.len(),
        written.len(),
        "every committed event seen exactly once"
    );
    let seen_positions: HashSet<_> = seen.iter().map(|e| e.position).collect();
    assert!(written.iter().all(|p| seen_positions.contains(p)));
    assert_eq!(
        store.stream_version(&hot).await.expect("hot"),
        4 * ROUNDS as i64
    );
    let full: Vec<_> = read_everything(&db, &*store)
        .await
        .iter()
        .map(|e| e.event_id)
        .collect();
    assert_eq!(full, seen.iter().map(|e| e.event_id).collect::<Vec<_>>());
    assert_eq!(store.head().await.expect("head"), target);
}

/// Ordering by commit: transaction A takes its id first, B appends and commits, then A
/// inserts (a LATER position than B's) and commits. A reader must see nothing while A is
/// in flight, and then A's event before B's, so a saved position never skips one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_read_all_waits_for_an_older_transaction_in_flight() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let Database::Postgres(pool) = &db.database else {
        unreachable!("a PostgreSQL test database");
    };
    let store = db.store().await;
    let (a, b) = (stream("a"), stream("b"));

    let mut older = pool.begin().await.expect("begin A");
    let a_xid: i64 = sqlx::query_scalar("SELECT pg_current_xact_id()::text::bigint")
        .fetch_one(&mut *older)
        .await
        .expect("A takes its transaction id");

    let b_result = store
        .append(
            &b,
            ExpectedVersion::NoStream,
            vec![event("B", json!({}))],
            &meta(),
            None,
        )
        .await
        .expect("B appends and commits")
        .into_result();
    let b_position = b_result.positions[0];
    assert!(b_position.commit > a_xid);

    let a_position: i64 = sqlx::query_scalar(
        "INSERT INTO events (commit_xid, event_id, stream_id, version, event_type, schema_version, \
         payload, recorded_at, causation_id, correlation_id) \
         VALUES ($1, $2, $3, 1, 'A', 1, '{}', now(), $2, $2) RETURNING position",
    )
    .bind(a_xid)
    .bind(Uuid::now_v7())
    .bind(a.as_str())
    .fetch_one(&mut *older)
    .await
    .expect("A inserts");
    assert!(
        a_position > b_position.position,
        "A's position is later than B's"
    );

    assert!(
        store
            .read_all(LogPosition::START, 100)
            .await
            .expect("read")
            .is_empty(),
        "B must stay invisible while the older A is in flight"
    );
    assert_eq!(store.head().await.expect("head"), LogPosition::START);

    older.commit().await.expect("A commits");
    settle(&db.database, &*store).await;
    let all = store.read_all(LogPosition::START, 100).await.expect("read");
    let order: Vec<_> = all.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(order, ["A", "B"]);
    assert_eq!(store.head().await.expect("head"), b_position);
    assert!(store.read_all(all[0].position, 100).await.expect("page")[0].event_type == "B");
}

#[tokio::test]
async fn an_unknown_url_scheme_is_a_clear_error() {
    let error = Database::connect("mysql://user:secret@localhost/freshet")
        .await
        .expect_err("unsupported");
    assert!(matches!(error, StoreError::UnsupportedUrl { .. }));
    assert!(!error.to_string().contains("secret"));
}

#[tokio::test]
async fn a_missing_sqlite_file_is_created() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("new.db");
    let db = Database::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("connect");
    db.migrate().await.expect("migrate");
    db.migrate().await.expect("migrating twice is a no-op");
    assert!(path.exists());
}

/// A binary of the release before 0102 still calls `append_batch` with its 14 arguments
/// while an upgrade rolls out: that call keeps working, every event with its append's
/// metadata.
#[tokio::test]
async fn postgres_the_batch_append_of_the_previous_release_still_appends() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let Database::Postgres(pool) = &db.database else {
        unreachable!("a PostgreSQL test database");
    };
    let store = db.store().await;
    let s = stream("portfolio");
    let meta = meta();
    let outcome: String = sqlx::query_scalar(
        "SELECT outcome FROM append_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
         $13, $14)",
    )
    .bind(vec![s.as_str()])
    .bind(vec![Some(0_i64)])
    .bind(vec![meta.recorded_at])
    .bind(vec![meta.actor.as_deref()])
    .bind(vec![meta.causation_id])
    .bind(vec![meta.correlation_id])
    .bind(vec![None::<&str>])
    .bind(vec![None::<&str>])
    .bind(vec![None::<chrono::DateTime<chrono::Utc>>])
    .bind(vec![1_i32, 1])
    .bind(vec![Uuid::now_v7(), Uuid::now_v7()])
    .bind(vec!["First", "Second"])
    .bind(vec![1_i32, 1])
    .bind(vec![json!({}), json!({"n": 2})])
    .fetch_one(pool)
    .await
    .expect("the 14-argument append_batch");
    assert_eq!(outcome, "appended");
    let read = store.read_stream(&s, 1).await.expect("read");
    assert_eq!(read.len(), 2);
    for recorded in &read {
        assert_eq!(recorded.recorded_at, meta.recorded_at);
        assert_eq!(recorded.causation_id, meta.causation_id);
        assert_eq!(recorded.actor, meta.actor);
    }
    assert_eq!(read[1].payload, json!({"n": 2}));
}
