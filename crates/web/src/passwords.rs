//! Choosing a password from a one-time link (an invitation, a reset), and asking for a
//! reset. Opening a link's page only looks at the link (mail scanners open links); the
//! form's POST uses it.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Redirect, Response};
use freshet_accounts::passwords::MIN_LENGTH;
use freshet_accounts::{AccountError, LinkPurpose, Password, User, invitations, links};
use freshet_api::{ApiError, AppState};
use secrecy::ExposeSecret as _;
use serde::Deserialize;

use crate::page::{Message, error_page, render, sentence};

#[derive(Template)]
#[template(path = "choose_password.html")]
struct ChoosePassword {
    person: Option<crate::page::Person>,
    invitation: bool,
    name: String,
    email: String,
    action: String,
    min_length: usize,
    problem: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct PasswordForm {
    password: String,
    confirmation: String,
}

pub(crate) async fn invitation_form(state: State<AppState>, secret: Path<String>) -> Response {
    link_form(state, secret, LinkPurpose::Invitation).await
}

pub(crate) async fn reset_form(state: State<AppState>, secret: Path<String>) -> Response {
    link_form(state, secret, LinkPurpose::PasswordReset).await
}

pub(crate) async fn accept_invitation(
    state: State<AppState>,
    secret: Path<String>,
    form: Form<PasswordForm>,
) -> Response {
    use_link(state, secret, form, LinkPurpose::Invitation).await
}

pub(crate) async fn reset(
    state: State<AppState>,
    secret: Path<String>,
    form: Form<PasswordForm>,
) -> Response {
    use_link(state, secret, form, LinkPurpose::PasswordReset).await
}

fn action(purpose: LinkPurpose, secret: &str) -> String {
    match purpose {
        LinkPurpose::Invitation => format!("/app/invitation/{secret}"),
        LinkPurpose::PasswordReset => format!("/app/password-reset/{secret}"),
    }
}

fn choose(
    purpose: LinkPurpose,
    secret: &str,
    user: &User,
    problem: Option<String>,
) -> ChoosePassword {
    ChoosePassword {
        person: None,
        invitation: purpose == LinkPurpose::Invitation,
        name: user.name.clone(),
        email: user.email.clone(),
        action: action(purpose, secret),
        min_length: MIN_LENGTH,
        problem,
    }
}

fn link_gone(purpose: LinkPurpose) -> Response {
    let text = match purpose {
        LinkPurpose::Invitation => {
            "This invitation has expired or has already been used. If you have not chosen a password yet, ask your Admin to invite you again."
        }
        LinkPurpose::PasswordReset => {
            "This link has expired or has already been used. You can ask for a new one."
        }
    };
    Message {
        person: None,
        heading: "This link no longer works",
        text: text.into(),
        link: Some(match purpose {
            LinkPurpose::Invitation => ("/app/sign-in", "Go to sign in"),
            LinkPurpose::PasswordReset => ("/app/password-reset", "Ask for a new link"),
        }),
    }
    .page(StatusCode::NOT_FOUND)
}

async fn link_form(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    purpose: LinkPurpose,
) -> Response {
    match links::holder(state.db(), &secret, purpose, state.now()).await {
        Ok(Some(user)) => render(StatusCode::OK, &choose(purpose, &secret, &user, None)),
        Ok(None) => link_gone(purpose),
        Err(error) => error_page(&ApiError::from(error), None),
    }
}

async fn use_link(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    Form(form): Form<PasswordForm>,
    purpose: LinkPurpose,
) -> Response {
    let now = state.now();
    let refused = |problem: String| async {
        match links::holder(state.db(), &secret, purpose, now).await {
            Ok(Some(user)) => render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &choose(purpose, &secret, &user, Some(problem)),
            ),
            Ok(None) => link_gone(purpose),
            Err(error) => error_page(&ApiError::from(error), None),
        }
    };
    if form.password != form.confirmation {
        return refused("The two passwords are not the same.".into()).await;
    }
    let password = match Password::parse(&form.password) {
        Ok(password) => password,
        Err(error) => return refused(sentence(&error.to_string())).await,
    };
    let policy = state.options().sessions;
    match links::redeem(state.db(), &secret, purpose, &password, policy, now).await {
        Ok((_, session)) => {
            let cookie = state
                .options()
                .session_cookie
                .set(session.secret.expose_secret(), session.expires_at);
            ([(SET_COOKIE, cookie)], Redirect::to("/app/")).into_response()
        }
        Err(AccountError::LinkInvalid) => link_gone(purpose),
        Err(error) => error_page(&ApiError::from(error), None),
    }
}

#[derive(Template)]
#[template(path = "reset_request.html")]
struct ResetRequest {
    person: Option<crate::page::Person>,
    sent_to: Option<String>,
}

pub(crate) async fn reset_request_form() -> Response {
    render(
        StatusCode::OK,
        &ResetRequest {
            person: None,
            sent_to: None,
        },
    )
}

#[derive(Deserialize)]
pub(crate) struct ResetRequestForm {
    email: String,
}

/// Emails a reset link when the address is a person's; answers the same either way, and at
/// once: the lookup and the email happen after the answer, so neither its words nor its
/// timing tell whether the address has an account. (A failure then is logged; the person
/// asks again.)
pub(crate) async fn request_reset(
    State(state): State<AppState>,
    Form(form): Form<ResetRequestForm>,
) -> Response {
    let email = form.email.trim().to_owned();
    let background = state.clone();
    let address = email.clone();
    tokio::spawn(async move {
        let state = background;
        let requested = invitations::request_password_reset(
            state.db(),
            state.mail_renderer(),
            &address,
            state.now(),
        )
        .await;
        if let Err(error) = requested {
            tracing::warn!(error = %error, "a password reset request failed");
        }
    });
    render(
        StatusCode::OK,
        &ResetRequest {
            person: None,
            sent_to: Some(email),
        },
    )
}
