//! Signing in and out. A sign-in always begins a new session (the session id changes, so
//! one planted before cannot be ridden: no fixation) and ends the one the browser came
//! with; failures count per address and per account (`freshet_api::SignInThrottle`).

use std::convert::Infallible;
use std::net::IpAddr;

use askama::Template;
use axum::Form;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use freshet_accounts::{AccountError, credentials, sessions};
use freshet_api::{ApiError, AppState, client_address};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

use crate::page::{error_page, render};
use crate::viewer::safe_next;

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    person: Option<crate::page::Person>,
    problem: Option<String>,
    email: String,
    next: String,
}

#[derive(Deserialize)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

pub(crate) async fn form(Query(query): Query<NextQuery>) -> Response {
    render(
        StatusCode::OK,
        &SignInPage {
            person: None,
            problem: None,
            email: String::new(),
            next: safe_next(query.next.as_deref()),
        },
    )
}

#[derive(Deserialize)]
pub(crate) struct SignInForm {
    email: String,
    password: String,
    next: Option<String>,
}

/// The address a request came from (see `freshet_api::client_address`).
pub(crate) struct ClientAddress(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        Ok(Self(client_address(
            parts,
            state.options().trust_forwarded_for,
        )))
    }
}

pub(crate) async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let again = |status, problem: String| {
        render(
            status,
            &SignInPage {
                person: None,
                problem: Some(problem),
                email: form.email.clone(),
                next: next.clone(),
            },
        )
    };
    let attempt = match state.sign_in_failures().attempt(address, &form.email) {
        Ok(attempt) => attempt,
        Err(retry_after) => {
            let minutes = retry_after.as_secs().div_ceil(60);
            return again(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "Too many failed attempts. Try again in {minutes} minutes, or reset your password."
                ),
            );
        }
    };
    let options = state.options();
    let signed_in = credentials::sign_in(
        state.db(),
        &form.email,
        &form.password,
        options.sessions,
        state.now(),
    )
    .await;
    match signed_in {
        Ok((_, session)) => {
            drop(attempt);
            if let Err(error) = end_previous(&state, &headers).await {
                tracing::warn!(error = %error, "could not end the session a browser signed in over");
            }
            let cookie = options
                .session_cookie
                .set(session.secret.expose_secret(), session.expires_at);
            ([(SET_COOKIE, cookie)], Redirect::to(&next)).into_response()
        }
        Err(AccountError::WrongCredentials) => {
            attempt.failed();
            again(
                StatusCode::UNAUTHORIZED,
                "That email address and password do not match.".into(),
            )
        }
        Err(error) => error_page(&ApiError::from(error), None),
    }
}

/// Ends the session the browser came with, if any: signing in as someone else leaves
/// nothing of the one before.
async fn end_previous(state: &AppState, headers: &HeaderMap) -> Result<(), AccountError> {
    match state.options().session_cookie.read(headers) {
        Some(previous) => sessions::end(state.db(), &SecretString::from(previous)).await,
        None => Ok(()),
    }
}

/// Ends the session on the server and makes the browser forget its cookie. When the
/// server cannot end it, the person is told so rather than shown a sign-in page that
/// pretends they are out.
pub(crate) async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(error) = end_previous(&state, &headers).await {
        return error_page(&ApiError::from(error), None);
    }
    let cookie = state.options().session_cookie.clear();
    ([(SET_COOKIE, cookie)], Redirect::to("/app/sign-in")).into_response()
}
