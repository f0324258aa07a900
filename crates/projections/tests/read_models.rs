//! Read models on both backends: live equals rebuilt, crash-safe restarts, index-served
//! inbox queries, rebuilds under query load, and what inbox rows show per rule.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use freshet_domain::*;
use freshet_follower::Processor;
use freshet_projections::rebuild::{Phase, RebuildProgress};
use freshet_projections::rebuild_together;
use freshet_projections::{PROJECTION_NAMES, board, inbox, portfolios, rebuild};
use freshet_store::Database;
use freshet_store::testing::TestDatabase;
use rand::SeedableRng;
use rand::rngs::StdRng;
use support::*;
use tokio::sync::watch;

freshet_store::on_both_backends!(
    read_models_built_live_equal_the_same_models_rebuilt,
    a_runner_killed_mid_batch_and_restarted_applies_every_event_exactly_once,
    queries_keep_answering_while_a_rebuild_switches_generations,
    a_rebuild_while_commands_keep_arriving_switches_without_losing_an_event,
    rebuilding_one_portfolio_restores_its_rows,
    r6_the_submission_task_shows_the_latest_am_note_or_the_missing_decision,
    r12_the_share_task_shows_the_ad_lab_link_or_to_ask_the_designer,
    r20_the_implementation_task_lists_the_tickets_not_yet_completed,
    b2_a_portfolio_as_it_stood_at_a_past_instant,
    a_page_rewrites_only_the_board_tickets_it_changed,
    r7_a_corrected_number_of_deliverables_shows_on_every_board_ticket,
);

fn progress() -> watch::Sender<RebuildProgress> {
    watch::channel(RebuildProgress::new("")).0
}

/// Rebuilds every projection, one after another or all together (one read of the log), in
/// pages of `page` events.
async fn rebuild_all(world: &World, together: bool, page: usize) {
    let runner = world.runner(page);
    let projections = world.projections();
    let senders: Vec<_> = projections.iter().map(|_| progress()).collect();
    let mut reports = Vec::new();
    if together {
        let pairs: Vec<_> = projections
            .iter()
            .map(|p| p.as_ref())
            .zip(&senders)
            .collect();
        reports = rebuild_together(&runner, &pairs).await.unwrap();
        assert_eq!(reports.len(), projections.len());
    } else {
        for (projection, progress) in projections.iter().zip(&senders) {
            let report = rebuild(&runner, projection.as_ref(), progress).await;
            reports.push(report.unwrap());
        }
    }
    for progress in &senders {
        assert_eq!(progress.borrow().phase, Phase::Done);
    }
    // On PostgreSQL the rebuild gave the planner statistics on each new table once it held
    // rows (without them it hash-joined every page's completions with the whole inbox
    // table): statistics that say its rows share one generation, also where the read
    // model's first rows came pages into the rebuild.
    if let Database::Postgres(pool) = world.database() {
        let mut checked = 0;
        for report in &reports {
            let projection = projections
                .iter()
                .find(|p| p.name() == report.projection)
                .unwrap();
            for table in projection.tables() {
                let own = format!("{table}_g{}", report.generation);
                let (rows, distinct): (i64, Option<f32>) = sqlx::query_as(&format!(
                    "SELECT (SELECT COUNT(*) FROM {own}), \
                            (SELECT n_distinct FROM pg_stats \
                             WHERE tablename = $1 AND attname = 'generation')"
                ))
                .bind(&own)
                .fetch_one(pool)
                .await
                .unwrap();
                // Fewer rows give no statistics worth having (`partition`).
                if rows >= 20 {
                    assert_eq!(distinct, Some(1.0), "{own} ({rows} rows): statistics");
                    checked += 1;
                }
            }
        }
        assert!(checked > 0, "no rebuilt table had rows enough to check");
    }
}

