//! `freshet serve`: the workers (projections, email outbox and delivery, scheduler) and the
//! HTTP API, in one process or split by `--role`, with a graceful shutdown on SIGTERM/Ctrl-C.

use std::sync::Arc;

use anyhow::{Context as _, Result};
use freshet_accounts::UserDirectory;
use freshet_automation::{DailyDigest, ReadModelDue, Scheduler};
use freshet_mail::{DeliveryWorker, Directory, EmailProcessor, Outbox, Renderer, from_config};
use freshet_projections::{Live, all_projections};
use freshet_service::{Clock, SystemClock};
use secrecy::ExposeSecret as _;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::cli::{Common, Role, ServeArgs};
use crate::core::Core;

pub async fn serve(common: &Common, args: ServeArgs) -> Result<()> {
    let url = common.database_url.expose_secret();
    if url.starts_with("sqlite:") && args.role != Role::All {
        anyhow::bail!(
            "with SQLite, one process does everything: use --role all (or PostgreSQL to split roles)"
        );
    }
    if args.demo && !args.force {
        crate::demo::refuse_unless_private(url, args.listen)?;
    }
    let core = Core::open_now(common).await?;
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    // Email addresses come from the users table.
    let directory: Arc<dyn Directory> = Arc::new(UserDirectory::new(core.db.clone()));
    if args.demo {
        crate::demo::load(&core, args.listen).await?;
    }
    let mut workers = Vec::new();
    if matches!(args.role, Role::Worker | Role::All) {
        workers = start_workers(&core, common, &args, directory, &shutdown)?;
    }
    if matches!(args.role, Role::Api | Role::All) {
        crate::api::serve(&core, common, &args, shutdown.clone()).await?;
    } else {
        tracing::info!("worker running; Ctrl-C or SIGTERM stops it");
        shutdown.cancelled().await;
    }
    shutdown.cancel();
    for worker in workers {
        // Projections stop between batches: an aborted batch rolls back with its checkpoint.
        worker.abort();
        let _ = worker.await;
    }
    tracing::info!("stopped");
    Ok(())
}

fn start_workers(
    core: &Core,
    common: &Common,
    args: &ServeArgs,
    directory: Arc<dyn Directory>,
    shutdown: &CancellationToken,
) -> Result<Vec<JoinHandle<()>>> {
    let mut handles = Vec::new();
    for projection in all_projections(&core.store, core.read_models) {
        handles.push(core.runner.spawn(Arc::new(Live(projection))));
    }
    let mail = crate::mail::config(&args.mail)?;
    let renderer =
        || Renderer::new(common.public_url.clone()).context("cannot load the email templates");
    handles.push(
        core.runner
            .spawn(Arc::new(EmailProcessor::new(renderer()?))),
    );

    let transport = from_config(&mail.delivery).context("cannot set up email delivery")?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let worker = DeliveryWorker::new(
        Outbox::new(core.db.clone()),
        Arc::from(transport),
        directory,
        clock,
        mail.from.clone(),
        mail.retry,
    );
    let stop = shutdown.clone();
    handles.push(tokio::spawn(async move {
        worker.run(stop.cancelled_owned()).await
    }));

    // The digest is written by the scheduler's loop, on the service's clock and calendar.
    let digest = DailyDigest::new(
        core.service.clone(),
        core.db.clone(),
        renderer()?,
        args.digest_time,
    );
    let scheduler = Scheduler::new(core.service.clone(), ReadModelDue::new(core.db.clone()))
        .with_digest(digest);
    let interval = args.tick_interval;
    let stop = shutdown.clone();
    handles.push(tokio::spawn(async move {
        scheduler.run(interval, stop.cancelled_owned()).await
    }));
    // Ended sessions leave the table every ten minutes; every worker may do it, harmlessly.
    let db = core.db.clone();
    let policy = args.sessions.policy()?;
    let stop = shutdown.clone();
    handles.push(tokio::spawn(async move {
        freshet_accounts::sessions::clean_up(db, policy, stop.cancelled_owned()).await
    }));
    // Hourly (or sooner, for a shorter time to live); every worker may run it, harmlessly.
    let service = core.service.clone();
    let every = service
        .config()
        .idempotency_ttl
        .min(std::time::Duration::from_secs(3600));
    let stop = shutdown.clone();
    handles.push(tokio::spawn(async move {
        service
            .run_idempotency_key_expiry(every, stop.cancelled_owned())
            .await
    }));
    tracing::info!(
        projections = freshet_projections::PROJECTION_NAMES.len(),
        tick_interval = ?interval,
        digest_time = %args.digest_time,
        public_url = %common.public_url,
        mail = ?mail.delivery,
        "workers started"
    );
    Ok(handles)
}

async fn cancel_on_signal(token: CancellationToken) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
    token.cancel();
}
