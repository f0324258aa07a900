//! Scenario 1 (and 6 on SQLite): commands through `CommandService::execute` (load, decide,
//! append with an idempotency key), against plain one-row-per-transaction inserts and, on
//! PostgreSQL, against the peer framework (`crate::peer`); beside them the limit of group
//! commit (plain multi-row inserts).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context as _, Result};
use chrono::Days;
use freshet_domain::{
    Actor, Cadence, CadenceUnit, ClientName, Command, DeliverableCount, FolderName, NoteText,
    PortfolioId, Team, TicketId, TicketTitle, UserId,
};
use freshet_service::{CommandRequest, CommandService, ProcessConfig, SystemClock};
use freshet_store::{Database, EventStore};
use futures::StreamExt;
use uuid::Uuid;

use super::{Ctx, Target, today};
use crate::baseline;
use crate::counting::CountingStore;
use crate::drive::{Limits, Outcome, closed_loop};
use crate::peer;
use crate::report::{Check, Figure, Goal, Report, Sample};

const SCENARIO: &str = "commands";
/// Fresh portfolios per client and run, so no stream grows long over the runs.
pub const PORTFOLIOS_PER_CLIENT: usize = 100;
const ADMIN: UserId = UserId::from_uuid(Uuid::from_u128(0xad));

/// One portfolio the benchmark works on, with the people who may act on it.
#[derive(Debug, Clone, Copy)]
pub struct Bench {
    pub id: PortfolioId,
    pub team: Team,
}

fn team(n: usize) -> Team {
    let person = |role: u128| UserId::from_uuid(Uuid::from_u128(role << 64 | (n % 50) as u128));
    Team {
        account_manager: person(1),
        social_ad_specialist: person(2),
        copywriter: person(3),
        designer: person(4),
        team_lead: person(5),
    }
}

/// Creates `count` portfolios (refresh date in a month, nothing due), 8 at a time.
pub async fn create_portfolios(service: &CommandService, count: usize) -> Result<Vec<Bench>> {
    let refresh_date = today() + Days::new(30);
    let cadence = Cadence::new(1, CadenceUnit::Months)?;
    let created: Vec<Result<Bench>> = futures::stream::iter(0..count)
        .map(|n| async move {
            let id = PortfolioId::from_uuid(Uuid::now_v7());
            let team = team(n);
            let command = Command::CreatePortfolio {
                portfolio_id: id,
                client: ClientName::parse(&format!("Bench client {n}"))?,
                team,
                cadence,
                refresh_date,
            };
            service
                .execute(CommandRequest::new(id, command, Actor::admin(ADMIN)))
                .await?;
            Ok(Bench { id, team })
        })
        .buffer_unordered(8)
        .collect()
        .await;
    created.into_iter().collect()
}

/// A ~200-byte note, as an Account Manager logs one.
pub fn note(sequence: u64) -> Result<NoteText, freshet_domain::InvalidValue> {
    NoteText::parse(&format!(
        "Call {sequence}: client sent new assets, keep the brand voice."
    ))
}

fn service_on(store: Arc<dyn EventStore>) -> CommandService {
    CommandService::new(store, Arc::new(SystemClock), ProcessConfig::default())
}

/// `clients` clients logging notes, each on its own portfolios in turn.
async fn log_notes(
    service: &CommandService,
    portfolios: Arc<Vec<Bench>>,
    clients: usize,
    limits: Limits,
    run: u32,
    events: Arc<AtomicU64>,
) -> Outcome {
    let service = service.clone();
    closed_loop(clients, limits, move |client, sequence| {
        let service = service.clone();
        let portfolios = Arc::clone(&portfolios);
        let events = Arc::clone(&events);
        async move {
            let own = sequence as usize / clients;
            let bench = portfolios[client * PORTFOLIOS_PER_CLIENT + own % PORTFOLIOS_PER_CLIENT];
            let command = Command::LogPortfolioNote {
                text: note(sequence).map_err(|e| e.to_string())?,
            };
            let request =
                CommandRequest::new(bench.id, command, Actor::user(bench.team.account_manager))
                    .with_idempotency_key(format!("bench-{clients}-{run}-{sequence}"));
            let outcome = service.execute(request).await.map_err(|e| e.to_string())?;
            events.fetch_add(outcome.events.len() as u64, Ordering::Relaxed);
            Ok::<(), String>(())
        }
    })
    .await
}

