//! Settings: the daily digest on or off, a new password (which signs the person out
//! everywhere else), and the address of their private calendar feed (made anew or stopped).

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use freshet_accounts::passwords::MIN_LENGTH;
use freshet_accounts::{AccountError, Password, credentials, digest, feeds};
use freshet_api::{ApiError, AppState, Credential};
use secrecy::ExposeSecret as _;
use serde::Deserialize;

use crate::Viewer;
use crate::feed::feed_path;
use crate::page::{error_page, render, sentence};
use crate::sign_in::ClientAddress;

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    person: Option<crate::page::Person>,
    email: String,
    daily_digest: bool,
    min_length: usize,
    notice: Option<&'static str>,
    problem: Option<String>,
    /// When the calendar feed's current address was made.
    feed_made: Option<String>,
    /// The feed's address, just made: shown this once.
    feed_url: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct Saved {
    saved: Option<String>,
}

async fn show(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    notice: Option<&'static str>,
    problem: Option<String>,
    feed_url: Option<String>,
) -> Response {
    let daily_digest = match digest::daily_digest(state.db(), viewer.0.id()).await {
        Ok(on) => on.unwrap_or(false),
        Err(error) => return error_page(&ApiError::from(error), viewer.label()),
    };
    let feed_made = match feeds::made_at(state.db(), viewer.0.id()).await {
        Ok(made) => made.map(|at| at.format("%B %-d, %Y").to_string()),
        Err(error) => return error_page(&ApiError::from(error), viewer.label()),
    };
    render(
        status,
        &SettingsPage {
            person: viewer.label(),
            email: viewer.0.user.email.clone(),
            daily_digest,
            min_length: MIN_LENGTH,
            notice,
            problem,
            feed_made,
            feed_url,
        },
    )
}

pub(crate) async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    axum::extract::Query(saved): axum::extract::Query<Saved>,
) -> Response {
    let notice = match saved.saved.as_deref() {
        Some("password") => Some("Your password is changed. You are signed out everywhere else."),
        Some("digest") => Some("Saved."),
        Some("calendar") => Some("Your calendar feed is stopped."),
        _ => None,
    };
    show(&state, &viewer, StatusCode::OK, notice, None, None).await
}

#[derive(Deserialize)]
pub(crate) struct DigestForm {
    /// Present (`on`) when the box is ticked; browsers send nothing for an unticked box.
    daily_digest: Option<String>,
}

pub(crate) async fn set_digest(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<DigestForm>,
) -> Response {
    let on = form.daily_digest.is_some();
    match digest::set_daily_digest(state.db(), viewer.0.id(), on).await {
        Ok(()) => Redirect::to("/app/settings?saved=digest").into_response(),
        Err(error) => error_page(&ApiError::from(error), viewer.label()),
    }
}

#[derive(Deserialize)]
pub(crate) struct PasswordForm {
    current: String,
    password: String,
    confirmation: String,
}

/// Changes the password, knowing the current one. Wrong current passwords count like
/// failed sign-ins (per account and address), so a session left open on a shared computer
/// cannot be used to guess it.
pub(crate) async fn change_password(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientAddress(address): ClientAddress,
    Form(form): Form<PasswordForm>,
) -> Response {
    let refused = |problem: String| {
        show(
            &state,
            &viewer,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(problem),
            None,
        )
    };
    if form.password != form.confirmation {
        return refused("The two new passwords are not the same.".into()).await;
    }
    let password = match Password::parse(&form.password) {
        Ok(password) => password,
        Err(error) => return refused(sentence(&error.to_string())).await,
    };
    let attempt = match state
        .sign_in_failures()
        .attempt(address, &viewer.0.user.email)
    {
        Ok(attempt) => attempt,
        Err(retry_after) => {
            let minutes = retry_after.as_secs().div_ceil(60);
            return refused(format!(
                "Too many wrong passwords. Try again in {minutes} minutes."
            ))
            .await;
        }
    };
    let keep = match viewer.0.credential() {
        Credential::Session { hash } => Some(hash.as_str()),
        Credential::Token { .. } => None,
    };
    let changed = credentials::change_password(
        state.db(),
        viewer.0.id(),
        &form.current,
        &password,
        keep,
        state.now(),
    )
    .await;
    match changed {
        Ok(()) => {
            drop(attempt);
            Redirect::to("/app/settings?saved=password").into_response()
        }
        Err(AccountError::WrongCredentials) => {
            attempt.failed();
            refused("Your current password is not right.".into()).await
        }
        Err(error) => error_page(&ApiError::from(error), viewer.label()),
    }
}

/// A new address for the calendar feed (the old one stops working), shown this once: the
/// page is the answer to the form, not a redirect, so the secret is in no address.
pub(crate) async fn new_feed(State(state): State<AppState>, viewer: Viewer) -> Response {
    match feeds::renew(state.db(), viewer.0.id(), state.now()).await {
        Ok(secret) => {
            let url = state
                .options()
                .public_url
                .link(&feed_path(secret.expose_secret()));
            let notice =
                Some("Here is your new calendar address. Any earlier one no longer works.");
            show(&state, &viewer, StatusCode::OK, notice, None, Some(url)).await
        }
        Err(error) => error_page(&ApiError::from(error), viewer.label()),
    }
}

/// Stops the calendar feed: its address no longer answers.
pub(crate) async fn stop_feed(State(state): State<AppState>, viewer: Viewer) -> Response {
    match feeds::stop(state.db(), viewer.0.id()).await {
        Ok(()) => Redirect::to("/app/settings?saved=calendar").into_response(),
        Err(error) => error_page(&ApiError::from(error), viewer.label()),
    }
}
