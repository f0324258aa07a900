//! The operator's `freshet users ...` commands and the demo's people, on top of
//! `freshet-accounts`.

use anyhow::{Context as _, Result};
use chrono::Utc;
use freshet_accounts::{Password, credentials, invitations, tokens, users};
use freshet_domain::UserId;
use freshet_mail::Renderer;
use freshet_projections::inbox::{self, InboxFilter};
use secrecy::ExposeSecret as _;

use crate::cli::{Common, UsersCommand};
use crate::core::Core;

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
        UsersCommand::Invite { name, email, admin } => {
            let renderer = mail_renderer(common)?;
            let now = Utc::now();
            let invited =
                invitations::invite(db, &renderer, &name, &email, admin, None, now).await?;
            println!(
                "{} <{}> invited{}; the link in their email works until {} UTC",
                invited.user.name,
                invited.user.email,
                if admin { " as an Admin" } else { "" },
                minute(Some(invited.expires_at))
            );
        }
        UsersCommand::InviteAgain { user } => {
            let user = find_user(db, &user).await?;
            let renderer = mail_renderer(common)?;
            let invited = invitations::invite_again(db, &renderer, user, None, Utc::now()).await?;
            println!(
                "{} <{}> invited again; the new link works until {} UTC",
                invited.user.name,
                invited.user.email,
                minute(Some(invited.expires_at))
            );
        }
        UsersCommand::SetPassword { user } => {
            let user = find_user(db, &user).await?;
            let email = users::get(db, user)
                .await?
                .with_context(|| format!("no user {user}"))?
                .email;
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .context("cannot read the password from standard input")?;
            let password = Password::parse(line.trim_end_matches(['\r', '\n']))?;
            credentials::set_password(db, &email, &password, Utc::now()).await?;
            println!("password set for {email}; every session of theirs has ended");
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
            for token in tokens::of_user(db, user).await? {
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
            tokens::revoke(db, token, None).await?;
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

/// The email renderer, whose links start with `--public-url`.
fn mail_renderer(common: &Common) -> Result<Renderer> {
    Renderer::new(common.public_url.clone()).context("cannot load the email templates")
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

/// A demo person's way in: their id, a fresh API token, and a fresh password.
pub struct DemoLogin {
    pub id: UserId,
    pub token: String,
    pub password: String,
}

/// The demo's people: created on the first start, given a fresh token and password on
/// every start; the tokens earlier starts printed are revoked (others, issued by an Admin,
/// are kept), and so are their sessions (a new password ends them).
pub async fn demo_user(
    core: &Core,
    key: &str,
    name: &str,
    email: &str,
    admin: bool,
) -> Result<DemoLogin> {
    let existing = users::list(&core.db)
        .await?
        .into_iter()
        .find(|user| user.email == email);
    let (id, token) = match existing {
        Some(user) => {
            for token in tokens::of_user(&core.db, user.id).await? {
                if token.revoked_at.is_none() && DEMO_TOKEN_LABELS.contains(&token.label.as_str()) {
                    tokens::revoke(&core.db, token.id, None).await?;
                }
            }
            let token = tokens::issue(&core.db, user.id, "demo", None).await?;
            (user.id, token.secret.expose_secret().to_owned())
        }
        None => {
            let (user, token) = users::add(&core.db, name, email, admin, None).await?;
            (user.id, token.secret.expose_secret().to_owned())
        }
    };
    // Short enough to type, random enough that a demo left running is not an open door.
    let suffix: [u8; 4] = rand::random();
    let password = format!("{key}-demo-{}", hex::encode(suffix));
    credentials::set_password(&core.db, email, &Password::parse(&password)?, Utc::now()).await?;
    Ok(DemoLogin {
        id,
        token,
        password,
    })
}
