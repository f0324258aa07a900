//! Scenarios 4 and 7: inbox queries over HTTP against the real router (`freshet_api::router`)
//! served by a child process (this binary's hidden `serve-api`, so its peak memory is the
//! server's alone), with a bounded keep-alive client loop; against the same query run
//! directly on the database (`inbox::list`, no HTTP).

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use freshet_accounts::users;
use freshet_api::{ApiOptions, AppState, router_with};
use freshet_domain::UserId;
use freshet_follower::{Runner, RunnerConfig};
use freshet_projections::inbox::{self, InboxFilter};
use freshet_projections::{Live, ReadModelConfig, all_projections};
use freshet_service::{CommandService, ProcessConfig, SystemClock};
use freshet_store::Database;
use secrecy::ExposeSecret as _;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

use super::{Ctx, Target};
use crate::cpu::memory_mib;
use crate::drive::{Limits, closed_loop};
use crate::generate;
use crate::report::{Check, Figure, Goal, Report, Sample};

const SCENARIO: &str = "http";
const PAGE: u32 = 20;

/// The child process: the API (and the live projections, as `freshet serve` runs them) on
/// `url`, until its standard input closes.
pub async fn serve(url: &str, listen: std::net::SocketAddr) -> Result<()> {
    let db = Database::connect(url).await?;
    db.migrate().await?;
    let store = db.event_store().await?;
    let service = CommandService::new(
        Arc::clone(&store),
        Arc::new(SystemClock),
        ProcessConfig::default(),
    );
    let runner = Arc::new(Runner::new(
        db.clone(),
        Arc::clone(&store),
        RunnerConfig::default(),
    ));
    let workers: Vec<_> = all_projections(&store, ReadModelConfig::default())
        .into_iter()
        .map(|projection| runner.spawn(Arc::new(Live(projection))))
        .collect();
    let state = AppState::new(service, db, runner, ApiOptions::default());
    let listener = tokio::net::TcpListener::bind(listen).await?;
    println!("listening on {}", listener.local_addr()?);
    let stdin_closed = async {
        let mut sink = Vec::new();
        let _ = tokio::io::stdin().read_to_end(&mut sink).await;
    };
    axum::serve(listener, router_with(state, freshet_web::pages()))
        .with_graceful_shutdown(stdin_closed)
        .await?;
    for worker in workers {
        worker.abort();
    }
    Ok(())
}

struct Server {
    child: Child,
    address: String,
    pid: String,
}