fn freshet_sample(outcome: Outcome, events: u64, conflicts: u64) -> Sample {
    let ops = outcome.ops.max(1) as f64;
    Sample::new(outcome.per_second())
        .with("events_per_command", events as f64 / ops)
        .with("retries_per_command", conflicts as f64 / ops)
        .with("failed", outcome.errors as f64)
        .with_latencies(outcome.latencies)
}

fn baseline_sample(outcome: Outcome) -> Sample {
    outcome.into_sample()
}

pub async fn run(ctx: &Ctx, report: &mut Report, target: Target) -> Result<()> {
    eprintln!("== commands on {}", target.name());
    let db = ctx.fresh(target, "commands").await?;
    let peer = match target {
        Target::Postgres => Some(peer_database(ctx).await?),
        Target::Sqlite => None,
    };
    let counting = CountingStore::new(db.event_store().await?);
    let service = service_on(counting.clone());
    let limits = Limits {
        duration: ctx.args.load_duration(),
        max_ops: 50_000_000,
    };
    for clients in [1usize, 8] {
        let mut figure = Figure::new(
            SCENARIO,
            format!("LogPortfolioNote, {clients} client(s), distinct portfolios"),
            target.name(),
            "commands/s",
        )
        .baseline(format!("INSERT 1 row/tx, {clients} client(s)"));
        let mut versus_peer = Figure::new(
            SCENARIO,
            format!("LogPortfolioNote against the peer, {clients} client(s)"),
            target.name(),
            "commands/s",
        )
        .baseline(format!(
            "peer: cqrs-es + postgres-es, 1 event/command, {clients} client(s)"
        ));
        figure = match (target, clients) {
            (Target::Postgres, 8) => {
                versus_peer =
                    versus_peer.goal(Goal::new("≥ 3× the peer", vec![Check::RatioAtLeast(3.0)]));
                figure.goal(Goal::new(
                    "≥ 100% of baseline, p99 < 5 ms",
                    vec![Check::RatioAtLeast(1.0), Check::P99Below(5.0)],
                ))
            }
            (Target::Postgres, _) => figure.goal(Goal::new(
                "≥ 75% of baseline",
                vec![Check::RatioAtLeast(0.75)],
            )),
            (Target::Sqlite, _) => figure.goal(Goal::new(
                "≥ 50% of plain inserts",
                vec![Check::RatioAtLeast(0.5)],
            )),
        };
        for run in 0..ctx.args.runs {
            let portfolios = Arc::new(
                create_portfolios(&service, clients * PORTFOLIOS_PER_CLIENT)
                    .await
                    .context("cannot create the benchmark's portfolios")?,
            );
            counting.take_conflicts();
            let events = Arc::new(AtomicU64::new(0));
            let outcome = log_notes(
                &service,
                portfolios,
                clients,
                limits,
                run,
                Arc::clone(&events),
            )
            .await;
            let sample = freshet_sample(
                outcome,
                events.load(Ordering::Relaxed),
                counting.take_conflicts(),
            );
            eprintln!(
                "  {clients} client(s) run {run}: Freshet {:.0}/s",
                sample.value
            );
            versus_peer.push_freshet(sample.clone());
            figure.push_freshet(sample);
            let outcome = baseline::single_row_inserts(&db, clients, limits).await;
            eprintln!(
                "  {clients} client(s) run {run}: baseline {:.0}/s",
                outcome.per_second()
            );
            figure.push_baseline(baseline_sample(outcome));
            if let Some(pool) = &peer {
                let outcome = peer::log_notes(pool, clients, limits).await;
                eprintln!(
                    "  {clients} client(s) run {run}: peer {:.0}/s",
                    outcome.per_second()
                );
                versus_peer.push_baseline(baseline_sample(outcome));
            }
        }
        report.add(&figure);
        if peer.is_some() {
            report.add(&versus_peer);
        }
    }
    if let Database::Postgres(pool) = &db {
        // What bounds an append with this schema: the row and its four index entries.
        let mut bound = Figure::new(
            SCENARIO,
            "bound: INSERT 1 row/tx into the events table (its 4 indexes), 8 clients",
            target.name(),
            "rows/s",
        )
        .baseline("INSERT 1 row/tx, 8 client(s)");
        for run in 0..ctx.args.runs {
            let outcome = baseline::event_row_inserts(pool, 8, limits).await;
            eprintln!("  events-table run {run}: {:.0}/s", outcome.per_second());
            bound.push_freshet(baseline_sample(outcome));
            let outcome = baseline::single_row_inserts(&db, 8, limits).await;
            bound.push_baseline(baseline_sample(outcome));
        }
        report.add(&bound);
        // And with the idempotency key's row every command of the scenario stores too.
        let mut keyed = Figure::new(
            SCENARIO,
            "bound: INSERT the event row and its idempotency key's row, 1 statement/tx, \
             8 clients",
            target.name(),
            "commands/s",
        )
        .baseline("INSERT 1 row/tx, 8 client(s)");
        for run in 0..ctx.args.runs {
            let outcome = baseline::keyed_event_row_inserts(pool, 8, limits).await;
            eprintln!(
                "  keyed events-table run {run}: {:.0}/s",
                outcome.per_second()
            );
            keyed.push_freshet(baseline_sample(outcome));
            let outcome = baseline::single_row_inserts(&db, 8, limits).await;
            keyed.push_baseline(baseline_sample(outcome));
        }
        report.add(&keyed);
        group_commit_limit(ctx, report, &db, pool, limits).await;
    }
    let contended = contention(ctx, report, target, &db, &service, &counting, limits).await;
    if peer.is_some() && !ctx.args.keep_database {
        ctx.pg()?.drop_beside(PEER_DATABASE).await?;
    }
    contended
}

