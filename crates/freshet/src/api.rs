//! The HTTP side of `serve`, and the CLI's user commands, on top of `freshet-api`.

use std::sync::Arc;

use anyhow::{Context as _, Result};
use freshet_api::{ApiOptions, AppState, ServerOptions, metrics_router, users};
use freshet_domain::UserId;
use freshet_mail::Directory;
use freshet_projections::inbox::{self, InboxFilter};
use secrecy::ExposeSecret as _;
use tokio_util::sync::CancellationToken;

use crate::cli::{Common, ServeArgs, UsersCommand};
use crate::core::Core;

/// Email addresses come from the users table.
pub fn directory(core: &Core) -> Arc<dyn Directory> {
    Arc::new(users::UserDirectory::new(core.db.clone()))
}

pub async fn serve(core: &Core, args: &ServeArgs, shutdown: CancellationToken) -> Result<()> {
    let limits = &args.limits;
    let count = |n: u32| usize::try_from(n).unwrap_or(usize::MAX);
    let options = ApiOptions {
        read_models: core.read_models,
        request_timeout: limits.request_timeout,
        max_concurrent_requests: count(limits.max_concurrent_requests),
        max_streams: count(limits.max_streams),
        max_streams_per_user: count(limits.max_streams_per_user),
        auth_failure_limit: limits.auth_failure_limit,
        auth_failure_window: limits.auth_failure_window,
        trust_forwarded_for: limits.trust_forwarded_for,
        ..ApiOptions::default()
    };
    let state = AppState::new(
        core.service.clone(),
        core.db.clone(),
        Arc::clone(&core.runner),
        options,
    );
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let metrics_listener = tokio::net::TcpListener::bind(args.metrics_listen)
        .await
        .with_context(|| format!("cannot serve metrics on {}", args.metrics_listen))?;
    tracing::info!(address = %args.listen, metrics = %args.metrics_listen, "API listening; docs at /docs");
    let metrics = axum::serve(metrics_listener, metrics_router(state.clone()))
        .with_graceful_shutdown(shutdown.clone().cancelled_owned());
    let server = ServerOptions {
        header_read_timeout: limits.header_read_timeout,
        shutdown_grace: limits.shutdown_grace,
    };
    let api = freshet_api::serve(listener, state, server, shutdown.cancelled_owned());
    let ((), metrics) = tokio::join!(api, metrics);
    metrics.context("the metrics server failed")
}

/// The operator's user commands. Their actor is recorded as the command line (no user).
pub async fn users(common: &Common, command: UsersCommand) -> Result<()> {
    let core = Core::open_now(common).await?;
    let db = &core.db;
    match command {
        UsersCommand::Add { name, email, admin } => {
            let (user, token) = users::add(db, &name, &email, admin, None).await?;
            println!(
                "user {} ({}) added{}",
                user.id,
                user.email,
                if admin { " as an Admin" } else { "" }
            );
            println!("token (shown once): {}", token.secret.expose_secret());
            println!("token id: {}", token.info.id);
        }
        UsersCommand::List => {
            println!(
                "{:<36}  {:<30}  {:<5}  {:<20}  {:<36}  deactivated",
                "id", "email", "admin", "created", "created by"
            );
            for user in users::list(db).await? {
                println!(
                    "{:<36}  {:<30}  {:<5}  {:<20}  {:<36}  {}",
                    user.id,
                    user.email,
                    if user.admin { "yes" } else { "" },
                    minute(Some(user.created_at)),
                    actor(user.created_by),
                    match user.deactivated_at {
                        Some(at) =>
                            format!("{} by {}", minute(Some(at)), actor(user.deactivated_by)),
                        None => String::new(),
                    }
                );
            }
        }
        UsersCommand::Tokens { user } => {
            let user = find_user(db, &user).await?;
            println!(
                "{:<36}  {:<20}  {:<20}  {:<36}  {:<20}  revoked",
                "id", "label", "created", "created by", "last used"
            );
            for token in users::tokens(db, user).await? {
                println!(
                    "{:<36}  {:<20}  {:<20}  {:<36}  {:<20}  {}",
                    token.id,
                    token.label,
                    minute(Some(token.created_at)),
                    actor(token.created_by),
                    minute(token.last_used_at),
                    match token.revoked_at {
                        Some(at) => format!("{} by {}", minute(Some(at)), actor(token.revoked_by)),
                        None => String::new(),
                    }
                );
            }
        }
        UsersCommand::Revoke { token } => {
            users::revoke_token(db, token, None).await?;
            println!("token {token} revoked");
        }
        UsersCommand::Deactivate { user } => {
            let user = find_user(db, &user).await?;
            let done = users::deactivate(db, user, None).await?;
            println!(
                "user {} ({}) deactivated; {} token(s) revoked",
                done.user.id, done.user.email, done.revoked_tokens
            );
            let filter = InboxFilter {
                assignee: Some(user),
                open: Some(true),
                limit: 1000,
                ..InboxFilter::default()
            };
            let open = inbox::list(db, &filter).await?;
            if !open.is_empty() {
                println!(
                    "{} open task(s) to move (change the portfolio's team):",
                    open.len()
                );
                for task in open {
                    println!(
                        "  portfolio {}  {}  {}",
                        task.portfolio_id, task.kind, task.title
                    );
                }
            }
        }
    }
    Ok(())
}

/// A user named by id or email address.
async fn find_user(db: &freshet_store::Database, named: &str) -> Result<UserId> {
    if let Ok(id) = named.parse::<uuid::Uuid>() {
        return Ok(UserId::from_uuid(id));
    }
    users::list(db)
        .await?
        .into_iter()
        .find(|user| user.email.eq_ignore_ascii_case(named))
        .map(|user| user.id)
        .with_context(|| format!("no user with the id or email address \"{named}\""))
}

fn minute(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map(|at| at.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

fn actor(by: Option<UserId>) -> String {
    by.map_or_else(|| "command line".to_owned(), |id| id.to_string())
}

/// The labels of the tokens the demo gives its people (the first start's, and later ones').
const DEMO_TOKEN_LABELS: [&str; 2] = ["initial", "demo"];

/// The demo's people: created on the first start, given a fresh token on every start; the
/// tokens earlier starts printed are revoked (others, issued by an Admin, are kept).
pub async fn demo_user(
    core: &Core,
    name: &str,
    email: &str,
    admin: bool,
) -> Result<(UserId, String)> {
    let existing = users::list(&core.db)
        .await?
        .into_iter()
        .find(|user| user.email == email);
    match existing {
        Some(user) => {
            for token in users::tokens(&core.db, user.id).await? {
                if token.revoked_at.is_none() && DEMO_TOKEN_LABELS.contains(&token.label.as_str()) {
                    users::revoke_token(&core.db, token.id, None).await?;
                }
            }
            let token = users::issue_token(&core.db, user.id, "demo", None).await?;
            Ok((user.id, token.secret.expose_secret().to_owned()))
        }
        None => {
            let (user, token) = users::add(&core.db, name, email, admin, None).await?;
            Ok((user.id, token.secret.expose_secret().to_owned()))
        }
    }
}