async fn start_server(url: &str) -> Result<Server> {
    let exe = std::env::current_exe().context("cannot find this benchmark's binary")?;
    let mut child = Command::new(exe)
        .args([
            "serve-api",
            "--database-url",
            url,
            "--listen",
            "127.0.0.1:0",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start the API server")?;
    let pid = child.id().context("the server exited at once")?.to_string();
    let stdout = child.stdout.take().context("no server output")?;
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .context("the server did not start within a minute")??
        .context("the server exited before listening")?;
    let Some(address) = line.strip_prefix("listening on ") else {
        bail!("unexpected server output: {line}");
    };
    Ok(Server {
        address: address.to_owned(),
        child,
        pid,
    })
}

pub async fn run(ctx: &Ctx, report: &mut Report) -> Result<()> {
    let tasks = ctx.args.http_tasks;
    let portfolios = ctx.args.portfolios;
    eprintln!("== HTTP inbox queries over {portfolios} portfolios and {tasks} tasks");
    let db = ctx.fresh(Target::Postgres, "http").await?;
    super::rebuild::seed_log(&db, portfolios, u64::MAX, tasks).await?;
    let store = db.event_store().await?;
    let runner = Runner::new(db.clone(), Arc::clone(&store), RunnerConfig::default());
    // Every read model current, as on a server that has been running: the server's own
    // runners then only follow new events.
    for projection in all_projections(&store, ReadModelConfig::default()) {
        runner.catch_up(&Live(projection)).await?;
    }
    let (_, token) = users::add(&db, "Bench admin", "bench-admin@example.com", true, None).await?;
    let token = token.secret.expose_secret().to_owned();
    let people: Arc<Vec<UserId>> = Arc::new(
        (1..=5)
            .flat_map(|role| generate::people(role, portfolios))
            .collect(),
    );
    let url = ctx
        .args
        .database_url
        .clone()
        .context("needs --database-url")?;
    let server = start_server(&url).await?;
    eprintln!("  server pid {} on {}", server.pid, server.address);

    let connections = ctx.args.http_connections.max(1);
    let limits = Limits {
        duration: ctx.args.load_duration().max(Duration::from_secs(5)),
        max_ops: 10_000_000,
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .timeout(Duration::from_secs(10))
        .build()?;
    let mut figure = Figure::new(
        SCENARIO,
        format!("GET /inbox?assignee=…&open=true&limit={PAGE}, {connections} connections"),
        Target::Postgres.name(),
        "requests/s",
    )
    .baseline(format!(
        "inbox::list on the pool, no HTTP, {connections} clients"
    ))
    .goal(Goal::new(
        "≥ 80% of its baseline, p99 < 10 ms",
        vec![Check::RatioAtLeast(0.8), Check::P99Below(10.0)],
    ));
    let mut memory = Figure::new(
        "memory",
        "server peak RSS (VmHWM) during the HTTP load",
        Target::Postgres.name(),
        "MiB",
    )
    .lower_is_better()
    .goal(Goal::new("< 100 MB", vec![Check::AtMost(100.0)]));
    for run in 0..ctx.args.runs {
        let outcome = {
            let client = client.clone();
            let people = Arc::clone(&people);
            let base = format!("http://{}/inbox", server.address);
            let auth = format!("Bearer {token}");
            closed_loop(connections, limits, move |_, sequence| {
                let person = people[(sequence as usize * 7919) % people.len()];
                let request = client
                    .get(&base)
                    .query(&[
                        ("assignee", person.to_string()),
                        ("open", "true".to_owned()),
                        ("limit", PAGE.to_string()),
                    ])
                    .header("authorization", &auth);
                async move {
                    let response = request.send().await.map_err(|e| e.to_string())?;
                    let status = response.status();
                    let body = response.bytes().await.map_err(|e| e.to_string())?;
                    if !status.is_success() {
                        return Err(format!("{status}: {}", String::from_utf8_lossy(&body)));
                    }
                    Ok(())
                }
            })
            .await
        };
        let (peak, rss) = memory_mib(&server.pid).unwrap_or((f64::NAN, f64::NAN));
        eprintln!(
            "  run {run}: {:.0} requests/s, p99 {:.2} ms, {} failed; server peak {peak:.0} MiB",
            outcome.per_second(),
            outcome.latencies.quantile_ms(0.99).unwrap_or(f64::NAN),
            outcome.errors
        );
        figure.push_freshet(outcome.into_sample());
        memory.push_freshet(Sample::new(peak).with("rss_after_run_mib", rss));

        let outcome = {
            let db = db.clone();
            let people = Arc::clone(&people);
            closed_loop(connections, limits, move |_, sequence| {
                let db = db.clone();
                let person = people[(sequence as usize * 7919) % people.len()];
                async move {
                    let filter = InboxFilter {
                        assignee: Some(person),
                        open: Some(true),
                        limit: PAGE,
                        ..InboxFilter::default()
                    };
                    let rows = inbox::list(&db, &filter).await?;
                    std::hint::black_box(rows);
                    Ok::<(), sqlx::Error>(())
                }
            })
            .await
        };
        figure.push_baseline(outcome.into_sample());
    }
    let my_work = my_work(&db, &server, &client, &people, connections, limits, ctx).await?;
    let mut child = server.child;
    drop(child.stdin.take());
    if tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .is_err()
    {
        child.kill().await.ok();
    }
    report.add(&figure);
    report.add(&my_work);
    report.add(&memory);
    Ok(())
}

/// How many of the generated people sign in to the web app in the My work figure.
const WEB_PEOPLE: usize = 50;

/// The web app's My work page (every open task of the person, grouped, with its forms),
/// over HTTP, against its own query on the pool (`inbox::list` of up to a thousand tasks,
/// no HTTP, no HTML).
async fn my_work(
    db: &Database,
    server: &Server,
    client: &reqwest::Client,
    people: &Arc<Vec<UserId>>,
    connections: usize,
    limits: Limits,
    ctx: &Ctx,
) -> Result<Figure> {
    // The people with the most open tasks: the page's worst case.
    let mut busiest = Vec::new();
    for person in people
        .iter()
        .step_by((people.len() / (WEB_PEOPLE * 4)).max(1))
    {
        let open = InboxFilter {
            assignee: Some(*person),
            open: Some(true),
            limit: MY_WORK_TASKS,
            ..InboxFilter::default()
        };
        busiest.push((inbox::list(db, &open).await?.len(), *person));
    }
    busiest.sort_unstable_by(|a, b| b.cmp(a));
    busiest.truncate(WEB_PEOPLE);
    let most = busiest.first().map_or(0, |(tasks, _)| *tasks);
    let mut tokens = Vec::new();
    for (n, (_, person)) in busiest.iter().enumerate() {
        users::add_with_id(
            db,
            *person,
            &format!("Person {n}"),
            &format!("p{n}@bench.example"),
        )
        .await?;
        let issued = freshet_accounts::tokens::issue(db, *person, "bench", None).await?;
        tokens.push((*person, format!("Bearer {}", issued.secret.expose_secret())));
    }
    let tokens = Arc::new(tokens);
    let mut figure = Figure::new(
        SCENARIO,
        format!("GET /app/ (My work, up to {most} tasks a person), {connections} connections"),
        Target::Postgres.name(),
        "pages/s",
    )
    .baseline(format!(
        "inbox::list of the same person's open tasks on the pool, no HTTP, {connections} clients"
    ))
    .goal(Goal::new(
        "renders in a few milliseconds: p99 < 10 ms, ≥ 50% of its query alone",
        vec![Check::P99Below(10.0), Check::RatioAtLeast(0.5)],
    ));
    for run in 0..ctx.args.runs {
        let outcome = {
            let (client, tokens) = (client.clone(), Arc::clone(&tokens));
            let page = format!("http://{}/app/", server.address);
            closed_loop(connections, limits, move |_, sequence| {
                let (_, auth) = &tokens[sequence as usize % tokens.len()];
                let request = client.get(&page).header("authorization", auth);
                async move {
                    let response = request.send().await.map_err(|e| e.to_string())?;
                    let status = response.status();
                    let body = response.text().await.map_err(|e| e.to_string())?;
                    if !status.is_success() || !body.contains("<h1>My work</h1>") {
                        return Err(format!(
                            "{status}: {}",
                            body.chars().take(200).collect::<String>()
                        ));
                    }
                    Ok(())
                }
            })
            .await
        };
        eprintln!(
            "  My work run {run}: {:.0} pages/s, p99 {:.2} ms, {} failed",
            outcome.per_second(),
            outcome.latencies.quantile_ms(0.99).unwrap_or(f64::NAN),
            outcome.errors
        );
        figure.push_freshet(outcome.into_sample());
        let outcome = {
            let (db, tokens) = (db.clone(), Arc::clone(&tokens));
            closed_loop(connections, limits, move |_, sequence| {
                let db = db.clone();
                let (person, _) = tokens[sequence as usize % tokens.len()];
                async move {
                    let filter = InboxFilter {
                        assignee: Some(person),
                        open: Some(true),
                        limit: MY_WORK_TASKS,
                        ..InboxFilter::default()
                    };
                    std::hint::black_box(inbox::list(&db, &filter).await?);
                    Ok::<(), sqlx::Error>(())
                }
            })
            .await
        };
        figure.push_baseline(outcome.into_sample());
    }
    Ok(figure)
}

/// The most tasks My work lists (as `freshet_web` does).
const MY_WORK_TASKS: u32 = 1_000;