/// The suffix of the peer's own database, beside the scratch one.
const PEER_DATABASE: &str = "peer";

/// The peer's database, created empty with its tables (none of Freshet's).
async fn peer_database(ctx: &Ctx) -> Result<sqlx::PgPool> {
    let pool = ctx.pg()?.recreate_beside(PEER_DATABASE).await?;
    peer::create_tables(&pool)
        .await
        .context("cannot create the peer's tables")?;
    Ok(pool)
}

/// What committing several commands per transaction could reach at most: plain multi-row
/// inserts of the same rows, one statement per transaction, for each `--batch-sizes`.
async fn group_commit_limit(
    ctx: &Ctx,
    report: &mut Report,
    db: &Database,
    pool: &sqlx::PgPool,
    limits: Limits,
) {
    const CLIENTS: usize = 8;
    for rows in ctx.args.batch_sizes.iter().copied().map(usize::from) {
        let mut limit = Figure::new(
            SCENARIO,
            format!(
                "limit of group commit: INSERT {rows} rows/tx in one statement, {CLIENTS} \
                 clients (latency per transaction)"
            ),
            Target::Postgres.name(),
            "rows/s",
        )
        .baseline(format!("INSERT 1 row/tx, {CLIENTS} client(s)"));
        for run in 0..ctx.args.runs {
            let outcome = baseline::multi_row_inserts(pool, CLIENTS, rows, limits).await;
            let per_second = outcome.per_second() * rows as f64;
            eprintln!("  {rows} rows/tx run {run}: {per_second:.0} rows/s");
            let mut sample = outcome.into_sample();
            sample.value = per_second;
            limit.push_freshet(sample.with("rows_per_transaction", rows as f64));
            let outcome = baseline::single_row_inserts(db, CLIENTS, limits).await;
            limit.push_baseline(baseline_sample(outcome));
        }
        report.add(&limit);
    }
}