async fn read_models_built_live_equal_the_same_models_rebuilt(db: TestDatabase) {
    // Pages of 500 events hold the whole history; pages of 1 give each read model its first
    // rows pages into the rebuild.
    for (seed, together, page) in [(support::seed(1), false, 500), (support::seed(2), true, 1)] {
        let mut world = World::new(TestDatabase::new(db.backend()).await.unwrap()).await;
        let runner = world.runner(37);
        let tasks: Vec<_> = world
            .live()
            .into_iter()
            .map(|p| runner.spawn(p as Arc<dyn Processor>))
            .collect();
        world.random_history(seed, 6, 3).await;
        runner
            .wait_for(&PROJECTION_NAMES, world.last, Duration::from_secs(30))
            .await
            .unwrap();
        for task in tasks {
            task.abort();
        }
        let live = snapshot(world.database(), &world.portfolios).await;
        assert!(!live.inbox.is_empty() && !live.board.is_empty() && !live.metrics.is_empty());
        assert_eq!(live.portfolios.len(), 6);
        rebuild_all(&world, together, page).await;
        let rebuilt = snapshot(world.database(), &world.portfolios).await;
        assert_eq!(live, rebuilt, "seed {seed}");
    }
    drop(db);
}

async fn a_runner_killed_mid_batch_and_restarted_applies_every_event_exactly_once(
    db: TestDatabase,
) {
    let mut world = World::new(db).await;
    world.random_history(support::seed(7), 5, 2).await;
    let runner = world.runner(11);
    let live = world.live();
    // Kill the runners at different moments, each time restarting from the checkpoints.
    for delay_ms in [1, 5, 20, 3] {
        let tasks: Vec<_> = live
            .iter()
            .map(|p| runner.spawn(Arc::clone(p) as Arc<dyn Processor>))
            .collect();
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        for task in tasks {
            task.abort();
            let _ = task.await;
        }
        // More history while the runners are down.
        let p = world.portfolios[0];
        world.tick(p).await;
    }
    let tasks: Vec<_> = world
        .live()
        .into_iter()
        .map(|p| runner.spawn(p as Arc<dyn Processor>))
        .collect();
    if let Err(timeout) = runner
        .wait_for(&PROJECTION_NAMES, world.last, Duration::from_secs(30))
        .await
    {
        let error = runner.catch_up(world.live()[0].as_ref()).await;
        let locks: Option<Vec<(String, i32)>> = match world.database() {
            freshet_store::Database::Postgres(pool) => Some(
                sqlx::query_as("SELECT l.mode, l.pid FROM pg_locks l WHERE locktype = 'advisory'")
                    .fetch_all(pool)
                    .await
                    .unwrap(),
            ),
            freshet_store::Database::Sqlite(_) => None,
        };
        panic!("{timeout}: {error:?} {locks:?}");
    }
    for task in tasks {
        task.abort();
    }
    let restarted = snapshot(world.database(), &world.portfolios).await;
    rebuild_all(&world, true, 500).await;
    assert_eq!(
        restarted,
        snapshot(world.database(), &world.portfolios).await
    );
    let lags =
        freshet_follower::checkpoint::lag(world.database(), &PROJECTION_NAMES, chrono::Utc::now())
            .await
            .unwrap();
    assert!(lags.iter().all(|lag| lag.events_behind == 0), "{lags:?}");
}

async fn queries_keep_answering_while_a_rebuild_switches_generations(db: TestDatabase) {
    let mut world = World::new(db).await;
    world.random_history(support::seed(3), 8, 2).await;
    caught_up(&world).await;
    let database = world.database().clone();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let stop = Arc::clone(&stop);
        tokio::spawn(async move {
            let mut reads = 0u32;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) || reads < 5 {
                let filter = inbox::InboxFilter {
                    assignee: Some(user(AM)),
                    limit: 50,
                    ..Default::default()
                };
                assert!(!inbox::list(&database, &filter).await.unwrap().is_empty());
                assert_eq!(
                    portfolios::list(
                        &database,
                        &portfolios::PortfolioFilter {
                            limit: 100,
                            ..Default::default()
                        }
                    )
                    .await
                    .unwrap()
                    .len(),
                    8
                );
                reads += 1;
            }
            reads
        })
    };
    rebuild_all(&world, true, 500).await;
    rebuild_all(&world, true, 500).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(reader.await.unwrap() >= 5);
    let generations = freshet_projections::generation::current(world.database(), inbox::NAME)
        .await
        .unwrap();
    assert_eq!((generations.active, generations.building), (3, None));
}

