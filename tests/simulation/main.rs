//! The simulation tier: 50 portfolios with mixed cadences live through a simulated year,
//! day by day, with the real scheduler, command service and store, and seeded random client
//! and team behaviour (`freshet_agency::agents`); then the whole event log is checked against the rules
//! (`checks`). See `world` for the simulated agency.
#![allow(clippy::unwrap_used)]

mod checks;
mod world;

use std::sync::Arc;

use checks::Checks;
use freshet_service::ManualClock;
use freshet_store::testing::TestDatabase;
use world::Simulation;

freshet_store::on_both_backends!(a_simulated_year_keeps_every_rule);

// R2, R4, R6, R11, R16, R17, R18, R19, B1: with late decisions, withdrawn and replaced
// tickets, corrected counts, cancels, holds and team changes on the way.
async fn a_simulated_year_keeps_every_rule(db: TestDatabase) {
    // Another seed is another history: `FRESHET_SIMULATION_SEED=7 cargo test --test simulation`.
    let seed = std::env::var("FRESHET_SIMULATION_SEED").map_or(1, |seed| {
        seed.parse()
            .expect("FRESHET_SIMULATION_SEED must be a whole number")
    });
    let simulation = Simulation::start(&db, 50, 2027, seed).await;
    simulation.run_year().await;
    Checks::load(&simulation).await.assert_all();
    // R16: the AM tried to answer revised tickets for the client early, and was refused.
    assert!(simulation.refusals() > 0, "no early completion was tried");
}

// R2, B1: another history, in which portfolios are paused until past the year's end. Nothing
// is scheduled while a portfolio is paused: no kickoff, no alert (the checks once expected
// them, and failed on this seed).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_year_with_portfolios_paused_past_its_end_keeps_every_rule() {
    let db = TestDatabase::sqlite().await;
    let simulation = Simulation::start(&db, 50, 2027, 2).await;
    simulation.run_year().await;
    let checks = Checks::load(&simulation).await;
    assert!(
        checks.paused_at_the_end() > 0,
        "this seed no longer pauses a portfolio past the year's end: pick one that does"
    );
    checks.assert_all();
}

// R2, R6, B1: two scheduler instances at once on PostgreSQL fire every trigger once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_schedulers_at_once_fire_every_trigger_once() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let simulation = Simulation::start(&db, 20, 2027, 7).await;
    let second_clock = ManualClock::at_date(simulation.start_date());
    let second = simulation
        .second_scheduler(Arc::new(second_clock.clone()))
        .await;
    simulation
        .run_year_with(Some((&second, &second_clock)))
        .await;
    Checks::load(&simulation).await.assert_all();
}
