//! "Run on more than one machine": two API processes and two worker processes of the real
//! `freshet` binary on one PostgreSQL database, 200 portfolios driven through full cycles
//! by concurrent clients over both APIs, and the active worker killed (SIGKILL) half-way.
//!
//! At the end: every read model equals a fresh rebuild, every email the rules asked for
//! reached the SMTP sink once by Message-ID (a second copy only for messages the killed
//! worker had claimed), no trigger fired twice, every acknowledged event is in the log, and
//! the surviving worker took over in less than ten seconds.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use freshet_store::Database;
use freshet_store::testing::TestDatabase;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::checks::{
    check_acknowledged_events_are_logged, check_every_email_delivered_once,
    check_read_models_equal_a_rebuild, check_triggers_fired_once,
};
use crate::driver::{Cycle, Driver, People, User, events_of};
use crate::fleet::{Fleet, free_address, wait_healthy};
use crate::log::{
    MAIL_LEASE, PROCESSORS, Position, caught_up, checkpoints, claims_before, drain_outbox, head,
    processor_holders,
};
use freshet_testkit::smtp::SmtpSink;

const PORTFOLIOS: usize = 200;
const CLIENTS: usize = 8;
/// The active worker is killed once this many portfolios went through their cycle.
const KILL_AFTER: usize = PORTFOLIOS / 2;
const FAILOVER_LIMIT: Duration = Duration::from_secs(10);
const WORKERS: [&str; 2] = ["worker-a", "worker-b"];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_apis_and_two_workers_share_one_database_and_survive_a_killed_worker() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let started = Instant::now();
    let Database::Postgres(pool) = &db.database else {
        unreachable!("TestDatabase::postgres is on PostgreSQL")
    };
    let pool = pool.clone();
    let sink = SmtpSink::with_threads(16);
    let url = db.url().to_owned();
    // Declared after `db`, so dropped (every process killed) before the database is.
    let mut fleet = Fleet::new(
        crate::fleet::freshet_binary(),
        &[
            ("FRESHET_DATABASE_URL", url.clone()),
            ("FRESHET_SMTP_HOST", "127.0.0.1".to_owned()),
            ("FRESHET_SMTP_PORT", sink.port.to_string()),
            ("FRESHET_SMTP_SECURITY", "plain".to_owned()),
            (
                "FRESHET_MAIL_FROM",
                "Freshet <freshet@agency.test>".to_owned(),
            ),
            ("FRESHET_TICK_INTERVAL", "2s".to_owned()),
            // The daily digest's time is always past: every worker writes it when it starts
            // (the restarted one while the run has tasks), never at a moment of the clock's
            // choosing after the outbox was drained.
            ("FRESHET_DIGEST_TIME", "00:00".to_owned()),
            // A killed worker's claims lapse after this and are sent by the survivor.
            ("FRESHET_MAIL_LEASE", format!("{}s", MAIL_LEASE.as_secs())),
            ("RUST_LOG", "info,sqlx=warn".to_owned()),
        ],
    );

    // Set up: migrations and people, through the binary.
    let migrated = fleet.run("migrate", &["migrate"], Duration::from_secs(120));
    assert!(migrated.contains("migrations applied"), "{migrated}");
    let people = Arc::new(People {
        admin: add_user(&mut fleet, "Ada Admin", "ada.admin@agency.test", true),
        am: add_user(&mut fleet, "Alex AM", "alex.am@agency.test", false),
        sas: add_user(&mut fleet, "Sam SAS", "sam.sas@agency.test", false),
        copywriter: add_user(&mut fleet, "Casey Copy", "casey.copy@agency.test", false),
        designer: add_user(&mut fleet, "Dana Design", "dana.design@agency.test", false),
        team_lead: add_user(&mut fleet, "Taylor Lead", "taylor.lead@agency.test", false),
    });

    // Two APIs, two workers; each process names itself to PostgreSQL (application_name).
    let mut apis = Vec::new();
    for name in ["api-a", "api-b"] {
        let listen = free_address();
        let metrics = free_address();
        fleet.spawn(
            name,
            &[
                "serve",
                "--role",
                "api",
                "--listen",
                &listen,
                "--metrics-listen",
                &metrics,
            ],
            &[("FRESHET_DATABASE_URL", named_url(&url, name))],
        );
        apis.push((name, format!("http://{listen}")));
    }
    for name in WORKERS {
        start_worker(&mut fleet, &url, name);
    }
    for (name, base) in &apis {
        wait_healthy(&mut fleet, name, base).await;
    }
    wait_until(
        "every processor is held by a worker",
        Duration::from_secs(60),
        || async {
            processor_holders(&pool)
                .await
                .values()
                .all(|holder| holder.as_deref().is_some_and(|h| WORKERS.contains(&h)))
        },
    )
    .await;
    eprintln!("[{:>6.1?}] 2 APIs and 2 workers up", started.elapsed());

    // Drive the portfolios from concurrent clients, alternating between the APIs.
    let today = Utc::now().date_naive();
    let driver = Arc::new(Driver::new(apis.iter().map(|(_, b)| b.clone()).collect()));
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (driver, people, next, done) = (
            Arc::clone(&driver),
            Arc::clone(&people),
            Arc::clone(&next),
            Arc::clone(&done),
        );
        clients.push(tokio::spawn(async move {
            let mut cycles = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= PORTFOLIOS {
                    break cycles;
                }
                cycles.push(drive_cycle(&driver, &people, i, today).await);
                done.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }

    // Half-way: kill the worker holding the processors, measure the takeover, restart it.
    let deadline = Instant::now() + Duration::from_secs(300);
    while done.load(Ordering::SeqCst) < KILL_AFTER
        && !clients.iter().any(tokio::task::JoinHandle::is_finished)
    {
        assert!(
            Instant::now() < deadline,
            "only {} portfolios done after 300s",
            done.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let failover = kill_active_worker(&mut fleet, &pool, &done, started).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    start_worker(&mut fleet, &url, failover.victim);
    eprintln!(
        "[{:>6.1?}] {} restarted",
        started.elapsed(),
        failover.victim
    );

    let mut cycles = Vec::new();
    for client in clients {
        match tokio::time::timeout(Duration::from_secs(420), client).await {
            Ok(Ok(mine)) => cycles.extend(mine),
            Ok(Err(error)) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Ok(Err(error)) => panic!("a client task failed: {error}"),
            Err(_) => panic!("a client did not finish within 420s"),
        }
    }
    assert_eq!(cycles.len(), PORTFOLIOS);
    let stats = &driver.stats;
    eprintln!(
        "[{:>6.1?}] {} portfolios through their cycle: {} commands, {} transport retries, {} contention retries, {} replays",
        started.elapsed(),
        cycles.len(),
        stats.commands.load(Ordering::Relaxed),
        stats.transport_retries.load(Ordering::Relaxed),
        stats.contention_retries.load(Ordering::Relaxed),
        stats.replays.load(Ordering::Relaxed),
    );

    // The read side and the outbox drain.
    wait_until(
        "every processor reached the head of the log",
        Duration::from_secs(180),
        || async { caught_up(&pool).await },
    )
    .await;
    let orphans = failover.orphaned_claims.clone();
    drain_outbox(&pool).await;
    eprintln!(
        "[{:>6.1?}] read side caught up, outbox drained ({} claim(s) orphaned by the kill)",
        started.elapsed(),
        orphans.len()
    );

    // Checks.
    let acked = check_acknowledged_events_are_logged(&pool, &driver).await;
    check_triggers_fired_once(&pool, &cycles).await;
    let emails = check_every_email_delivered_once(&pool, &sink, &people, &orphans).await;
    let readiness = driver.get(&people.admin, "/admin/projections").await;
    for status in readiness.as_array().unwrap() {
        assert_eq!(status["events_behind"], 0, "{readiness}");
    }
    let rebuilt = check_read_models_equal_a_rebuild(&pool, &mut fleet, PORTFOLIOS).await;
    eprintln!(
        "[{:>6.1?}] checked: {acked} acknowledged events logged, {emails} emails delivered, {rebuilt} read-model rows equal to a rebuild",
        started.elapsed()
    );
    assert!(
        failover.took < FAILOVER_LIMIT,
        "failover took {:?} (limit {FAILOVER_LIMIT:?})",
        failover.took
    );
    // Nothing crashed; the restarted worker is standing by.
    for name in ["api-a", "api-b", WORKERS[0], WORKERS[1]] {
        let proc = fleet.get(name);
        assert!(
            proc.exited().is_none(),
            "{name} exited:\n{}",
            proc.log_text()
        );
    }
    fleet.stop_all();
}

fn named_url(url: &str, name: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}application_name={name}")
}

fn start_worker(fleet: &mut Fleet, url: &str, name: &str) {
    let listen = free_address();
    fleet.spawn(
        name,
        &["serve", "--role", "worker", "--listen", &listen],
        &[("FRESHET_DATABASE_URL", named_url(url, name))],
    );
}

/// `freshet users add`, parsing the id and the token it prints.
fn add_user(fleet: &mut Fleet, name: &str, email: &str, admin: bool) -> User {
    let mut args = vec!["users", "add", "--name", name, "--email", email];
    if admin {
        args.push("--admin");
    }
    let output = fleet.run("users-add", &args, Duration::from_secs(60));
    let id = output
        .lines()
        .find_map(|line| line.strip_prefix("user "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no user id in:\n{output}"));
    let token = output
        .lines()
        .find_map(|line| line.strip_prefix("token (shown once): "))
        .unwrap_or_else(|| panic!("no token in:\n{output}"))
        .trim()
        .to_owned();
    User {
        id,
        email: email.to_owned(),
        token,
    }
}

/// Polls `condition` every 100 ms until it holds; panics after `limit`.
async fn wait_until<F, Fut>(what: &str, limit: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !condition().await {
        assert!(Instant::now() < deadline, "timed out ({limit:?}): {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One portfolio's full cycle, every command by the person whose job it is.
async fn drive_cycle(d: &Driver, people: &People, i: usize, today: NaiveDate) -> Cycle {
    let p = Uuid::new_v4();
    let key = |step: &str| format!("{p}/{step}");
    let at = |rest: &str| format!("/portfolios/{p}{rest}");
    let team = json!({
        "account_manager": people.am.id,
        "social_ad_specialist": people.sas.id,
        "copywriter": people.copywriter.id,
        "designer": people.designer.id,
        "team_lead": people.team_lead.id,
    });
    // The refresh date is today: the kickoff (R2) and the SAS handoff (R6) fire at once.
    let created = d
        .command(
            &people.admin,
            "/portfolios",
            Some(json!({
                "portfolio_id": p,
                "client": format!("Client {i}"),
                "team": team,
                "cadence": { "every": 1, "unit": "months" },
                "refresh_date": today,
            })),
            &key("create"),
        )
        .await;
    assert_eq!(
        events_of(&created, "RefreshKickedOff").len(),
        1,
        "{created}"
    );
    let note = json!({ "note": format!("Client {i}: the new season's assets are in the drive") });
    let (requested, _) = d
        .command_on(
            Some(0),
            &people.am,
            &at("/request"),
            Some(note.clone()),
            &key("request"),
        )
        .await;
    if i.is_multiple_of(10) {
        // B5 across processes: the same request again, on the other API, is a replay.
        let (again, replayed) = d
            .command_on(
                Some(1),
                &people.am,
                &at("/request"),
                Some(note),
                &key("request"),
            )
            .await;
        assert!(replayed, "not a replay: {again}");
        assert_eq!(again, requested);
    }

    let n = 1 + i % 3;
    let mut tickets = vec![Uuid::new_v4()];
    d.command(
        &people.sas,
        &at("/tickets"),
        Some(json!({
            "ticket_id": tickets[0],
            "title": "Deliverable 1",
            "folder": format!("Refresh {i}"),
            "deliverables": n,
        })),
        &key("ticket-1"),
    )
    .await;
    for k in 2..=n {
        let t = Uuid::new_v4();
        d.command(
            &people.sas,
            &at(&format!("/tickets/{}/clone", tickets[0])),
            Some(json!({ "ticket_id": t, "title": format!("Deliverable {k}") })),
            &key(&format!("ticket-{k}")),
        )
        .await;
        tickets.push(t);
    }
    d.command(
        &people.sas,
        &at("/deliverables-submitted"),
        None,
        &key("submitted"),
    )
    .await;
    for t in &tickets {
        for (who, step) in [
            (&people.copywriter, "copy"),
            (&people.designer, "graphics"),
            (&people.team_lead, "copy/approval"),
            (&people.team_lead, "graphics/approval"),
        ] {
            d.command(
                who,
                &at(&format!("/tickets/{t}/{step}")),
                None,
                &key(&format!("{t}/{step}")),
            )
            .await;
        }
    }

    // A revision round on a quarter of the portfolios each: copy, graphics, both.
    let revision = match i % 4 {
        0 => Some("copy"),
        1 => Some("graphic"),
        2 => Some("copy_and_graphic"),
        _ => None,
    };
    if let Some(kind) = revision {
        let t = tickets[0];
        d.command(
            &people.am,
            &at(&format!("/tickets/{t}/revisions")),
            Some(json!({ "kind": kind, "feedback": "Brighter photo, shorter headline" })),
            &key("revisions"),
        )
        .await;
        if kind != "graphic" {
            d.command(
                &people.copywriter,
                &at(&format!("/tickets/{t}/copy")),
                None,
                &key("revised-copy"),
            )
            .await;
        }
        if kind != "copy" {
            d.command(
                &people.designer,
                &at(&format!("/tickets/{t}/graphics")),
                None,
                &key("revised-graphics"),
            )
            .await;
        }
    }
    for t in &tickets {
        d.command(
            &people.am,
            &at(&format!("/tickets/{t}/complete")),
            None,
            &key(&format!("{t}/complete")),
        )
        .await;
    }
    let signed = d
        .command(&people.am, &at("/sign-off"), None, &key("sign-off"))
        .await;

    // R18 by either path.
    let by_task = i.is_multiple_of(2);
    if by_task {
        let task = events_of(&signed, "TaskAssigned")
            .into_iter()
            .find(|e| e["task"]["kind"] == "implement_new_creatives")
            .and_then(|e| e["task"]["id"].as_str())
            .unwrap_or_else(|| panic!("no implementation task in {signed}"))
            .to_owned();
        d.command(
            &people.sas,
            &at(&format!("/tasks/{task}/complete")),
            None,
            &key("implement"),
        )
        .await;
    } else {
        d.command(&people.sas, &at("/implemented"), None, &key("implement"))
            .await;
    }
    Cycle {
        portfolio: p,
        tickets: n,
        revision,
        by_task,
    }
}

#[derive(Debug)]
struct Failover {
    victim: &'static str,
    took: Duration,
    /// The emails the dead worker had claimed and not yet recorded: only these may arrive
    /// twice (at-least-once delivery across a crash).
    orphaned_claims: BTreeSet<Uuid>,
}

/// Kills (SIGKILL) the worker holding most processor locks, then measures until every
/// processor it held is locked by the survivor and has moved past where it stood when the
/// survivor got it (so the progress is the survivor's, not a last commit of the victim).
async fn kill_active_worker(
    fleet: &mut Fleet,
    pool: &PgPool,
    done: &AtomicUsize,
    started: Instant,
) -> Failover {
    let holders = processor_holders(pool).await;
    let count = |worker: &str| {
        holders
            .values()
            .filter(|h| h.as_deref() == Some(worker))
            .count()
    };
    let (victim, survivor) = if count(WORKERS[0]) >= count(WORKERS[1]) {
        (WORKERS[0], WORKERS[1])
    } else {
        (WORKERS[1], WORKERS[0])
    };
    let held: Vec<String> = holders
        .iter()
        .filter(|(_, h)| h.as_deref() == Some(victim))
        .map(|(name, _)| name.clone())
        .collect();
    assert!(!held.is_empty(), "no worker holds a processor: {holders:?}");

    fleet.get(victim).kill();
    let killed = Instant::now();
    let killed_at_db: DateTime<Utc> = sqlx::query_scalar("SELECT now()")
        .fetch_one(pool)
        .await
        .unwrap();
    let orphaned_claims = claims_before(pool, killed_at_db).await;
    let head_at_kill = head(pool).await;
    eprintln!(
        "[{:>6.1?}] killed {victim} (held {held:?}) after {} portfolios",
        started.elapsed(),
        done.load(Ordering::SeqCst)
    );

    let mut taken_over_at: HashMap<String, Position> = HashMap::new();
    let mut advanced: HashMap<String, Duration> = HashMap::new();
    let mut caught_up_after = None;
    let deadline = killed + Duration::from_secs(60);
    while Instant::now() < deadline && (advanced.len() < held.len() || caught_up_after.is_none()) {
        let holders = processor_holders(pool).await;
        let saved = checkpoints(pool).await;
        for name in &held {
            if advanced.contains_key(name) || holders[name].as_deref() != Some(survivor) {
                continue;
            }
            let now_at = saved.get(name).copied().unwrap_or((0, 0));
            match taken_over_at.get(name) {
                None => {
                    taken_over_at.insert(name.clone(), now_at);
                }
                Some(before) if now_at > *before => {
                    advanced.insert(name.clone(), killed.elapsed());
                }
                Some(_) => {}
            }
        }
        if caught_up_after.is_none()
            && PROCESSORS
                .iter()
                .all(|n| saved.get(*n).is_some_and(|at| *at >= head_at_kill))
        {
            caught_up_after = Some(killed.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        advanced.len(),
        held.len(),
        "within 60s of killing {victim}, only {advanced:?} of {held:?} advanced under {survivor}"
    );
    let took = advanced.values().copied().max().unwrap_or_default();
    eprintln!(
        "[{:>6.1?}] failover: {survivor} took over and advanced {held:?} in {took:?} \
         (per processor {advanced:?}); everything logged before the kill processed after {caught_up_after:?}",
        started.elapsed()
    );
    Failover {
        victim,
        took,
        orphaned_claims,
    }
}
