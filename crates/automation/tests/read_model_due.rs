#![allow(clippy::unwrap_used)]
//! The production due source: the scheduler ticks exactly the portfolios whose
//! `next_trigger_on` has come, as the portfolio read model keeps it.

use std::sync::Arc;
use std::time::Duration;

use chrono::{Days, NaiveDate};
use freshet_automation::{DuePortfolios, ReadModelDue, Scheduler};
use freshet_domain::*;
use freshet_follower::{Runner, RunnerConfig};
use freshet_projections::{Live, PROJECTION_NAMES, ReadModelConfig, all_projections};
use freshet_service::{CommandRequest, CommandService, ManualClock, ProcessConfig};
use freshet_store::testing::TestDatabase;
use freshet_testkit::{team, user};
use uuid::Uuid;

freshet_store::on_both_backends!(r2_the_scheduler_ticks_only_the_portfolios_that_are_due);

async fn catch_up(runner: &Runner, store: &Arc<dyn freshet_store::EventStore>) {
    for projection in all_projections(store, ReadModelConfig::default()) {
        runner.catch_up(&Live(projection)).await.unwrap();
    }
    let head = store.head().await.unwrap();
    runner
        .wait_for(&PROJECTION_NAMES, head, Duration::from_secs(10))
        .await
        .unwrap();
}

// R2
async fn r2_the_scheduler_ticks_only_the_portfolios_that_are_due(db: TestDatabase) {
    let today = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
    let clock = ManualClock::at_date(today);
    let store = db.store().await;
    let service = CommandService::new(
        Arc::clone(&store),
        Arc::new(clock.clone()),
        ProcessConfig::default(),
    );
    let team = team();
    let mut ids = Vec::new();
    for days_away in [20, 40, 25] {
        let id = PortfolioId::from_uuid(Uuid::now_v7());
        let command = Command::CreatePortfolio {
            portfolio_id: id,
            client: ClientName::parse("Client").unwrap(),
            team,
            cadence: Cadence::new(2, CadenceUnit::Months).unwrap(),
            refresh_date: today + Days::new(days_away),
        };
        service
            .execute(CommandRequest::new(id, command, Actor::admin(user(9))))
            .await
            .unwrap();
        ids.push(id);
    }
    let runner = Runner::new(
        db.database.clone(),
        Arc::clone(&store),
        RunnerConfig::default(),
    );
    catch_up(&runner, &store).await;
    let due = ReadModelDue::new(db.database.clone());
    assert!(
        due.due_on(today).await.unwrap().is_empty(),
        "every kickoff is more than 15 days away"
    );
    assert_eq!(
        due.due_on(today + Days::new(5)).await.unwrap(),
        vec![ids[0]]
    );
    assert_eq!(
        due.due_on(today + Days::new(10)).await.unwrap(),
        vec![ids[0], ids[2]]
    );

    clock.set_date(today + Days::new(10));
    let scheduler = Scheduler::new(service.clone(), due.clone());
    let report = scheduler.tick().await.unwrap();
    assert_eq!(report.portfolios_ticked, 2);
    catch_up(&runner, &store).await;
    for (id, kicked_off) in ids.iter().zip([true, false, true]) {
        assert_eq!(
            service
                .portfolio(*id)
                .await
                .unwrap()
                .unwrap()
                .cycle
                .kicked_off,
            kicked_off
        );
    }
    assert!(
        due.due_on(today + Days::new(10)).await.unwrap().is_empty(),
        "next: the refresh dates"
    );
    let again = scheduler.tick().await.unwrap();
    assert_eq!((again.portfolios_ticked, again.events_recorded), (0, 0));
}
