//! The final checks: the log against what clients were told, the triggers, the emails
//! against the SMTP sink, and the read models against a rebuild.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;

use super::driver::{Cycle, Driver, People};
use super::fleet::Fleet;
use freshet_testkit::smtp::SmtpSink;

/// Read model tables, by the projection (generation) that owns them.
pub const READ_MODELS: [(&str, &str); 4] = [
    ("inbox", "inbox_tasks"),
    ("portfolios", "portfolios"),
    ("ad_set_board", "ad_set_tickets"),
    ("cycle_metrics", "cycle_metrics"),
];

/// Every event a client was told about is in the log, at its version, with its type; and
/// every event in the portfolios' streams was acknowledged to someone or is the
/// scheduler's. Returns the number of acknowledged events.
pub async fn check_acknowledged_events_are_logged(pool: &PgPool, driver: &Driver) -> usize {
    let rows: Vec<(String, i64, String, Option<String>)> =
        sqlx::query_as("SELECT stream_id, version, event_type, actor FROM events")
            .fetch_all(pool)
            .await
            .unwrap();
    let logged: HashMap<(String, i64), (String, Option<String>)> = rows
        .into_iter()
        .map(|(s, v, t, a)| ((s, v), (t, a)))
        .collect();
    let acks = driver.acks.lock().unwrap().clone();
    let mut acknowledged = BTreeSet::new();
    for ack in &acks {
        let stream = format!("portfolio-{}", ack.portfolio);
        let first = ack.stream_version - i64::try_from(ack.event_types.len()).unwrap() + 1;
        for (offset, event_type) in ack.event_types.iter().enumerate() {
            let version = first + i64::try_from(offset).unwrap();
            let found = logged.get(&(stream.clone(), version));
            assert_eq!(
                found.map(|(t, _)| t.as_str()),
                Some(event_type.as_str()),
                "acknowledged {event_type} at {stream} v{version} (replayed: {}) is not in the log",
                ack.replayed
            );
            acknowledged.insert((stream.clone(), version));
        }
    }
    let unacknowledged: Vec<_> = logged
        .iter()
        .filter(|(at, (_, actor))| {
            !acknowledged.contains(*at) && actor.as_deref() != Some("system")
        })
        .collect();
    assert!(
        unacknowledged.is_empty(),
        "{} events by people were never acknowledged, e.g. {:?}",
        unacknowledged.len(),
        unacknowledged.iter().take(5).collect::<Vec<_>>()
    );
    acknowledged.len()
}

