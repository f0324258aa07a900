//! The emails that carry a one-time link: an Admin invites a person (a new user, without a
//! password, and an invitation to choose one), and a person who forgot their password asks
//! for a reset. The link and its email are written in one transaction, the email through
//! the mail outbox, so an invitation that was answered "sent" is never lost.

use chrono::{DateTime, TimeDelta, Utc};
use freshet_domain::{EmailId, UserId};
use freshet_mail::{AccountMessageKind, NewAccountMessage, Renderer, outbox};
use freshet_store::{Database, Tx};
use secrecy::ExposeSecret as _;
use uuid::Uuid;

use crate::AccountError;
use crate::credentials::user_by_email;
use crate::links::{self, LinkPurpose, NewLink};
use crate::users::{self, User};

/// At most this many reset emails per person per [`RESET_WINDOW`]: asking again and again
/// cannot flood someone's mailbox.
const RESETS_PER_WINDOW: i64 = 3;
const RESET_WINDOW: TimeDelta = TimeDelta::hours(1);
/// "Invite again" within this long of the last invitation sends nothing: a second click, or
/// a second Admin at once, would end the link that is on its way with a new one.
pub const INVITE_AGAIN_AFTER: TimeDelta = TimeDelta::minutes(1);

/// An invitation sent: who was invited, and until when the link works.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub user: User,
    pub expires_at: DateTime<Utc>,
}

/// Creates a person and emails them an invitation to choose their password. `by`: the
/// inviting Admin (`None`: the command line).
#[tracing::instrument(skip_all)]
pub async fn invite(
    db: &Database,
    renderer: &Renderer,
    name: &str,
    email: &str,
    admin: bool,
    by: Option<UserId>,
    now: DateTime<Utc>,
) -> Result<Invitation, AccountError> {
    let mut tx = Tx::begin(db).await?;
    let id = UserId::from_uuid(Uuid::now_v7());
    let user = users::insert(&mut tx, id, name, email, admin, by, now).await?;
    let link = links::make(&mut tx, user.id, LinkPurpose::Invitation, by, now).await?;
    send(
        &mut tx,
        renderer,
        &user,
        LinkPurpose::Invitation,
        &link,
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user.id = %user.id, "invited");
    Ok(Invitation {
        user,
        expires_at: link.expires_at,
    })
}

/// Emails a person who has not chosen a password yet a new invitation (the earlier ones
/// stop working): the first was lost, or expired. Within [`INVITE_AGAIN_AFTER`] of the last
/// invitation it is refused ([`AccountError::InvitedMomentsAgo`]) and sends nothing.
pub async fn invite_again(
    db: &Database,
    renderer: &Renderer,
    user: UserId,
    by: Option<UserId>,
    now: DateTime<Utc>,
) -> Result<Invitation, AccountError> {
    let found = users::get(db, user)
        .await?
        .ok_or(AccountError::UnknownUser(user))?;
    let mut tx = Tx::begin(db).await?;
    let last = links::last_made(&mut tx, user, LinkPurpose::Invitation).await?;
    // Read under the person's row lock (taken by `last_made`): a password chosen or a
    // deactivation committed meanwhile is seen, and none can come before this commits.
    users::check_invitable(&mut tx, user).await?;
    if let Some(last) = last
        && now < last + INVITE_AGAIN_AFTER
    {
        // At most the window (a request that waited for the lock may find a later
        // invitation than `now`), in whole seconds rounded up: waiting that long is enough.
        let wait = (last + INVITE_AGAIN_AFTER - now).min(INVITE_AGAIN_AFTER);
        let seconds = wait.num_seconds() + i64::from(wait.subsec_nanos() > 0);
        return Err(AccountError::InvitedMomentsAgo {
            retry_after: TimeDelta::seconds(seconds.max(1)),
        });
    }
    links::end_all(&mut tx, user, now).await?;
    let link = links::make(&mut tx, user, LinkPurpose::Invitation, by, now).await?;
    send(
        &mut tx,
        renderer,
        &found,
        LinkPurpose::Invitation,
        &link,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Invitation {
        user: found,
        expires_at: link.expires_at,
    })
}

/// Someone asks for a password reset for `email`. When it is an active person's address
/// (and they have not asked [`RESETS_PER_WINDOW`] times within the hour) they get a link;
/// otherwise nothing happens. The caller answers the same either way, so the answer does
/// not tell who has an account.
#[tracing::instrument(skip_all)]
pub async fn request_password_reset(
    db: &Database,
    renderer: &Renderer,
    email: &str,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    let Some(user) = user_by_email(db, email).await? else {
        return Ok(());
    };
    if user.deactivated_at.is_some() {
        return Ok(());
    }
    let mut tx = Tx::begin(db).await?;
    let recent = links::count_since(
        &mut tx,
        user.id,
        LinkPurpose::PasswordReset,
        now - RESET_WINDOW,
    )
    .await?;
    if recent >= RESETS_PER_WINDOW {
        tracing::info!(user.id = %user.id, "password reset not sent: asked too often");
        return Ok(());
    }
    let link = links::make(&mut tx, user.id, LinkPurpose::PasswordReset, None, now).await?;
    send(
        &mut tx,
        renderer,
        &user,
        LinkPurpose::PasswordReset,
        &link,
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user.id = %user.id, "password reset sent");
    Ok(())
}

async fn send(
    tx: &mut Tx,
    renderer: &Renderer,
    user: &User,
    purpose: LinkPurpose,
    link: &NewLink,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    let secret = link.secret.expose_secret();
    let (kind, rendered) = match purpose {
        LinkPurpose::Invitation => (
            AccountMessageKind::Invitation,
            renderer.invitation(&user.name, secret, link.expires_at),
        ),
        LinkPurpose::PasswordReset => (
            AccountMessageKind::PasswordReset,
            renderer.password_reset(&user.name, secret, link.expires_at),
        ),
    };
    let message = NewAccountMessage {
        id: EmailId::from_uuid(Uuid::now_v7()),
        recipient: user.id,
        kind,
        rendered: rendered.map_err(AccountError::Mail)?,
        created_at: now,
    };
    outbox::insert_account_message(tx, &message)
        .await
        .map_err(AccountError::Mail)?;
    Ok(())
}
