//! The HTTP side of `serve`, and the CLI's user commands, on top of `freshet-api`.

use std::sync::Arc;

use anyhow::{Context as _, Result};
use freshet_api::{ApiOptions, AppState, router, users};
use freshet_domain::UserId;
use freshet_mail::Directory;
use tokio_util::sync::CancellationToken;

use crate::cli::{Common, ServeArgs, UsersCommand};
use crate::core::Core;

/// Email addresses come from the users table.
pub fn directory(core: &Core) -> Arc<dyn Directory> {
    Arc::new(users::UserDirectory::new(core.db.clone()))
}

pub async fn serve(core: &Core, args: &ServeArgs, shutdown: CancellationToken) -> Result<()> {
    let options = ApiOptions {
        read_models: core.read_models,
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
    tracing::info!(address = %args.listen, "API listening; docs at /docs");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
        .context("the HTTP server failed")
}

pub async fn users(common: &Common, command: UsersCommand) -> Result<()> {
    let core = Core::open_now(common).await?;
    match command {
        UsersCommand::Add { name, email, admin } => {
            let (user, token) = users::add(&core.db, &name, &email, admin).await?;
            println!(
                "user {} ({}) added{}",
                user.id,
                user.email,
                if admin { " as an Admin" } else { "" }
            );
            println!("token (shown once): {token}");
        }
    }
    Ok(())
}

/// The demo's people: created on the first start, given a fresh token on every start.
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
            let (_, token) = users::issue_token(&core.db, user.id, "demo").await?;
            Ok((user.id, token))
        }
        None => {
            let (user, token) = users::add(&core.db, name, email, admin).await?;
            Ok((user.id, token))
        }
    }
}