/// Per portfolio and cycle: one kickoff, one SAS handoff, one review handoff per round,
/// one implementation; no stall alert twice; tickets and revisions as sent, never doubled.
pub async fn check_triggers_fired_once(pool: &PgPool, cycles: &[Cycle]) {
    let doubled: Vec<(String, i64)> = sqlx::query_as(
        "SELECT concat_ws(' ', stream_id, event_type, 'cycle', payload->>'cycle',
                          'round', payload->>'round', payload->>'gate'),
                count(*)
         FROM events
         WHERE event_type IN ('RefreshKickedOff', 'DeliverablesRequested',
                              'AdSetReadyForReview', 'StallAlertRaised',
                              'CreativesApproved', 'CreativesImplemented')
         GROUP BY 1 HAVING count(*) > 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(doubled.is_empty(), "triggers fired twice: {doubled:?}");

    let counts: HashMap<(String, String), i64> = sqlx::query_as::<_, (String, String, i64)>(
        "SELECT stream_id, event_type, count(*) FROM events GROUP BY 1, 2",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .map(|(s, t, n)| ((s, t), n))
    .collect();
    let streams: BTreeSet<&String> = counts.keys().map(|(s, _)| s).collect();
    assert_eq!(streams.len(), cycles.len(), "one stream per portfolio");
    for cycle in cycles {
        let stream = format!("portfolio-{}", cycle.portfolio);
        let count = |t: &str| {
            counts
                .get(&(stream.clone(), t.to_owned()))
                .copied()
                .unwrap_or(0)
        };
        let expected = [
            ("PortfolioCreated", 1),
            ("RefreshKickedOff", 1),
            ("DeliverablesRequested", 1),
            ("RefreshRequested", 1),
            ("TicketCreated", i64::try_from(cycle.tickets).unwrap()),
            ("DeliverablesSubmitted", 1),
            ("AdSetReadyForReview", cycle.review_rounds()),
            ("RevisionsRequested", i64::from(cycle.revision.is_some())),
            (
                "DeliverableCompleted",
                i64::try_from(cycle.tickets).unwrap(),
            ),
            ("CreativesApproved", 1),
            ("CreativesImplemented", 1),
        ];
        for (event_type, n) in expected {
            assert_eq!(count(event_type), n, "{event_type} in {stream} ({cycle:?})");
        }
    }
    // The emails the rules call for: the kickoff to the AM (R2), the handoff to the SAS
    // (R6), the AM's missed decision to the AM and the Team Lead (B1: the refresh date is
    // today and the deadline 0 days after it), each review round to the AM and the SAS
    // (R11, R16), the approval to the SAS (R17), the creatives live to the AM (R19).
    let emails: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT stream_id,
                CASE jsonb_typeof(payload->'email'->'kind')
                    WHEN 'string' THEN payload->'email'->>'kind'
                    ELSE 'stall_alert:' || (payload->'email'->'kind'->>'stall_alert')
                END || '/' || (payload->'email'->>'role'),
                count(*)
         FROM events WHERE event_type = 'EmailRequested' GROUP BY 1, 2",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut emails_of: HashMap<String, BTreeMap<String, i64>> = HashMap::new();
    for (stream, kind, n) in emails {
        emails_of.entry(stream).or_default().insert(kind, n);
    }
    for cycle in cycles {
        let rounds = cycle.review_rounds();
        // Each portfolio opens on its refresh date and the AM decides that day: no stall
        // alert fires on the day a cycle opens (B1).
        let expected: BTreeMap<String, i64> = [
            ("kickoff/am", 1),
            ("deliverables_due/sas", 1),
            ("ready_for_client_review/am", rounds),
            ("ready_for_client_review/sas", rounds),
            ("creatives_approved/sas", 1),
            ("creatives_live/am", 1),
        ]
        .into_iter()
        .map(|(k, n)| (k.to_owned(), n))
        .collect();
        let stream = format!("portfolio-{}", cycle.portfolio);
        assert_eq!(
            emails_of.get(&stream),
            Some(&expected),
            "emails of {stream} ({cycle:?})"
        );
    }

    let via: Vec<(String, String)> = sqlx::query_as(
        "SELECT stream_id, payload->>'via' FROM events WHERE event_type = 'CreativesImplemented'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let via: HashMap<String, String> = via.into_iter().collect();
    for cycle in cycles {
        let expected = if cycle.by_task {
            "task_completed"
        } else {
            "status_moved"
        };
        assert_eq!(
            via[&format!("portfolio-{}", cycle.portfolio)],
            expected,
            "{cycle:?}"
        );
    }
}

/// Every `EmailRequested`, and every account message (the daily digest, once a run passes
/// its time of day), reached its recipient's address once, by Message-ID; a second copy
/// only of an email whose claim the killed worker held. Returns the emails' count.
pub async fn check_every_email_delivered_once(
    pool: &PgPool,
    sink: &SmtpSink,
    people: &People,
    orphans: &BTreeSet<Uuid>,
) -> usize {
    let mut requested: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "SELECT (payload->'email'->>'id')::uuid, (payload->'email'->>'recipient')::uuid
         FROM events WHERE event_type = 'EmailRequested'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let account_messages: Vec<(Uuid, Uuid)> =
        sqlx::query_as("SELECT id, recipient FROM mail_outbox WHERE source_event_id IS NULL")
            .fetch_all(pool)
            .await
            .unwrap();
    requested.extend(account_messages);
    let distinct: BTreeSet<Uuid> = requested.iter().map(|(id, _)| *id).collect();
    assert_eq!(
        distinct.len(),
        requested.len(),
        "an email was requested twice"
    );
    let address: HashMap<Uuid, &str> = people
        .all()
        .iter()
        .map(|u| (u.id, u.email.as_str()))
        .collect();

    let mut received: HashMap<String, Vec<Vec<String>>> = HashMap::new();
    for message in sink.received() {
        received
            .entry(message.message_id())
            .or_default()
            .push(message.to);
    }
    let mut duplicates = Vec::new();
    for (id, recipient) in &requested {
        let message_id = format!("<{id}@freshet>");
        let copies = received
            .remove(&message_id)
            .unwrap_or_else(|| panic!("email {id} never reached the SMTP server"));
        for to in &copies {
            assert!(
                to.iter().any(|t| t.contains(address[recipient])),
                "email {id} for {recipient} went to {to:?}"
            );
        }
        if copies.len() > 1 {
            duplicates.push((*id, copies.len()));
        }
    }
    assert!(
        received.is_empty(),
        "the SMTP server got messages nobody requested: {:?}",
        received.keys().collect::<Vec<_>>()
    );
    for (id, copies) in &duplicates {
        assert!(
            *copies == 2 && orphans.contains(id),
            "email {id} arrived {copies} times; only a claim of the killed worker may add one"
        );
    }
    eprintln!(
        "emails: {} requested, {} delivered twice after the kill (allowed: at least once across a crash)",
        requested.len(),
        duplicates.len()
    );
    requested.len()
}

/// Every read model's rows (active generation), sorted, without the columns that say when
/// a row was written rather than what it holds: the generation, and the inbox's change
/// position (the last event of whichever batch wrote the row, so it depends on how the
/// log was cut into batches).
pub async fn snapshot(pool: &PgPool) -> BTreeMap<&'static str, Vec<String>> {
    let mut tables = BTreeMap::new();
    for (projection, table) in READ_MODELS {
        let rows: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT (to_jsonb(t) - 'generation' - 'changed_commit' - 'changed_position')::text
             FROM {table} t
             WHERE t.generation = (SELECT active FROM projection_generations WHERE name = $1)
             ORDER BY 1"
        ))
        .bind(projection)
        .fetch_all(pool)
        .await
        .unwrap();
        tables.insert(table, rows);
    }
    tables
}