async fn a_rebuild_while_commands_keep_arriving_switches_without_losing_an_event(db: TestDatabase) {
    let mut world = World::new(db).await;
    world.random_history(support::seed(11), 4, 1).await;
    let runner = world.runner(23);
    let live: Vec<_> = world
        .live()
        .into_iter()
        .map(|p| runner.spawn(p as Arc<dyn Processor>))
        .collect();
    let rebuilding = {
        let runner = runner.clone();
        let projections = world.projections();
        tokio::spawn(async move {
            let senders: Vec<_> = projections.iter().map(|_| progress()).collect();
            let pairs: Vec<_> = projections
                .iter()
                .map(|p| p.as_ref())
                .zip(&senders)
                .collect();
            rebuild_together(&runner, &pairs).await.unwrap();
        })
    };
    // Commands keep arriving while it fills, switches over and drops the old copy.
    let mut rng = StdRng::seed_from_u64(support::seed(12));
    for _ in 0..2 {
        for p in world.portfolios.clone() {
            world.random_cycle(p, &mut rng).await;
        }
        world.clock.advance_days(14);
    }
    rebuilding.await.unwrap();
    let p = world.portfolios[0];
    world.random_cycle(p, &mut rng).await;
    runner
        .wait_for(&PROJECTION_NAMES, world.last, Duration::from_secs(30))
        .await
        .unwrap();
    for task in live {
        task.abort();
    }
    let after_switch = snapshot(world.database(), &world.portfolios).await;
    assert_eq!(after_switch.portfolios.len(), 4);
    let generations = freshet_projections::generation::current(world.database(), inbox::NAME)
        .await
        .unwrap();
    assert_eq!((generations.active, generations.building), (2, None));
    // A rebuild with nothing arriving folds every event: it must find the same rows.
    rebuild_all(&world, true, 500).await;
    assert_eq!(
        after_switch,
        snapshot(world.database(), &world.portfolios).await
    );
}

async fn rebuilding_one_portfolio_restores_its_rows(db: TestDatabase) {
    let mut world = World::new(db).await;
    world.random_history(support::seed(5), 3, 2).await;
    let runner = world.runner(100);
    caught_up(&world).await;
    let before = snapshot(world.database(), &world.portfolios).await;
    let mut hints = runner.store().subscribe();
    // Hints of the history's own commits may still be on their way (PostgreSQL's NOTIFY).
    while let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(200), hints.recv()).await {}
    for projection in world.projections() {
        freshet_projections::rebuild_portfolio(&runner, projection.as_ref(), world.portfolios[1])
            .await
            .unwrap();
        // Live readers (the inbox's event streams) hear of the rewritten rows at once, not
        // at the next commit.
        let hint = tokio::time::timeout(Duration::from_secs(10), hints.recv()).await;
        assert!(matches!(hint, Ok(Ok(_))), "{}: {hint:?}", projection.name());
    }
    assert_eq!(before, snapshot(world.database(), &world.portfolios).await);
}