/// A portfolio in its cycle with an Ad Set of `tickets` tickets in progress.
async fn ad_set(service: &CommandService, tickets: u32) -> Result<(Bench, Vec<TicketId>)> {
    let id = PortfolioId::from_uuid(Uuid::now_v7());
    let team = team(7);
    let bench = Bench { id, team };
    let send = |actor: Actor, command: Command| async move {
        service
            .execute(CommandRequest::new(id, command, actor))
            .await
            .with_context(|| format!("cannot set up the contended Ad Set ({})", actor_name(actor)))
    };
    send(
        Actor::admin(ADMIN),
        Command::CreatePortfolio {
            portfolio_id: id,
            client: ClientName::parse("Contended client")?,
            team,
            cadence: Cadence::new(1, CadenceUnit::Months)?,
            refresh_date: today() + Days::new(10),
        },
    )
    .await?;
    send(Actor::System, Command::Tick).await?;
    send(
        Actor::user(team.account_manager),
        Command::RequestRefresh {
            note: Some(note(0)?),
        },
    )
    .await?;
    let first = TicketId::from_uuid(Uuid::now_v7());
    send(
        Actor::user(team.social_ad_specialist),
        Command::CreateTicket {
            ticket_id: first,
            title: TicketTitle::parse("Deliverable 1")?,
            folder: FolderName::parse("Contended set")?,
            deliverables: DeliverableCount::new(tickets)?,
        },
    )
    .await?;
    let mut ids = vec![first];
    for n in 2..=tickets {
        let ticket_id = TicketId::from_uuid(Uuid::now_v7());
        send(
            Actor::user(team.social_ad_specialist),
            Command::CloneTicket {
                ticket_id,
                source: first,
                title: TicketTitle::parse(&format!("Deliverable {n}"))?,
                folder: None,
                deliverables: None,
            },
        )
        .await?;
        ids.push(ticket_id);
    }
    Ok((bench, ids))
}

fn actor_name(actor: Actor) -> &'static str {
    match actor {
        Actor::System => "scheduler",
        Actor::User { admin: true, .. } => "admin",
        Actor::User { .. } => "team member",
    }
}

/// 8 clients retitling their own ticket of one Ad Set: every command contends for the same
/// stream, so conflicts (and `CommandService`'s retries) are counted.
async fn contention(
    ctx: &Ctx,
    report: &mut Report,
    target: Target,
    db: &Database,
    service: &CommandService,
    counting: &CountingStore,
    limits: Limits,
) -> Result<()> {
    const CLIENTS: usize = 8;
    let mut figure = Figure::new(
        SCENARIO,
        "EditTicket, 8 clients on one Ad Set (contention)",
        target.name(),
        "commands/s",
    )
    .baseline("INSERT 1 row/tx, 8 client(s)");
    if target == Target::Postgres {
        figure = figure.goal(Goal::new(
            "≥ 50% of baseline",
            vec![Check::RatioAtLeast(0.5)],
        ));
    }
    for run in 0..ctx.args.runs {
        let (bench, tickets) = ad_set(service, CLIENTS as u32).await?;
        let tickets = Arc::new(tickets);
        counting.take_conflicts();
        let events = Arc::new(AtomicU64::new(0));
        let outcome = {
            let service = service.clone();
            let events = Arc::clone(&events);
            closed_loop(CLIENTS, limits, move |client, sequence| {
                let service = service.clone();
                let tickets = Arc::clone(&tickets);
                let events = Arc::clone(&events);
                async move {
                    let title =
                        TicketTitle::parse(&format!("Deliverable {client} take {sequence}"))
                            .map_err(|e| e.to_string())?;
                    let command = Command::EditTicket {
                        ticket_id: tickets[client],
                        title: Some(title),
                        folder: None,
                        deliverables: None,
                    };
                    let request = CommandRequest::new(
                        bench.id,
                        command,
                        Actor::user(bench.team.social_ad_specialist),
                    )
                    .with_idempotency_key(format!("contention-{run}-{sequence}"));
                    let outcome = service.execute(request).await.map_err(|e| e.to_string())?;
                    events.fetch_add(outcome.events.len() as u64, Ordering::Relaxed);
                    Ok::<(), String>(())
                }
            })
            .await
        };
        let sample = freshet_sample(
            outcome,
            events.load(Ordering::Relaxed),
            counting.take_conflicts(),
        );
        eprintln!(
            "  contention run {run}: Freshet {:.0}/s, {:.2} retries/command",
            sample.value,
            sample
                .extra
                .get("retries_per_command")
                .copied()
                .unwrap_or(0.0)
        );
        figure.push_freshet(sample);
        let outcome = baseline::single_row_inserts(db, CLIENTS, limits).await;
        figure.push_baseline(baseline_sample(outcome));
    }
    report.add(&figure);
    Ok(())
}