/// `freshet rebuild --all` as its own process, then the read models compared row by row
/// with the ones the workers built live. Returns the number of rows compared.
pub async fn check_read_models_equal_a_rebuild(
    pool: &PgPool,
    fleet: &mut Fleet,
    portfolios: usize,
) -> usize {
    let live = snapshot(pool).await;
    assert_eq!(live["portfolios"].len(), portfolios);
    let generations = |pool: PgPool| async move {
        sqlx::query_as::<_, (String, i64)>("SELECT name, active FROM projection_generations")
            .fetch_all(&pool)
            .await
            .unwrap()
            .into_iter()
            .collect::<BTreeMap<_, _>>()
    };
    let before = generations(pool.clone()).await;
    let output = tokio::task::block_in_place(|| {
        fleet.run("rebuild", &["rebuild", "--all"], Duration::from_secs(240))
    });
    let after = generations(pool.clone()).await;
    for (name, generation) in &before {
        assert!(
            after[name] > *generation,
            "{name} was not rebuilt ({before:?} → {after:?}):\n{output}"
        );
    }
    let rebuilt = snapshot(pool).await;
    for (table, rows) in &live {
        let fresh = &rebuilt[table];
        if rows != fresh {
            let only_live: Vec<_> = rows.iter().filter(|r| !fresh.contains(r)).take(3).collect();
            let only_fresh: Vec<_> = fresh.iter().filter(|r| !rows.contains(r)).take(3).collect();
            panic!(
                "{table}: {} live rows, {} rebuilt; only live: {only_live:#?}; only rebuilt: {only_fresh:#?}",
                rows.len(),
                fresh.len()
            );
        }
    }
    live.values().map(Vec::len).sum()
}