async fn task_row(world: &World, kind: &str) -> inbox::InboxTask {
    let rows = inbox::list(
        world.database(),
        &inbox::InboxFilter {
            portfolio: Some(world.portfolios[0]),
            open: Some(true),
            limit: 100,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    rows.into_iter()
        .find(|r| r.kind == kind)
        .unwrap_or_else(|| panic!("no open {kind} task"))
}

// R6
async fn r6_the_submission_task_shows_the_latest_am_note_or_the_missing_decision(db: TestDatabase) {
    let mut world = World::new(db).await;
    let p = world.create("Acme", date(2027, 3, 10)).await;
    world.clock.set_date(date(2027, 3, 10));
    world.tick(p).await;
    caught_up(&world).await;
    let row = task_row(&world, "create_deliverables").await;
    assert_eq!(row.title, "Create Paid Social Deliverables for Refresh");
    assert_eq!(row.role, "sas");
    let context: serde_json::Value = serde_json::from_str(&row.context).unwrap();
    assert_eq!(context["am_decision_missing"], true);
    world
        .send(
            p,
            Actor::user(user(AM)),
            Command::RequestRefresh {
                note: Some(NoteText::parse("Spring assets in the drive").unwrap()),
            },
        )
        .await;
    caught_up(&world).await;
    let row = task_row(&world, "create_deliverables").await;
    let context: serde_json::Value = serde_json::from_str(&row.context).unwrap();
    assert_eq!(context["am_note"], "Spring assets in the drive");
    assert_eq!(context["am_decision_missing"], false);
}

/// The AM requests `p`'s refresh, with the note "Go".
async fn refresh_requested(world: &mut World, p: PortfolioId) {
    let note = Some(NoteText::parse("Go").unwrap());
    let requested = world
        .send(p, Actor::user(user(AM)), Command::RequestRefresh { note })
        .await;
    assert!(requested);
}

// R12
async fn r12_the_share_task_shows_the_ad_lab_link_or_to_ask_the_designer(db: TestDatabase) {
    let mut world = World::new(db).await;
    let p = world.create("Acme", date(2027, 3, 10)).await;
    refresh_requested(&mut world, p).await;
    world.ticketed_and_approved(p, 2).await;
    caught_up(&world).await;
    let row = task_row(&world, "share_drafted_deliverables").await;
    assert_eq!(row.role, "am");
    let context: serde_json::Value = serde_json::from_str(&row.context).unwrap();
    assert_eq!(context["ad_lab_link"]["kind"], "ask_the_designer");
    world
        .send(
            p,
            Actor::user(user(DESIGNER)),
            Command::UpdateAdLabLink {
                link: AdLabLink::parse("https://adlab.example.com/spring").unwrap(),
            },
        )
        .await;
    caught_up(&world).await;
    let row = task_row(&world, "share_drafted_deliverables").await;
    let context: serde_json::Value = serde_json::from_str(&row.context).unwrap();
    assert_eq!(
        context["ad_lab_link"]["value"],
        "https://adlab.example.com/spring"
    );
    let portfolio = portfolios::get(world.database(), p).await.unwrap().unwrap();
    assert_eq!(
        portfolio.ad_set_progress().as_deref(),
        Some("2 of 2 ready for review")
    );
    assert_eq!(
        portfolio.status_label.as_deref(),
        Some("Creatives Pending Approval")
    );
}

// R20
async fn r20_the_implementation_task_lists_the_tickets_not_yet_completed(db: TestDatabase) {
    let mut world = World::new(db).await;
    let p = world.create("Acme", date(2027, 3, 10)).await;
    refresh_requested(&mut world, p).await;
    let tickets = world.ticketed_and_approved(p, 3).await;
    world
        .send(
            p,
            Actor::user(user(AM)),
            Command::CompleteDeliverable {
                ticket_id: tickets[0],
            },
        )
        .await;
    assert!(world.send(p, Actor::user(user(AM)), Command::SignOff).await);
    caught_up(&world).await;
    let row = task_row(&world, "implement_new_creatives").await;
    let context: serde_json::Value = serde_json::from_str(&row.context).unwrap();
    let open: Vec<_> = context["open_tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(open, vec![tickets[1].to_string(), tickets[2].to_string()]);
}

// B2
async fn b2_a_portfolio_as_it_stood_at_a_past_instant(db: TestDatabase) {
    let mut world = World::new(db).await;
    let p = world.create("Acme", date(2027, 3, 10)).await;
    let before_request = world.service.clock().now();
    world.clock.advance_days(1);
    refresh_requested(&mut world, p).await;
    let store = world.service.store().as_ref();
    let then = freshet_projections::audit::portfolio_as_of(store, p, before_request)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(then.status(), None);
    let now = freshet_projections::audit::portfolio_as_of(store, p, world.service.clock().now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now.status(), Some(RefreshStatus::RefreshRequestSubmitted));
    let history = freshet_projections::audit::history(store, p, 0, u32::MAX)
        .await
        .unwrap();
    let request = history
        .iter()
        .find(|e| e.event_type == "RefreshRequested")
        .unwrap();
    assert_eq!(
        request.actor.as_deref(),
        Some(format!("user:{}", user(AM)).as_str())
    );
    assert!(history.windows(2).all(|w| w[0].version < w[1].version));
}

// A page writes the board rows of the tickets it changed, not every ticket of every cycle of
// the portfolios it touched (which made a rebuild rewrite them page after page): a note on
// one ticket leaves its siblings' rows as they were, here changed behind the board's back
// so that a rewrite shows.
async fn a_page_rewrites_only_the_board_tickets_it_changed(db: TestDatabase) {
    let mut world = World::new(db).await;
    let p = world.create("Acme", date(2027, 3, 10)).await;
    refresh_requested(&mut world, p).await;
    let tickets = world.ticketed_and_approved(p, 3).await;
    let runner = world.runner(1000);
    let live = world.live();
    let board = live.iter().find(|l| l.0.name() == board::NAME).unwrap();
    let caught_up = async |world: &World| {
        let board = board.as_ref();
        while freshet_follower::checkpoint::load(world.database(), board::NAME)
            .await
            .unwrap()
            < world.last
        {
            runner.catch_up(board).await.unwrap();
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    caught_up(&world).await;
    let behind_its_back = "Changed behind the board's back";
    let sql = "UPDATE ad_set_tickets SET title = $1 WHERE ticket_id = $2";
    let ticket = freshet_store::codec::DbUuid(tickets[1].as_uuid());
    match world.database() {
        Database::Postgres(pool) => {
            let query = sqlx::query(sql).bind(behind_its_back).bind(ticket);
            assert_eq!(query.execute(pool).await.unwrap().rows_affected(), 1);
        }
        Database::Sqlite(pool) => {
            let query = sqlx::query(sql).bind(behind_its_back).bind(ticket);
            assert_eq!(query.execute(pool).await.unwrap().rows_affected(), 1);
        }
    }
    let noted = world
        .send(
            p,
            Actor::user(user(COPYWRITER)),
            Command::LogTicketNote {
                ticket_id: tickets[0],
                text: NoteText::parse("Tighter headline").unwrap(),
            },
        )
        .await;
    assert!(noted);
    caught_up(&world).await;
    let rows = board::tickets(world.database(), p, None).await.unwrap();
    let titles: Vec<_> = rows.iter().map(|r| r.title.as_str()).collect();
    assert_eq!(titles, ["Deliverable 1", behind_its_back, "Deliverable 3"]);
    let notes: Vec<_> = rows.iter().map(|r| r.notes_count).collect();
    assert_eq!(notes, [1, 0, 0]);
}

// R7: one Number of Deliverables for the whole Ad Set. A correction after the tickets were on
// the board once showed on none of them: the board's upsert kept the old count.
async fn r7_a_corrected_number_of_deliverables_shows_on_every_board_ticket(db: TestDatabase) {
    let mut world = World::new(db).await;
    let p = world.create("Acme", date(2027, 3, 10)).await;
    refresh_requested(&mut world, p).await;
    world.ticketed_and_approved(p, 2).await;
    caught_up(&world).await;
    let deliverables = DeliverableCount::new(3).unwrap();
    let corrected = world
        .send(
            p,
            Actor::user(user(SAS)),
            Command::CorrectDeliverableCount { deliverables },
        )
        .await;
    assert!(corrected);
    caught_up(&world).await;
    let rows = board::tickets(world.database(), p, None).await.unwrap();
    let counts: Vec<_> = rows.iter().map(|r| r.deliverables).collect();
    assert_eq!(counts, [3, 3]);
}
